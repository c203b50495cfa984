"""One Export button/menu for every plot and table: PNG and SVG of what is drawn, CSV and JSON of the data.

CSV and JSON come from `bertdesk.core.files.export` (the same text the CLI writes); every file is written atomically.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Protocol

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QRectF, Signal
from PySide6.QtGui import QAction, QPainter
from PySide6.QtSvg import QSvgGenerator
from PySide6.QtWidgets import QFileDialog, QGraphicsView, QMainWindow, QMenu, QMessageBox, QToolButton, QWidget

from bertdesk.core.errors import BertdeskError
from bertdesk.core.files import ExportData, write_atomic, write_export
from bertdesk.ui.error_text import error_text
from bertdesk.ui.widgets.open_path import open_path

#: Every export format: its menu text and the file filter of its save dialog.
FORMATS = {
    "png": ("PNG image…", "PNG image (*.png)"),
    "svg": ("SVG image…", "SVG image (*.svg)"),
    "csv": ("CSV table…", "CSV table (*.csv)"),
    "json": ("JSON…", "JSON (*.json)"),
}


class Exportable(Protocol):
    """What a plot or table offers the Export menu."""

    def export_data(self) -> ExportData | None:
        """The data shown (for CSV and JSON), or None when nothing is shown."""

    def export_view(self) -> QWidget:
        """The widget whose drawing PNG and SVG hold (the plot, without the buttons around it)."""

    def export_name(self) -> str:
        """A file name stem to suggest, e.g. the plot's title."""


def export_to(target: Exportable, path: str | Path) -> Path:
    """Write `target` to `path` in the format its suffix names (.png, .svg, .csv, .json); returns the path.

    Raises a BertdeskError (StorageError for an unwritable path) the user can act on.
    """
    path = Path(path)
    fmt = path.suffix.lower().lstrip(".")
    if fmt not in FORMATS:
        raise BertdeskError(f"Cannot export to {path.name}: the name must end in .png, .svg, .csv or .json.")
    if fmt == "png":
        write_atomic(path, png_bytes(target.export_view()))
    elif fmt == "svg":
        write_atomic(path, svg_bytes(target.export_view()))
    else:
        data = target.export_data()
        if data is None:
            raise BertdeskError("There is nothing to export yet.")
        write_export(data, path)
    return path


def png_bytes(view: QWidget) -> bytes:
    """A PNG of `view` as drawn on screen (at the screen's pixel ratio)."""
    buffer = QBuffer()
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    view.grab().save(buffer, "PNG")
    return bytes(buffer.data())


def svg_bytes(view: QWidget) -> bytes:
    """An SVG of `view` drawn by Qt's SVG generator, at the widget's size and font resolution.

    Not pyqtgraph's SVGExporter: in pyqtgraph 0.14.0 it fails on the closed paths Qt 6.11 writes ("Z"; pyqtgraph
    issue 3495). A graphics view's scene is drawn directly, so its items stay vectors at their on-screen places.
    """
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    generator = QSvgGenerator()
    generator.setOutputDevice(buffer)
    generator.setResolution(view.logicalDpiX())
    generator.setSize(view.size())
    generator.setViewBox(view.rect())
    generator.setTitle(view.windowTitle() or "bertdesk export")
    painter = QPainter(generator)
    try:
        if isinstance(view, QGraphicsView):
            painter.fillRect(view.rect(), view.backgroundBrush())
            source = view.mapToScene(view.viewport().rect()).boundingRect()
            view.scene().render(painter, QRectF(view.rect()), source)
        else:
            view.render(painter)
    finally:
        painter.end()
    return bytes(data)


class ExportButton(QToolButton):
    """An "Export" button whose menu saves `target` as PNG, SVG, CSV or JSON after asking for a file name.

    A failure is shown in a message box (one sentence) and nothing the user had at that path is lost.
    """

    #: The path of a file just written.
    exported = Signal(str)

    def __init__(self, target: Exportable, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._target = target
        self._folder = Path.home()
        self.setText("Export")
        self.setToolTip("Save this plot as an image (PNG, SVG) or its data as a table (CSV, JSON)")
        self.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        menu = QMenu(self)
        self._actions: dict[str, QAction] = {}
        for fmt, (text, _) in FORMATS.items():
            action = menu.addAction(text)
            action.triggered.connect(lambda _checked=False, fmt=fmt: self.ask_and_export(fmt))
            self._actions[fmt] = action
        self.setMenu(menu)

    def action(self, fmt: str) -> QAction:
        """The menu action that exports as `fmt` ("png", "svg", "csv" or "json")."""
        return self._actions[fmt]

    def ask_and_export(self, fmt: str) -> None:
        """Ask for a file name (suggesting the target's name in the last folder used) and export to it."""
        _, file_filter = FORMATS[fmt]
        suggested = str(self._folder / f"{safe_stem(self._target.export_name())}.{fmt}")
        chosen, _ = QFileDialog.getSaveFileName(self.window(), "Export", suggested, file_filter)
        if not chosen:
            return
        path = Path(chosen)
        if path.suffix.lower() != f".{fmt}":
            path = path.with_name(f"{path.name}.{fmt}")
        self._folder = path.parent
        try:
            export_to(self._target, path)
        except BertdeskError as exc:
            box = QMessageBox(QMessageBox.Icon.Warning, "Export failed", error_text(exc), parent=self.window())
            box.setObjectName("export-failed")
            box.open()
            return
        announce_export(self.window(), path)
        self.exported.emit(str(path))


def safe_stem(name: str) -> str:
    """`name` as a readable file name stem that every system takes: words (letters, digits, of any script) joined
    by "-", nothing else (no separators, commas, arrows, brackets or spaces); at most 80 characters, whole words;
    "export" when nothing is left."""
    words = re.findall(r"[^\W_]+", name)
    stem = ""
    for word in words:
        if len(stem) + len(word) + 1 > 80:
            break
        stem = f"{stem}-{word}" if stem else word
    return stem or (words[0][:80] if words else "export")


def announce_export(window: QWidget, path: Path) -> None:
    """Say in the window's status bar where an export was written, with a "Show in folder" button beside the
    message (hidden again when the message goes)."""
    bar = window.statusBar() if isinstance(window, QMainWindow) else None
    if bar is None:
        return
    message = f"Exported {path.name} to {path.parent}"
    button = bar.findChild(QToolButton, "export-show-folder")
    if button is None:
        button = QToolButton(bar)
        button.setObjectName("export-show-folder")
        button.setText("Show in folder")
        button.clicked.connect(lambda: open_path(window, Path(button.property("folder")), "the export's folder"))
        bar.messageChanged.connect(lambda text: button.setVisible(text == button.property("message")))
        bar.addPermanentWidget(button)  # a normal widget is hidden while a message shows
    button.setProperty("folder", str(path.parent))
    button.setProperty("message", message)
    button.setToolTip(str(path.parent))
    bar.showMessage(message, 15000)
    button.show()
