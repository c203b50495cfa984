"""A plain-text input box that lets dropped files through to the window, which loads them."""

from __future__ import annotations

from PySide6.QtCore import QMimeData
from PySide6.QtWidgets import QPlainTextEdit


class TextBox(QPlainTextEdit):
    """A `QPlainTextEdit` that refuses drags carrying local files (it would paste their file:// URLs): the drag
    then goes on to the parent widgets, up to the window, which opens the file. Other text drops as usual."""

    def canInsertFromMimeData(self, source: QMimeData) -> bool:  # noqa: N802 (Qt override)
        """False for local files, else as for any plain-text box."""
        if any(url.isLocalFile() for url in source.urls()):
            return False
        return super().canInsertFromMimeData(source)
