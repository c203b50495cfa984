"""A dismissible bar above the tabs for errors and notices: visible, but never in the way like a dialog."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QStyle, QToolButton, QWidget


class MessageBar(QFrame):
    """Shows one message at a time with an icon, an optional "Show log" button and a close button."""

    log_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setAutoFillBackground(True)
        self.setBackgroundRole(QPalette.ColorRole.AlternateBase)
        self._icon = QLabel(self)
        self._text = QLabel(self)
        self._text.setWordWrap(True)
        self._log = QPushButton("Show log", self)
        self._log.setToolTip("Open the log file, which has the full details of the error")
        self._log.clicked.connect(self.log_requested)
        close = QToolButton(self)
        close.setIcon(self.style().standardIcon(QStyle.StandardPixmap.SP_TitleBarCloseButton))
        close.setAutoRaise(True)
        close.setToolTip("Dismiss this message")
        close.clicked.connect(self.hide)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(8, 4, 4, 4)
        layout.addWidget(self._icon)
        layout.addWidget(self._text, 1)
        layout.addWidget(self._log)
        layout.addWidget(close)
        self.hide()

    def show_error(self, text: str, *, offer_log: bool = False) -> None:
        """Show an error; `offer_log` adds a button opening the log file."""
        self._show(QStyle.StandardPixmap.SP_MessageBoxWarning, text, offer_log)

    def show_notice(self, text: str) -> None:
        """Show a notice that needs no action beyond reading it."""
        self._show(QStyle.StandardPixmap.SP_MessageBoxInformation, text, False)

    def text(self) -> str:
        """The message shown (also when hidden)."""
        return self._text.text()

    def _show(self, icon: QStyle.StandardPixmap, text: str, offer_log: bool) -> None:
        size = self.style().pixelMetric(QStyle.PixelMetric.PM_SmallIconSize)
        self._icon.setPixmap(self.style().standardIcon(icon).pixmap(size, size))
        self._text.setText(text)
        self._text.setToolTip(text)
        self._log.setVisible(offer_log)
        self.show()
