"""The folded "How does this work?" explanation under a tab: an arrow button that unfolds a wrapped rich-text
label (in a scroll area when its height is bounded)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QLabel, QScrollArea, QSizePolicy, QToolButton, QVBoxLayout, QWidget


class Explanation(QWidget):
    """A checkable auto-raise button (`button`, right arrow when folded, down when open) over `label`, a
    word-wrapped rich-text label, hidden until the button is checked. With `max_height` the label sits in
    `area`, a frameless scroll area at most that tall that scrolls vertically only; else `area` is None.
    `label` may be a ready-made label (a caption that asks for its own height, say); `ignore_width` lets a
    new label wrap at whatever width the tab has instead of asking for its text's width."""

    def __init__(self, title: str, text: str = "", parent: QWidget | None = None, *, tooltip: str = "",
                 label: QLabel | None = None, ignore_width: bool = False, max_height: int | None = None) -> None:
        super().__init__(parent)
        self.button = QToolButton(self)
        self.button.setText(title)
        self.button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.button.setArrowType(Qt.ArrowType.RightArrow)
        self.button.setCheckable(True)
        self.button.setAutoRaise(True)
        if tooltip:
            self.button.setToolTip(tooltip)
        if label is None:
            label = QLabel(self)
            label.setWordWrap(True)
            label.setTextFormat(Qt.TextFormat.RichText)
            if ignore_width:
                label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.label = label
        if text:
            self.label.setText(text)
        self.area: QScrollArea | None = None
        if max_height is not None:
            self.area = QScrollArea(self)
            self.area.setWidget(self.label)
            self.area.setWidgetResizable(True)
            self.area.setFrameShape(QFrame.Shape.NoFrame)
            self.area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
            self.area.setMaximumHeight(max_height)
        self.body: QWidget = self.area if self.area is not None else self.label
        self.body.hide()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.button)
        layout.addWidget(self.body)
        self.button.toggled.connect(self._toggled)

    def set_text(self, text: str) -> None:
        """Show `text` (rich text) as the explanation."""
        self.label.setText(text)

    def _toggled(self, on: bool) -> None:
        self.body.setVisible(on)
        self.button.setArrowType(Qt.ArrowType.DownArrow if on else Qt.ArrowType.RightArrow)
