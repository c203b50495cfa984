"""What the window keeps across restarts: geometry and dock state, the model chosen, the tab on show and every tab's
inputs (long inputs in files of their own, see `SettingsStore`), written shortly after a change and on close.

Tabs are built lazily: the saved inputs (or the sample) of a tab not built yet wait here until it is
(`restore_tab`), and are written back unchanged while it is not."""

from __future__ import annotations

import logging
from collections.abc import Callable

from PySide6.QtCore import QByteArray, QObject, QTimer, Slot
from PySide6.QtWidgets import QMainWindow, QTabWidget

from bertdesk.ui.message_bar import MessageBar
from bertdesk.ui.samples import sample_text
from bertdesk.ui.settings_store import SettingsStore
from bertdesk.ui.tabs.base import AnalysisTab
from bertdesk.ui.tabs.registry import LazyTabs

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
    `messages`. The window calls `restore_tab()` on each tab as it is built.
    """

    def __init__(
        self,
        window: QMainWindow,
        store: SettingsStore | None,
        tabs: LazyTabs,
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
        # Per tab key, what a tab not built yet gets when it is: its saved inputs, or the sample text.
        self._saved_inputs: dict[str, dict] = {}
        self._samples: dict[str, str] = {}
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
            "tab": self._tabs.specs[self._tab_widget.currentIndex()].key,
            "tabs": self._inputs(),
        }
        try:
            self._store.save(data)
        except OSError as exc:
            logger.error("Could not write the settings file", exc_info=exc)
            self._messages.show_error(f"Could not save settings to {self._store.path}: {exc.strerror}.")

    def _inputs(self) -> dict[str, dict]:
        """Every tab's inputs: a built tab's as they are now, another's as they were saved (a tab never built that
        only has its sample is left out, and gets the sample again next time)."""
        inputs: dict[str, dict] = {}
        for index, spec in enumerate(self._tabs.specs):
            tab = self._tabs.built(index)
            if tab is not None:
                inputs[spec.key] = tab.save_state()
            elif spec.key in self._saved_inputs:
                inputs[spec.key] = self._saved_inputs[spec.key]
        return inputs

    def save_for_good(self) -> None:
        """Save now and never again (the window is closing)."""
        self.save()
        self._closed = True

    def restore(self) -> str | None:
        """Apply the saved settings; returns the saved model, if any. Tabs get their inputs as they are built: the
        saved ones, or the sample text on a first launch (and for a tab the saved settings have no inputs of)."""
        if self._store is None:
            return None
        first_launch = not self._store.path.exists() and not self._store.path.is_symlink()
        data, problem = self._store.load()
        if problem is not None:
            self._messages.show_notice(problem)
        window = data.get("window")
        if isinstance(window, dict):
            geometry, state = _base64_bytes(window.get("geometry")), _base64_bytes(window.get("state"))
            if geometry is not None:
                self._window.restoreGeometry(geometry)
            if state is not None:
                self._window.restoreState(state)
        tabs = data.get("tabs")
        tabs = tabs if isinstance(tabs, dict) else {}
        for spec in self._tabs.specs:
            saved = tabs.get(spec.key)
            if isinstance(saved, dict):
                self._saved_inputs[spec.key] = saved
            # Something to look at straight away: the sample the screenshots show.
            sample = sample_text(spec.key)
            if sample is not None and (first_launch or (problem is None and spec.key not in tabs)):
                self._samples[spec.key] = sample
        for tab in self._tabs.built_tabs():
            self.restore_tab(tab)
        shown = data.get("tab")
        if isinstance(shown, str) and shown in {spec.key for spec in self._tabs.specs}:
            self._tab_widget.setCurrentIndex(self._tabs.index_of(shown))
        model = data.get("model")
        return model if isinstance(model, str) else None

    def restore_tab(self, tab: AnalysisTab) -> None:
        """Give a newly built tab its saved inputs (or its sample text), if it has any waiting."""
        sample = self._samples.pop(tab.key, None)
        if sample is not None:
            tab.set_input_text(sample)
        saved = self._saved_inputs.pop(tab.key, None)
        if saved is not None:
            try:
                tab.restore_state(saved)
            except Exception:
                logger.exception("Could not restore the %s tab's inputs", tab.title)
                self._messages.show_notice(f"The {tab.title} tab's saved inputs could not be restored.")
