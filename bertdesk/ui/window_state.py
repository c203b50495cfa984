"""What the window keeps across restarts: geometry and dock state, the model chosen, the tab on show and every tab's
inputs (long inputs in files of their own, see `SettingsStore`), written shortly after a change and on close."""

from __future__ import annotations

import logging
from collections.abc import Callable

from PySide6.QtCore import QByteArray, QObject, QTimer, Slot
from PySide6.QtWidgets import QMainWindow, QTabWidget

from bertdesk.ui.message_bar import MessageBar
from bertdesk.ui.samples import sample_text
from bertdesk.ui.settings import SettingsStore
from bertdesk.ui.tabs.base import AnalysisTab

logger = logging.getLogger(__name__)

#: Settings are written at most this long after a change.
SAVE_DELAY_MS = 500


def _base64_bytes(value: object) -> QByteArray | None:
    """The bytes of a base64 string saved by `WindowState.save`; None for anything else (a hand-edited value)."""
    if not isinstance(value, str):
        return None
    try:
        return QByteArray.fromBase64(value.encode("ascii"))
    except UnicodeEncodeError:
        return None


class WindowState(QObject):
    """Saves and restores `window`'s state through `store` (None: nothing is read or written).

    `tabs` are the window's tabs shown in `tab_widget`; `model_choice()` gives the model to save; problems go to
    `messages`.
    """

    def __init__(
        self,
        window: QMainWindow,
        store: SettingsStore | None,
        tabs: list[AnalysisTab],
        tab_widget: QTabWidget,
        messages: MessageBar,
        model_choice: Callable[[], str | None],
    ) -> None:
        super().__init__(window)
        self._window = window
        self._store = store
        self._tabs = tabs
        self._tab_widget = tab_widget
        self._messages = messages
        self._model_choice = model_choice
        self._closed = False  # saved for good: later moves and resizes (while closing) are not saved
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.setInterval(SAVE_DELAY_MS)
        self.timer.timeout.connect(self.save)

    @Slot()
    def schedule(self) -> None:
        """Save within SAVE_DELAY_MS (counted from the first change not yet saved)."""
        if self._store is not None and not self._closed and not self.timer.isActive():
            self.timer.start()

    @Slot()
    def save(self) -> None:
        """Write geometry, model, current tab and every tab's inputs now."""
        if self._store is None:
            return
        self.timer.stop()
        data = {
            "window": {
                "geometry": bytes(self._window.saveGeometry().toBase64()).decode("ascii"),
                "state": bytes(self._window.saveState().toBase64()).decode("ascii"),
            },
            "model": self._model_choice(),
            "tab": self._tabs[self._tab_widget.currentIndex()].key,
            "tabs": {tab.key: tab.save_state() for tab in self._tabs},
        }
        try:
            self._store.save(data)
        except OSError as exc:
            logger.error("Could not write the settings file", exc_info=exc)
            self._messages.show_error(f"Could not save settings to {self._store.path}: {exc.strerror}.")

    def save_for_good(self) -> None:
        """Save now and never again (the window is closing)."""
        self.save()
        self._closed = True

    def restore(self) -> str | None:
        """Apply the saved settings (the sample texts on a first launch); returns the saved model, if any."""
        if self._store is None:
            return None
        first_launch = not self._store.path.exists() and not self._store.path.is_symlink()
        data, problem = self._store.load()
        if problem is not None:
            self._messages.show_notice(problem)
        if first_launch:  # something to look at straight away: the sample the screenshots show
            for tab in self._tabs:
                sample = sample_text(tab.key)
                if sample is not None:
                    tab.set_input_text(sample)
        window = data.get("window")
        if isinstance(window, dict):
            geometry, state = _base64_bytes(window.get("geometry")), _base64_bytes(window.get("state"))
            if geometry is not None:
                self._window.restoreGeometry(geometry)
            if state is not None:
                self._window.restoreState(state)
        tabs = data.get("tabs")
        for index, tab in enumerate(self._tabs):
            state = tabs.get(tab.key) if isinstance(tabs, dict) else None
            if isinstance(state, dict):
                try:
                    tab.restore_state(state)
                except Exception:
                    logger.exception("Could not restore the %s tab's inputs", tab.title)
                    self._messages.show_notice(f"The {tab.title} tab's saved inputs could not be restored.")
            if data.get("tab") == tab.key:
                self._tab_widget.setCurrentIndex(index)
        model = data.get("model")
        return model if isinstance(model, str) else None
