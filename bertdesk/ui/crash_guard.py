"""Fatal errors (a segfault, an abort inside Qt) reach the log, and a crash is reported at the next start.

`faulthandler` writes the Python stacks of a dying process into `bertdesk.log`. A marker file, written when the
window starts and removed when it exits cleanly, tells the next start that the previous run did not end well; the
faulthandler section the log gained since that start is then shown to the user.
"""

from __future__ import annotations

import contextlib
import faulthandler
import json
import os
import time
from pathlib import Path
from typing import TextIO

from bertdesk.ui.error_log import LOG_NAME

MARKER_NAME = "running.json"
#: The most of the log's crash section shown to the user; the log keeps all of it.
_SHOWN_LINES = 6


class CrashGuard:
    """Arms `faulthandler` on the log file and keeps the "still running" marker until `close()`."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.previous_crash = _previous_crash(folder)
        self._log: TextIO | None = None
        log = folder / LOG_NAME
        try:
            self._log = open(log, "a", encoding="utf-8")  # noqa: SIM115 (open until close(): faulthandler writes)
            self._log.write(f"{time.strftime('%Y-%m-%d %H:%M:%S')} INFO bertdesk started (pid {os.getpid()})\n")
            self._log.flush()
            faulthandler.enable(self._log, all_threads=True)
            offset = self._log.tell()
        except OSError:  # a read-only data folder: fatal errors go to stderr, as without a guard
            self._close_log()
            faulthandler.enable(all_threads=True)
            offset = None
        marker = {"pid": os.getpid(), "started": time.time(), "log_offset": offset}
        # Without a marker (a read-only folder) a crash goes unreported at the next start, nothing worse.
        with contextlib.suppress(OSError):
            (folder / MARKER_NAME).write_text(json.dumps(marker), encoding="utf-8")

    def close(self) -> None:
        """A clean exit: remove the marker, disarm faulthandler and close the log file."""
        (self.folder / MARKER_NAME).unlink(missing_ok=True)
        if self._log is not None:
            faulthandler.disable()
        self._close_log()

    def _close_log(self) -> None:
        if self._log is not None:
            self._log.close()
            self._log = None


def _previous_crash(folder: Path) -> str | None:
    """A message about the previous run if it did not exit cleanly (its marker is still there), else None."""
    marker_path = folder / MARKER_NAME
    try:
        marker = json.loads(marker_path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError):
        marker = {}
    if not isinstance(marker, dict):
        marker = {}
    started = marker.get("started")
    when = time.strftime(" (started %Y-%m-%d %H:%M)", time.localtime(started)) if isinstance(started, float) else ""
    offset = marker.get("log_offset")
    section = _crash_section(folder / LOG_NAME, offset if isinstance(offset, int) else None)
    message = f"bertdesk did not exit cleanly last time{when}."
    if section:
        message += " The log file has the details:\n" + section
    return message


def _crash_section(log: Path, offset: int | None) -> str:
    """The first lines faulthandler wrote into the log after `offset` ("Fatal Python error: ...", the stack)."""
    if offset is None:
        return ""
    try:
        with open(log, "rb") as file:
            file.seek(offset)
            tail = file.read(200_000).decode("utf-8", errors="replace")
    except OSError:
        return ""
    lines = tail.splitlines()
    for index, line in enumerate(lines):
        if line.startswith("Fatal Python error"):
            return "\n".join(lines[index : index + _SHOWN_LINES])
    return ""
