"""What the command line prints: results on stdout (JSON or a human summary), errors and progress on stderr, every
line made safe for a terminal."""

from __future__ import annotations

import argparse
import codecs
import json
import sys
import unicodedata
from collections.abc import Callable, Iterator

from bertdesk.core.errors import BertdeskError
from bertdesk.core.jobs import JobHandle


def one_line(text: str) -> str:
    """`text` with line breaks and other invisible control characters escaped, so it prints as one line."""
    return "".join(c if c.isprintable() or c == " " else c.encode("unicode_escape").decode("ascii") for c in text)


def terminal_safe(text: str) -> str:
    """`text` with control characters other than line breaks and tabs escaped: names and labels read from a model,
    a document or a server may hold terminal escape codes (ESC, the C1 CSI), which must not reach the terminal."""
    return "".join(c.encode("unicode_escape").decode("ascii")
                   if c not in "\n\t" and unicodedata.category(c) == "Cc" else c for c in text)


def fail(message: str) -> None:
    """Print `message` on stderr as one `bertdesk: error:` line."""
    print(f"bertdesk: error: {one_line(message)}", file=sys.stderr)


def stderr_progress() -> JobHandle:
    """A job handle that prints each progress report as one line on stderr."""
    def report(fraction: float, text: str) -> None:
        print(f"[{fraction:4.0%}] {one_line(text)}", file=sys.stderr, flush=True)

    return JobHandle(report)


def emit(args: argparse.Namespace, data: object, human: Callable[[], str]) -> None:
    """Print the result: JSON (written at once, ASCII-escaped unless stdout is UTF-8) or the human summary."""
    if args.json:
        encoding = getattr(sys.stdout, "encoding", None) or "ascii"
        try:
            text = json.dumps(data, ensure_ascii=codecs.lookup(encoding).name != "utf-8", allow_nan=False)
        except ValueError:  # allow_nan: NaN and infinities are not JSON
            raise BertdeskError("the model produced NaN or infinite values (its weights may be broken); "
                                "there is no valid JSON to print") from None
        sys.stdout.write(text + "\n")
    else:
        sys.stdout.write(terminal_safe(human()) + "\n")


def emit_lines(args: argparse.Namespace, rows: Iterator[dict], human: Callable[[dict], str]) -> None:
    """Print each result as it comes: one JSON object a line with --json, else one human line; flushed at once so
    a pipeline sees rows as they are done."""
    for row in rows:
        if args.json:
            emit(args, row, lambda: "")
        else:
            sys.stdout.write(terminal_safe(human(row)) + "\n")
        sys.stdout.flush()
