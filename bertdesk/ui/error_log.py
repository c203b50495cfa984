"""The log file: every unexpected error, with its traceback, in `data_dir()/bertdesk.log`."""

from __future__ import annotations

import logging
from logging.handlers import RotatingFileHandler
from pathlib import Path

from bertdesk.core.paths import data_dir

LOG_NAME = "bertdesk.log"
_MAX_BYTES = 1_000_000
_BACKUPS = 3


def log_path() -> Path:
    """Where the log file is written."""
    return data_dir() / LOG_NAME


def setup_logging() -> Path:
    """Send the `bertdesk` loggers' warnings and errors to the rotating log file; returns its path.

    Calling it again (after `BERTDESK_DATA` changed, in tests) replaces the previous file handler.
    """
    path = log_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    logger = logging.getLogger("bertdesk")
    for handler in list(logger.handlers):
        if isinstance(handler, RotatingFileHandler):
            logger.removeHandler(handler)
            handler.close()
    handler = RotatingFileHandler(path, maxBytes=_MAX_BYTES, backupCount=_BACKUPS, encoding="utf-8", delay=True)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s [%(threadName)s] %(message)s"))
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    return path
