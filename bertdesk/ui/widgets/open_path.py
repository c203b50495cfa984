"""Opening a file or folder in the desktop's own application, with a fallback where the desktop has none: a dialog
that shows the path, selectable, with a button that copies it."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QDesktopServices, QGuiApplication
from PySide6.QtWidgets import QMessageBox, QWidget


def open_path(parent: QWidget, path: Path, what: str) -> bool:
    """Open `path` with the desktop's application for it; where none opens it, show a dialog naming `what` ("the log
    file", "the export folder") with the path to copy. True if an application took it."""
    if QDesktopServices.openUrl(QUrl.fromLocalFile(str(path))):
        return True
    box = QMessageBox(QMessageBox.Icon.Information, "Open", f"No application on this desktop opened {what}. It is at:"
                      f"\n\n{path}", parent=parent)
    box.setObjectName("open-path-fallback")
    box.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    copy = box.addButton("Copy path", QMessageBox.ButtonRole.ActionRole)
    copy.clicked.disconnect()  # an action button closes the box by default; copying should leave it open
    copy.clicked.connect(lambda: QGuiApplication.clipboard().setText(str(path)))
    box.addButton(QMessageBox.StandardButton.Close)
    box.open()
    return False
