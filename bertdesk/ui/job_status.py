"""The status bar's job indicator: which tabs are working (also the ones not on show), the progress and Cancel of
the job on show, and how long the current tab's last run took."""

from __future__ import annotations

import time
from collections.abc import Callable

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QLabel, QProgressBar, QPushButton, QStatusBar

from bertdesk.ui.workers import JobRunner


class JobStatus(QObject):
    """Watches every job runner of the window and shows them in `bar`.

    `shown_runner()` picks the runner whose progress the bar shows and Cancel (Esc) stops: a model load, else the
    current tab's. `cancel_requested` is emitted by the Cancel button and Esc.
    """

    cancel_requested = Signal()

    def __init__(self, bar: QStatusBar, shown_runner: Callable[[], JobRunner]) -> None:
        super().__init__(bar)
        self._bar = bar
        self._shown_runner = shown_runner
        self._names: dict[JobRunner, str] = {}
        self._progress: dict[JobRunner, tuple[float, str] | None] = {}
        self._started_at: dict[JobRunner, float] = {}
        self._last_run_ms: dict[JobRunner, float] = {}
        self._progress_text = ""
        self.model_label = QLabel("No model", bar)
        self.model_label.setToolTip("The model in use")
        self.working_label = QLabel("", bar)
        self.working_label.setObjectName("working_label")
        self.working_label.setToolTip("The tabs (or the model) with a job under way")
        self.time_label = QLabel("", bar)
        self.time_label.setToolTip("How long the current tab's last analysis took")
        self.progress_bar = QProgressBar(bar)
        self.progress_bar.setRange(0, 1000)
        self.progress_bar.setMaximumWidth(220)
        self.progress_bar.setTextVisible(False)
        self.progress_bar.setToolTip("Progress of the running job")
        self.cancel_button = QPushButton("Cancel", bar)
        self.cancel_button.setToolTip("Stop the running job (Esc)")
        self.cancel_button.setShortcut(QKeySequence(Qt.Key.Key_Escape))
        self.cancel_button.clicked.connect(self.cancel_requested)
        for widget in (self.model_label, self.working_label, self.time_label, self.progress_bar, self.cancel_button):
            bar.addPermanentWidget(widget)

    def watch(self, runner: JobRunner, name: str) -> None:
        """Show `runner`'s jobs under `name` ("Tokens", "Model")."""
        self._names[runner] = name

        def started() -> None:
            self._progress[runner] = None
            self._started_at[runner] = time.perf_counter()
            self.refresh()

        def progress(fraction: float, text: str) -> None:
            self._progress[runner] = (fraction, text)
            self.refresh()

        def finished(_value: object) -> None:
            if not runner.is_running():
                self._last_run_ms[runner] = (time.perf_counter() - self._started_at[runner]) * 1000
            ended()

        def ended() -> None:
            if runner.is_running():  # a handler connected before this one already started the next job
                self.refresh()
                return
            self._progress.pop(runner, None)
            self._started_at.pop(runner, None)
            if self._progress_text and self._bar.currentMessage() == self._progress_text:
                self._bar.clearMessage()
            self.refresh()

        runner.started.connect(started)
        runner.progress.connect(progress)
        runner.finished.connect(finished)
        runner.errored.connect(lambda _message: ended())
        runner.cancelled.connect(ended)

    def working(self) -> list[str]:
        """The names of the runners with a job under way, in the order they were watched."""
        return [name for runner, name in self._names.items() if runner.is_running()]

    def refresh(self) -> None:
        """Show which runners work, the progress of the shown runner's job, and its last run time."""
        working = self.working()
        self.working_label.setText(f"Working: {', '.join(working)}…" if working else "")
        self.working_label.setVisible(bool(working))
        runner = self._shown_runner()
        running = runner.is_running()
        self.progress_bar.setVisible(running)
        self.cancel_button.setVisible(running)
        state = self._progress.get(runner)
        if state is None:
            self.progress_bar.setRange(0, 0)
        else:
            self.progress_bar.setRange(0, 1000)
            self.progress_bar.setValue(round(state[0] * 1000))
            if state[1]:
                self._progress_text = state[1]
                self._bar.showMessage(state[1])
        elapsed = self._last_run_ms.get(runner)
        self.time_label.setText("" if elapsed is None else f"Last run: {elapsed:,.0f} ms")
