"""A label for a sentence or more of text: it wraps at the width its layout gives it and never widens the window."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QSizePolicy, QWidget


def wrapped_label(parent: QWidget, text: str = "", *, name: str = "", rich: bool = False) -> QLabel:
    """A word-wrapped label whose width the layout decides; `name` is its object name, `rich` reads HTML."""
    label = QLabel(text, parent)
    if name:
        label.setObjectName(name)
    label.setWordWrap(True)
    if rich:
        label.setTextFormat(Qt.TextFormat.RichText)
    policy = QSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
    policy.setHeightForWidth(True)  # a new policy drops QLabel's own flag: its layout would not grow it as it wraps
    label.setSizePolicy(policy)
    return label
