"""The CLI's last line of defence, in-process: what an exception from a command becomes on stderr and as exit code,
and how the result is written."""

from __future__ import annotations

import errno
import io
import json
from pathlib import Path

import pytest

from bertdesk import cli
from bertdesk.cli import model_commands


def _failing_with(monkeypatch: pytest.MonkeyPatch, error: BaseException) -> None:
    def command(args: object) -> None:
        raise error

    monkeypatch.setattr(model_commands, "cmd_models", command)


@pytest.mark.parametrize(
    ("error", "line"),
    [
        (PermissionError(errno.EACCES, "Permission denied", "/data/bundle/config.json"),
         "bertdesk: error: Permission denied: /data/bundle/config.json"),
        (OSError(errno.ENOSPC, "No space left on device"), "bertdesk: error: No space left on device"),
        (OSError(errno.EXDEV, "Invalid cross-device link", "/a", None, "/b"),
         "bertdesk: error: Invalid cross-device link: /a -> /b"),
        (MemoryError(), "bertdesk: error: not enough memory for this input; give a shorter text or fewer texts"),
        (RecursionError("maximum recursion depth exceeded"),
         "bertdesk: error: an input file (JSON) is nested too deeply to read"),
    ],
)
def test_environment_errors_are_one_line_and_exit_2(monkeypatch: pytest.MonkeyPatch,
                                                    capsys: pytest.CaptureFixture, error: Exception,
                                                    line: str) -> None:
    monkeypatch.delenv("BERTDESK_DEBUG", raising=False)
    _failing_with(monkeypatch, error)
    assert cli.main(["models"]) == 2
    assert capsys.readouterr().err == line + "\n"


def test_a_bug_is_one_line_naming_the_log_and_exit_1(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                                     capsys: pytest.CaptureFixture) -> None:
    monkeypatch.delenv("BERTDESK_DEBUG", raising=False)
    monkeypatch.setenv("BERTDESK_DATA", str(tmp_path))
    _failing_with(monkeypatch, KeyError("two\nlines"))
    assert cli.main(["models"]) == 1
    err = capsys.readouterr().err
    log = tmp_path / "bertdesk.log"
    assert err == (f"bertdesk: internal error (a bug in bertdesk, please report it): KeyError: 'two\\nlines'; "
                   f"the traceback is in {log}\n")
    text = log.read_text()
    assert "internal error in `bertdesk models`" in text and "Traceback (most recent call last)" in text


def test_a_bug_without_a_writable_log(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                      capsys: pytest.CaptureFixture) -> None:
    (tmp_path / "file").write_text("")
    monkeypatch.delenv("BERTDESK_DEBUG", raising=False)
    monkeypatch.setenv("BERTDESK_DATA", str(tmp_path / "file"))
    _failing_with(monkeypatch, ZeroDivisionError("division by zero"))
    assert cli.main(["models"]) == 1
    assert capsys.readouterr().err.endswith("ZeroDivisionError: division by zero; run with BERTDESK_DEBUG=1 to see "
                                            "the traceback\n")


def test_bertdesk_debug_shows_the_traceback(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture) -> None:
    monkeypatch.setenv("BERTDESK_DEBUG", "1")
    _failing_with(monkeypatch, ZeroDivisionError("division by zero"))
    assert cli.main(["models"]) == 1
    err = capsys.readouterr().err
    assert "Traceback (most recent call last)" in err and err.endswith("the traceback is above\n")


class _CountingStream(io.StringIO):
    writes = 0

    def write(self, text: str) -> int:
        self.writes += 1
        return super().write(text)


def test_json_is_written_at_once(monkeypatch: pytest.MonkeyPatch, tiny_bundle: Path) -> None:
    """json.dump wrote a 200,000-word tokenization in 12 million tiny writes (64 of its 106 s)."""
    out = _CountingStream()
    monkeypatch.setattr("sys.stdout", out)
    assert cli.main(["tokenize", "the cat sat " * 700, "--json", "--model", str(tiny_bundle)]) == 0
    assert out.writes == 1 and len(json.loads(out.getvalue())["tokens"]) == 2102


def test_each_run_reads_its_own_stdin(monkeypatch: pytest.MonkeyPatch, tiny_bundle: Path) -> None:
    texts = []
    for data in (b"the cat", b"a dog"):
        out = io.StringIO()
        monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(data)))
        monkeypatch.setattr("sys.stdout", out)
        assert cli.main(["tokenize", "-", "--json", "--model", str(tiny_bundle)]) == 0
        texts.append(json.loads(out.getvalue())["text"])
    assert texts == ["the cat", "a dog"]


def test_the_command_line_process_may_use_every_core(monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    import os

    monkeypatch.delenv("BERTDESK_THREADS", raising=False)
    assert cli.process_main(["models", "--json"]) == 0
    assert os.environ["BERTDESK_THREADS"] == str(os.cpu_count() or 1)
    monkeypatch.setenv("BERTDESK_THREADS", "1")  # the user's choice stands
    assert cli.process_main(["models", "--json"]) == 0
    assert os.environ["BERTDESK_THREADS"] == "1"
