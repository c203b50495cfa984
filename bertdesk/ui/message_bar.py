"""A dismissible bar above the tabs for errors and notices: visible, but never in the way like a dialog."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtGui import QAction, QPalette
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QStyle, QToolButton, QWidget


class MessageBar(QFrame):
    """Shows one message at a time with an icon, an optional "Show log" button, an optional action button and a
    close button. An error names its `source` ("input", "model", a tab's key), so that a later success of the
    same kind can take it away (`clear`)."""

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
        self._action_button = QPushButton(self)
        self._action_button.clicked.connect(self._trigger_action)
        self._action_button.hide()
        self._action: QAction | None = None
        self._source: str | None = None
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
        layout.addWidget(self._action_button)
        layout.addWidget(close)
        self.hide()

    def show_error(
        self, text: str, *, offer_log: bool = False, source: str | None = None, action: QAction | None = None
    ) -> None:
        """Show an error; `offer_log` adds a button opening the log file, `action` a button triggering it, and
        `clear(source)` takes the error away again."""
        self._show(QStyle.StandardPixmap.SP_MessageBoxWarning, text, offer_log, action)
        self._source = source

    def show_notice(self, text: str) -> None:
        """Show a notice that needs no action beyond reading it."""
        self._show(QStyle.StandardPixmap.SP_MessageBoxInformation, text, False, None)
        self._source = None

    def clear(self, source: str) -> None:
        """Hide the message if it is an error from `source` (which has since succeeded)."""
        if self._source == source:
            self._source = None
            self.hide()

    def action(self) -> QAction | None:
        """The action offered by the message shown, if any."""
        return self._action if self._action_button.isVisibleTo(self) else None

    def _trigger_action(self) -> None:
        if self._action is not None:
            self._action.trigger()

    def text(self) -> str:
        """The message shown (also when hidden)."""
        return self._text.text()

    def _show(self, icon: QStyle.StandardPixmap, text: str, offer_log: bool, action: QAction | None) -> None:
        size = self.style().pixelMetric(QStyle.PixelMetric.PM_SmallIconSize)
        self._icon.setPixmap(self.style().standardIcon(icon).pixmap(size, size))
        self._text.setText(text)
        self._text.setToolTip(text)
        self._log.setVisible(offer_log)
        self._action = action
        if action is not None:
            self._action_button.setText(action.text())
            self._action_button.setToolTip(action.toolTip())
        self._action_button.setVisible(action is not None)
        self.show()
