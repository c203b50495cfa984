"""The base class of the analysis tabs: a job runner, the current bundle, debounced re-runs, saved inputs."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import QWidget

from bertdesk.ui.workers import JobRunner

if TYPE_CHECKING:
    from bertdesk.core.bundle import Bundle, BundleInfo

#: Delay between the last keystroke and the run it triggers.
DEBOUNCE_MS = 250


class AnalysisTab(QWidget):
    """One tab of the main window.

    Subclasses set `title`, build their inputs, and implement `run_analysis()` (submit a job to `self.runner`),
    `set_input_text()` (returning whether the text was used), `save_state()` and `restore_state()`. Text-changed
    handlers call `schedule_run()`; input changes worth keeping emit `state_changed`.
    """

    title: ClassVar[str]
    status_message = Signal(str)
    state_changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.bundle: Bundle | None = None
        self.runner = JobRunner(self)
        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(DEBOUNCE_MS)
        self._debounce.timeout.connect(self._run_if_ready)

    def set_bundle(self, bundle: Bundle, infos: list[BundleInfo] | None = None) -> None:
        """The model was switched (or loaded for the first time): keep it and re-run on the current input.

        `infos` lists the installed bundles (a tab offering a second model refreshes its choice); None: unchanged.
        """
        self.bundle = bundle
        self.schedule_run(0)

    def set_input_text(self, text: str, into: QWidget | None = None) -> bool:
        """Replace the input with `text` (pasted, dropped or opened) and run on it; False if the tab declined the
        text (and said why with `status_message`). `into` is the widget the text was dropped on, if any: a tab
        with several inputs fills that one, else the one last focused. The replacement can be undone."""
        raise NotImplementedError

    def save_state(self) -> dict:
        """The inputs worth restoring after a restart, JSON-serialisable."""
        return {}

    def restore_state(self, state: dict) -> None:
        """Restore inputs saved by `save_state()`; unknown or malformed keys are ignored."""

    def schedule_run(self, delay_ms: int = DEBOUNCE_MS) -> None:
        """Run `run_analysis()` after `delay_ms` unless called again before; call it on every input change."""
        self._debounce.start(delay_ms)

    def run_analysis(self) -> None:
        """Submit the analysis of the current input to `self.runner` (called once a bundle is set)."""
        raise NotImplementedError

    def is_busy(self) -> bool:
        """True while a run is scheduled or under way."""
        return self._debounce.isActive() or self.runner.is_running()

    def stop(self) -> None:
        """Drop any scheduled run and cancel every job, without waiting (the first half of `shutdown()`).

        A tab with more runners or timers of its own extends this.
        """
        self._debounce.stop()
        self.runner.cancel_all()

    def shutdown(self, timeout_ms: int = 5000) -> None:
        """Stop for good (the window is closing): `stop()`, then wait up to `timeout_ms` for the job's thread."""
        self.stop()
        self.runner.shutdown(timeout_ms)

    def _run_if_ready(self) -> None:
        if self.bundle is not None:
            self.run_analysis()
