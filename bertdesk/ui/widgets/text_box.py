"""A plain-text input box that lets dropped files through to the window, which loads them; replacing a box's text
as one undo step."""

from __future__ import annotations

from PySide6.QtCore import QMimeData
from PySide6.QtGui import QTextCursor
from PySide6.QtWidgets import QPlainTextEdit, QTextEdit


class TextBox(QPlainTextEdit):
    """A `QPlainTextEdit` that refuses drags carrying local files (it would paste their file:// URLs): the drag
    then goes on to the parent widgets, up to the window, which opens the file. Other text drops as usual."""

    def canInsertFromMimeData(self, source: QMimeData) -> bool:  # noqa: N802 (Qt override)
        """False for local files, else as for any plain-text box."""
        if any(url.isLocalFile() for url in source.urls()):
            return False
        return super().canInsertFromMimeData(source)


def replace_text(edit: QPlainTextEdit | QTextEdit, text: str) -> None:
    """Replace all of `edit`'s text with `text` as one undo step (setPlainText would clear the undo history)."""
    cursor = QTextCursor(edit.document())
    cursor.beginEditBlock()
    cursor.select(QTextCursor.SelectionType.Document)
    cursor.insertText(text)
    cursor.endEditBlock()
