"""`python -m bertdesk CMD ...`: every core capability from the command line, JSON on stdout with --json.

User errors print one line on stderr and exit with code 2; nothing the user did wrong ends in a traceback.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import sys
import traceback
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TextIO

from bertdesk.cli.arguments import EXIT_USER_ERROR, ArgumentParser, model_name, stdin_text
from bertdesk.cli.error_text import error_text
from bertdesk.cli.library_commands import add_library_commands
from bertdesk.cli.model_commands import add_build_commands, add_model_commands
from bertdesk.cli.output import fail, one_line
from bertdesk.cli.screenshot_command import add_screenshot_command
from bertdesk.cli.task_commands import add_task_commands
from bertdesk.cli.text_commands import add_text_commands
from bertdesk.core.errors import BertdeskError, JobCancelled
from bertdesk.core.files import stdout_descriptor_to_stderr

__all__ = ["EXIT_BROKEN_PIPE", "EXIT_INTERNAL_ERROR", "EXIT_INTERRUPTED", "EXIT_USER_ERROR", "build_parser", "main",
           "process_main"]

EXIT_INTERNAL_ERROR = 1  # a bug in bertdesk, not something the user can fix by changing the input
EXIT_INTERRUPTED = 130
EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE: what any Unix tool whose reader went away reports


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand."""
    parser = ArgumentParser(prog="bertdesk", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, func: Callable, help_text: str, model: bool = True) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help_text, description=help_text)
        sub.set_defaults(func=func)
        sub.add_argument("--json", action="store_true", help="print JSON on stdout")
        if model:
            sub.add_argument("--model", type=model_name,
                             help="a bundle folder or an installed bundle's name (default: the default model, "
                                  "installed on first use)")
        return sub

    add_model_commands(command)
    add_text_commands(command)
    add_build_commands(command)
    add_task_commands(command)
    add_screenshot_command(command)
    add_library_commands(command)
    return parser


def process_main(argv: Sequence[str] | None = None) -> int:
    """`main` as a process of its own (`python -m bertdesk`, `bertdesk-cli`): with no window to keep a core free for,
    onnxruntime may use every core unless BERTDESK_THREADS says otherwise."""
    os.environ.setdefault("BERTDESK_THREADS", str(os.cpu_count() or 1))
    return main(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; returns the process exit code.

    Exit codes: 0 done; 2 a user error (one line on stderr); 1 an internal error, a bug (one line naming the log
    that holds the traceback); 130 interrupted; 141 the reader of stdout went away (`| head`).
    """
    _tolerant_streams()
    stdin_text.cache_clear()  # a new run reads its own standard input
    with _stdout_for_results():
        try:
            code = _run(argv)
            sys.stdout.flush()
        except BrokenPipeError:
            _silence(sys.stdout)
            return EXIT_BROKEN_PIPE
        except OSError as exc:  # stdout itself cannot take the result: a full disk, say
            _silence(sys.stdout)
            fail(f"cannot write the output: {exc.strerror or exc}")
            return EXIT_USER_ERROR
    return code


def _run(argv: Sequence[str] | None) -> int:
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exc:  # --help (0) or a usage error (2, already printed)
        return exc.code if isinstance(exc.code, int) else EXIT_USER_ERROR
    return _run_command(args)


def _run_command(args: argparse.Namespace) -> int:
    """Run the parsed command; what goes wrong becomes its exit code and one line on stderr."""
    try:
        args.func(args)
    except BrokenPipeError:
        raise
    except BertdeskError as exc:
        _debug_traceback()
        fail(error_text(exc))
        return EXIT_USER_ERROR
    except JobCancelled:
        return EXIT_INTERRUPTED
    except KeyboardInterrupt:
        print("bertdesk: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except OSError as exc:  # a user path that cannot be read or written, a full disk
        _debug_traceback()
        fail(_describe_os_error(exc))
        if exc.filename is None:  # perhaps stdout itself: drop what it could not take
            _silence(sys.stdout)
        return EXIT_USER_ERROR
    except MemoryError:
        _debug_traceback()
        fail("not enough memory for this input; give a shorter text or fewer texts")
        return EXIT_USER_ERROR
    except RecursionError:
        _debug_traceback()
        fail("an input file (JSON) is nested too deeply to read")
        return EXIT_USER_ERROR
    except Exception as exc:
        return _internal_error(exc, args.command)
    return 0


def _describe_os_error(exc: OSError) -> str:
    if exc.filename is None:
        return exc.strerror or str(exc)
    names = f"{exc.filename} -> {exc.filename2}" if exc.filename2 is not None else f"{exc.filename}"
    return f"{exc.strerror or type(exc).__name__}: {names}"


def _debug() -> bool:
    return os.environ.get("BERTDESK_DEBUG", "") not in ("", "0")


def _debug_traceback() -> None:
    if _debug():
        traceback.print_exc()


def _internal_error(exc: Exception, command: str) -> int:
    """A bug, not the user's doing: one line naming where the traceback went (the log), exit code 1.

    Exit code 1 rather than 2 lets a script (and the contract tests) tell "change your input" from "report this".
    """
    if _debug():
        traceback.print_exc()
        where = "the traceback is above"
    else:
        log = _log_traceback(command)
        where = f"the traceback is in {log}" if log else "run with BERTDESK_DEBUG=1 to see the traceback"
    detail = one_line(f"{type(exc).__name__}: {exc}")[:300]
    print(f"bertdesk: internal error (a bug in bertdesk, please report it): {detail}; {where}", file=sys.stderr)
    return EXIT_INTERNAL_ERROR


def _log_traceback(command: str) -> Path | None:
    """Append the current exception's traceback to the log file; its path, or None if it cannot be written."""
    import time

    try:
        from bertdesk.core.files import data_dir

        path = data_dir() / "bertdesk.log"
        with open(path, "a", encoding="utf-8", errors="backslashreplace") as log:
            log.write(f"{time.strftime('%Y-%m-%d %H:%M:%S')} ERROR bertdesk.cli internal error in "
                      f"`bertdesk {command}`\n{traceback.format_exc()}")
    except Exception:  # no log is no reason for a second traceback
        return None
    return path


def _tolerant_streams() -> None:
    """Characters stdout/stderr cannot encode (a cp1252 console, PYTHONIOENCODING=ascii) print escaped, not crash."""
    for stream in (sys.stdout, sys.stderr):
        if isinstance(stream, io.TextIOWrapper):
            stream.reconfigure(errors="backslashreplace")


@contextlib.contextmanager
def _stdout_for_results() -> Iterator[None]:
    """While a command runs, `sys.stdout` writes to the real stdout but file descriptor 1 points at stderr.

    Native libraries print to descriptor 1 (tokenizers warns there about gaps in a vocabulary, onnxruntime and Qt
    may too); moved aside, nothing but the result reaches stdout, and --json output stays parseable.
    """
    original: TextIO | None = sys.stdout
    if original is None:  # started with stdout closed
        original = sys.stdout = open(os.devnull, "w", encoding="utf-8")  # noqa: SIM115 - closed at exit
    try:
        redirect = original.fileno() == 1
    except (AttributeError, OSError, ValueError):
        redirect = False
    if not redirect:
        yield
        return
    original.flush()
    with stdout_descriptor_to_stderr() as saved:
        if saved is None:
            yield
            return
        results = open(saved, "w", encoding=original.encoding, errors="backslashreplace", closefd=False)  # noqa: SIM115
        sys.stdout = results
        try:
            yield
        finally:
            sys.stdout = original
            try:
                results.flush()
            except OSError:  # already reported; what is left cannot be written
                _silence(results)
            results.close()


def _silence(stream: TextIO) -> None:
    """The reader of `stream` went away: point it at /dev/null so the pending output and the final flush vanish."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, stream.fileno())
    except (OSError, ValueError):
        pass
    finally:
        os.close(devnull)
