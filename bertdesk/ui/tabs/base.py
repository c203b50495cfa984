"""The base class of the analysis tabs: jobs through hooks, stale marking, the model tasks a tab serves, debounced
re-runs, the tab's other runners and timers, and saved inputs. The README's Architecture section describes the
contract."""

from __future__ import annotations

from collections.abc import Callable
from html import escape
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar

from PySide6.QtCore import QMetaMethod, QTimer, Signal
from PySide6.QtWidgets import QLabel, QWidget

from bertdesk.core.bundles import TASK_CLASSIFICATION, TASK_ENCODER, TASK_QA
from bertdesk.ui.workers import JobFunction, JobRunner

if TYPE_CHECKING:
    from bertdesk.core.bundles import Bundle, BundleInfo

#: Delay between the last keystroke and the run it triggers.
DEBOUNCE_MS = 250
#: `serves` of a tab that works with any model.
ANY_TASK: frozenset[str] = frozenset({TASK_ENCODER, TASK_QA, TASK_CLASSIFICATION})
#: How a stale result is marked: an amber line, lighter on dark themes.
STALE_COLORS = ("#b45309", "#fbbf24")
#: The result of a tab's analysis, and the partial result its generator jobs yield (None for a tab without).
R = TypeVar("R")
P = TypeVar("P")


class StaleLabel(QLabel):
    """The standard "out of date" line a tab puts above (or over) its result; hidden while the result is current."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("stale_label")
        self.setWordWrap(True)
        self.hide()

    def set_reason(self, reason: str) -> None:
        """Show `reason` ("" hides the line)."""
        self.setVisible(bool(reason))
        dark = self.palette().window().color().lightness() < 128
        color = STALE_COLORS[dark]
        self.setText(f'<span style="color:{color};">Out of date: {escape(reason)}</span>' if reason else "")


class AnalysisTab(QWidget, Generic[R, P]):
    """One tab of the main window, built on hooks (Orange3 ConcurrentMixin-style), not on signal plumbing.

    A subclass of `AnalysisTab[R, P]` (R: its analysis' result, P: its partial result) sets `key`, `title` and
    `serves`, builds its inputs, and implements:
    - `run_analysis()`: `self.submit(fn, description)` the analysis of the current input; `fn(handle)` runs on a
      worker thread and returns the result, or is a generator yielding partial results and returning the last one;
    - the hooks `on_result`, `on_partial`, `on_error`, `on_cancelled` (and `on_started`), called on the GUI thread
      for the current job only: results of a replaced or cancelled job never arrive;
    - `set_input_text()`, `save_state()`, `restore_state()`; input handlers call `input_changed()`.
    The base marks the result shown as stale (`show_stale`, by default `self.stale_label`) while a newer run is
    under way, after a cancel, and while the input or the model differs from the one the result was made with.
    A model whose task is not in `serves` calls `run_unfit()` instead of `run_analysis()`.
    Jobs of other kinds (a batch, training) run on runners the tab registers with `add_runner()`, and deferred work
    on timers made by `add_timer()`: the base's `is_busy()`, `cancel()`, `stop()` and `shutdown()` cover them all.
    """

    key: ClassVar[str]
    title: ClassVar[str]
    #: The model tasks (bertdesk.core.bundles.config.TASK_*) this tab's analysis needs; `ANY_TASK` for every model.
    serves: ClassVar[frozenset[str]] = ANY_TASK
    #: What a run does, for the stale mark and the status bar: "tokenizing", "embedding"...
    running_text: ClassVar[str] = "analysing"

    status_message = Signal(str)
    state_changed = Signal()
    #: Emit after the tab saved, removed or renamed a model: the window lists the installed models again (the
    #: model picker, and `set_installed()` of every tab); the model in use stays.
    models_changed = Signal()
    #: Emit to show text in another tab: (that tab's key, text, pair text or "" for none), e.g. the Ask tab's "Show
    #: this window in the Tokens tab" sends ("tokens", question, context slice). Tabs never import each other: the
    #: main window selects that tab and gives it the text (and the pair as its segment B).
    open_in_tab = Signal(str, str, str)
    #: Emit to open the window's model manager on its catalogue of a task's models (a TASK_*, "" for every task),
    #: e.g. the Classify tab's "Get a classifier…"; `request_model_manager()` emits it. The main window connects it.
    open_model_manager = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.bundle: Bundle | None = None
        self.runner: JobRunner[R, P] = JobRunner(self)
        # Every runner and timer of the tab, the analysis' first: what is_busy, cancel, stop and shutdown go over.
        self._runners: list[JobRunner[Any, Any]] = [self.runner]
        self._timers: list[QTimer] = []
        self.stale_label = StaleLabel(self)
        self._debounce = self.add_timer(DEBOUNCE_MS, self._run_if_ready)
        self._has_result = False  # a result (or a partial one) is on show
        self._showing_partial = False  # ...and it is the running job's partial result
        self._cancelled = False  # the latest run was cancelled: the result shown stays out of date
        # Whether the latest run read the input as it is now, and whether the result shown did.
        self._run_is_current = False
        self._shown_is_current = False
        self._run_bundle: Bundle | None = None
        self._shown_bundle: Bundle | None = None
        self.runner.started.connect(self._job_started)
        self.runner.partial.connect(self._job_partial)
        self.runner.finished.connect(self._job_finished)
        self.runner.errored.connect(self._job_errored)
        self.runner.cancelled.connect(self._job_cancelled)

    # --- what subclasses implement -------------------------------------------------------------------------

    def run_analysis(self) -> None:
        """Submit the analysis of the current input with `submit()` (called once a fitting bundle is set)."""
        raise NotImplementedError

    def set_input_text(self, text: str, into: QWidget | None = None) -> bool:
        """Replace the input with `text` (pasted, dropped or opened) and run on it; False if the tab declined the
        text (and said why with `status_message`). `into` is the widget the text was dropped on, if any: a tab
        with several inputs fills that one, else the one last focused. The replacement can be undone."""
        raise NotImplementedError

    def show_text_pair(self, text: str, pair: str) -> None:
        """Show `text` with `pair` as its segment B, as another tab asked with `open_in_tab`; a tab without a second
        input shows the text alone."""
        self.set_input_text(text)

    def save_state(self) -> dict:
        """The inputs worth restoring after a restart, JSON-serialisable."""
        return {}

    def restore_state(self, state: dict) -> None:
        """Restore inputs saved by `save_state()`; unknown or malformed keys are ignored."""

    def on_started(self) -> None:
        """A job was submitted (the previous result, if any, is now marked stale)."""

    def on_partial(self, value: P) -> None:
        """The latest partial result the running job yielded (see JobRunner: they are coalesced); show it."""

    def on_result(self, result: R) -> None:
        """The current job's result: show it."""

    def on_error(self, message: str) -> None:
        """The current job failed with `message` (one line, meant for the user): show it in place of the result."""
        self.status_message.emit(message)

    def on_cancelled(self) -> None:
        """The current job was cancelled; the result shown (if any) is now marked stale."""

    def show_stale(self, reason: str) -> None:
        """Mark the result shown as out of date for `reason` ("" when it is current); by default in `stale_label`.
        A tab that marks its result elsewhere (greyed panes, say) overrides this."""
        self.stale_label.set_reason(reason)

    # --- models --------------------------------------------------------------------------------------------

    def model_fits(self, bundle: Bundle) -> bool:
        """Whether this tab's analysis can run with `bundle` (by default: its task is in `serves`)."""
        return bundle.info.task in self.serves

    def run_unfit(self) -> None:
        """The model does not fit this tab: run what the tab can do instead (Ask with an embedding model retrieves
        sentences, say), or, by default, say which model the tab needs."""
        assert self.bundle is not None
        needs = " or ".join(sorted(self.serves))
        self._has_result = False
        self._update_stale()
        self.on_error(
            f"The {self.title} tab needs a {needs} model; {self.bundle.info.name} is a {self.bundle.info.task} model. "
            "Choose another one in the Model list."
        )

    def set_bundle(self, bundle: Bundle, infos: list[BundleInfo] | None = None) -> None:
        """The model was switched (or loaded for the first time): keep it and re-run on the current input.

        `infos` lists the installed bundles (a tab offering a second model refreshes its choice); None: unchanged.
        """
        self.bundle = bundle
        self.schedule_run(0)
        self._update_stale()

    def set_installed(self, infos: list[BundleInfo]) -> None:
        """The installed models were listed again without a model switch (after `models_changed`, say); a tab
        offering a second model refreshes its choice. By default nothing happens."""

    # --- what subclasses call ------------------------------------------------------------------------------

    def submit(self, fn: JobFunction[R, P], description: str) -> None:
        """Run `fn(handle)` on a worker thread, cancelling this tab's job under way; its outcome reaches the hooks.

        `fn` must not touch widgets: read the inputs before, show the outcome in the hooks.
        """
        self._run_is_current = True
        self._run_bundle = self.bundle
        self.runner.submit(fn, description)

    def input_changed(self) -> None:
        """An input changed: the result shown is out of date, a run is scheduled, the settings will be saved."""
        self._run_is_current = self._shown_is_current = False
        self.schedule_run()
        self._update_stale()
        self.state_changed.emit()

    def is_current(self) -> bool:
        """True while the result shown was made from the input and model as they are now."""
        return self._has_result and self._shown_is_current and self._shown_bundle is self.bundle

    def stale_reason(self) -> str:
        """Why the result shown is out of date, or "" (also when nothing is shown)."""
        if not self._has_result:
            return ""
        if self.runner.is_running():
            return "" if self._showing_partial else f"{self.running_text} again…"
        if self._cancelled:
            return "the run was cancelled; edit the input to run again"
        if not self.is_current():
            return "the input changed"
        return ""

    def schedule_run(self, delay_ms: int = DEBOUNCE_MS) -> None:
        """Run the analysis after `delay_ms` unless called again before; `input_changed()` calls it."""
        self._debounce.start(delay_ms)

    def add_runner(self, runner: JobRunner[Any, Any]) -> None:
        """Count `runner` (a batch's, a training's) among the tab's: `is_busy()`, `cancel()`, `stop()` and
        `shutdown()` cover its jobs too. Its signals stay the tab's to connect."""
        self._runners.append(runner)

    def add_timer(self, interval_ms: int, slot: Callable[[], None]) -> QTimer:
        """A single-shot timer of the tab's calling `slot`: while it is active the tab is busy (work is still to be
        done), and `stop()` stops it."""
        timer = QTimer(self)
        timer.setSingleShot(True)
        timer.setInterval(interval_ms)
        timer.timeout.connect(slot)
        self._timers.append(timer)
        return timer

    def request_model_manager(self, task: str) -> bool:
        """Ask the window to open its model manager on `task`'s models (`open_model_manager`); False when nothing
        listens (a tab on its own), for the tab to say where the manager is instead."""
        if not self.isSignalConnected(QMetaMethod.fromSignal(self.open_model_manager)):
            return False
        self.open_model_manager.emit(task)
        return True

    def is_busy(self) -> bool:
        """True while a run is scheduled or under way, on any of the tab's runners and timers."""
        return any(timer.isActive() for timer in self._timers) or any(r.is_running() for r in self._runners)

    def cancel(self) -> bool:
        """Cancel the job under way (Esc): the analysis', else that of the first runner added with one; returns
        whether there was one."""
        runner = next((r for r in self._runners if r.is_running()), None)
        if runner is None:
            return False
        runner.cancel()
        return True

    def stop(self) -> None:
        """Stop every timer (a scheduled run among them) and cancel every job, without waiting (the first half of
        `shutdown()`)."""
        for timer in self._timers:
            timer.stop()
        for runner in self._runners:
            runner.cancel_all()

    def shutdown(self, timeout_ms: int = 5000) -> None:
        """Stop for good (the window is closing): `stop()`, then wait up to `timeout_ms` for each runner's jobs."""
        self.stop()
        for runner in self._runners:
            runner.shutdown(timeout_ms)

    # --- plumbing ------------------------------------------------------------------------------------------

    def _run_if_ready(self) -> None:
        if self.bundle is None:
            return
        if self.model_fits(self.bundle):
            self.run_analysis()
        else:
            self.run_unfit()

    def _update_stale(self) -> None:
        self.show_stale(self.stale_reason())

    def _job_started(self) -> None:
        self._cancelled = False
        self._showing_partial = False
        self.on_started()
        self._update_stale()

    def _job_partial(self, value: P) -> None:
        if self._run_bundle is not self.bundle:
            return
        self._has_result = self._showing_partial = True
        self._shown_is_current, self._shown_bundle = self._run_is_current, self._run_bundle
        self.on_partial(value)
        self._update_stale()

    def _job_finished(self, result: R) -> None:
        self._showing_partial = False
        if self._run_bundle is not self.bundle:  # the model changed meanwhile: its run is scheduled
            self._update_stale()
            return
        self._has_result = True
        self._shown_is_current, self._shown_bundle = self._run_is_current, self._run_bundle
        self.on_result(result)
        self._update_stale()

    def _job_errored(self, message: str) -> None:
        self._has_result = self._showing_partial = False
        self.on_error(message)
        self._update_stale()

    def _job_cancelled(self) -> None:
        self._cancelled = True
        self._showing_partial = False
        self.on_cancelled()
        self._update_stale()
