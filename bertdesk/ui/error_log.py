"""The log file: every unexpected error, with its traceback, in `data_dir()/bertdesk.log`.

A log that cannot be written (a read-only data folder, a full disk) never prints logging's "--- Logging error ---"
tracebacks: the problem is said once on stderr and file logging stops.
"""

from __future__ import annotations

import logging
import sys
from logging.handlers import RotatingFileHandler
from pathlib import Path

from bertdesk.core.files import data_dir

LOG_NAME = "bertdesk.log"
_MAX_BYTES = 1_000_000
_BACKUPS = 3


class _QuietFileHandler(RotatingFileHandler):
    """A rotating file handler that, the first time a record cannot be written, says so in one line on stderr
    and then drops records instead of printing a traceback for each."""

    failed = False

    def handleError(self, record: logging.LogRecord) -> None:  # noqa: N802 (logging's name)
        if not self.failed:
            self.failed = True
            error = sys.exc_info()[1]
            reason = getattr(error, "strerror", None) or error
            print(f"bertdesk: cannot write the log file {self.baseFilename} ({reason}); not logging to it.",
                  file=sys.stderr)

    def emit(self, record: logging.LogRecord) -> None:
        if not self.failed:
            super().emit(record)


def log_path() -> Path:
    """Where the log file is written."""
    return data_dir() / LOG_NAME


def setup_logging() -> Path | None:
    """Send the `bertdesk` loggers' warnings and errors to the rotating log file; returns its path, or None (and
    says why once on stderr) when the file cannot be written.

    Calling it again (after `BERTDESK_DATA` changed, in tests) replaces the previous file handler. A data folder
    that cannot be found or created raises `BertdeskError` (from `data_dir()`).
    """
    logger = logging.getLogger("bertdesk")
    logger.setLevel(logging.INFO)
    for handler in list(logger.handlers):
        if isinstance(handler, RotatingFileHandler):
            logger.removeHandler(handler)
            handler.close()
    path = log_path()
    try:
        with open(path, "a", encoding="utf-8"):
            pass
    except OSError as exc:
        print(f"bertdesk: cannot write the log file {path} ({exc.strerror}); not logging to a file.", file=sys.stderr)
        return None
    handler = _QuietFileHandler(path, maxBytes=_MAX_BYTES, backupCount=_BACKUPS, encoding="utf-8", delay=True)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s [%(threadName)s] %(message)s"))
    logger.addHandler(handler)
    return path
