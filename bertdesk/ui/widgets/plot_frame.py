"""What the plot widgets (Bars, Curves, Heatmap) share: a placeholder shown in the plot's stead while there is
nothing to draw, a one-line read-out under it beside the Export button, and the view and name Export takes."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSizePolicy, QStackedWidget, QVBoxLayout, QWidget

from bertdesk.ui.widgets.export_action import ExportButton


class PlotFrame(QWidget):
    """The base of a plot widget: a subclass builds its plot view, then calls `_frame`, and keeps the data it
    shows (with a `title`) in `_data`."""

    #: The export's name when the data has no title, and the start of the placeholder's object name.
    kind = "plot"
    _data: Any

    def _frame(self, view: QWidget, placeholder: str, read_out: str, read_out_name: str) -> QLabel:
        """Lay out `view` (the `placeholder` text in its stead until `_stack` shows it) above a read-out label
        (text `read_out`, object name `read_out_name`) and the Export button; returns the read-out label."""
        self._placeholder = QLabel(placeholder, alignment=Qt.AlignmentFlag.AlignCenter)
        self._placeholder.setObjectName(f"{self.kind}-placeholder")
        self._stack = QStackedWidget()
        self._stack.addWidget(self._placeholder)
        self._stack.addWidget(view)
        label = QLabel(read_out)
        label.setObjectName(read_out_name)
        # A long read-out (sentence labels) is cut at the window's edge instead of widening the window.
        label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.export_button = ExportButton(self, self)
        footer = QHBoxLayout()
        footer.addWidget(label, 1)
        footer.addWidget(self.export_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self._stack, 1)
        layout.addLayout(footer)
        return label

    def export_view(self) -> QWidget:
        """The plot shown (or the placeholder), for PNG and SVG."""
        return self._stack.currentWidget()

    def export_name(self) -> str:
        """The data's title, or the widget's kind."""
        return (self._data.title if self._data else "") or self.kind
