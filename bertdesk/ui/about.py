"""The About dialog's text: bertdesk's version and those of the libraries a bug report needs."""

from __future__ import annotations

import platform
import sys
from html import escape

import numpy
import onnxruntime
import PySide6
import tokenizers
from PySide6.QtCore import qVersion

from bertdesk import __version__
from bertdesk.core.errors import BertdeskError


def library_versions() -> dict[str, str]:
    """The versions of Python, Qt, PySide6, onnxruntime, tokenizers and numpy in use."""
    return {
        "Python": f"{platform.python_version()} ({sys.platform})",
        "Qt": qVersion(),
        "PySide6": PySide6.__version__,
        "onnxruntime": onnxruntime.__version__,
        "tokenizers": tokenizers.__version__,
        "numpy": numpy.__version__,
    }


def about_html() -> str:
    """The About dialog: what bertdesk is, the library versions (for bug reports) and where the log is."""
    from bertdesk.ui.error_log import log_path

    try:
        log = str(log_path())
    except (BertdeskError, OSError) as exc:
        log = f"none ({exc})"
    rows = "".join(
        f"<tr><td>{escape(name)}</td><td>&nbsp;{escape(version)}</td></tr>"
        for name, version in library_versions().items()
    )
    return (
        f"<p><b>bertdesk {__version__}</b></p><p>Look inside a BERT model and use it, fully offline.</p>"
        f"<table>{rows}</table><p>Log file: {escape(log)}</p>"
    )
