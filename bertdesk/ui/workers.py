"""Running core jobs off the GUI thread: one app-wide thread pool, one job at a time per runner (a tab, the model
controller), the stale ones cancelled and ignored, generator jobs delivering partial results (the latest one, at most
every PARTIAL_INTERVAL_S)."""

from __future__ import annotations

import logging
import threading
import time
import warnings
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from PySide6.QtCore import QObject, QThreadPool, QTimer, Signal, Slot

from bertdesk.core.errors import BertdeskError, JobCancelled, describe_unexpected
from bertdesk.core.jobs import JobHandle
from bertdesk.ui.error_text import error_text

if TYPE_CHECKING:  # superqt.utils pulls in qtpy, pygments and QtOpenGL: ~0.5 s, loaded with the first job
    from superqt.utils import FunctionWorker

logger = logging.getLogger(__name__)

#: Progress reports closer together than this are dropped, so that a job reporting in a tight loop cannot flood
#: the GUI thread's event queue.
PROGRESS_INTERVAL_S = 0.05
#: Partial results are delivered at most this often: those a job yields meanwhile are dropped but the latest, so that
#: a job yielding faster than the GUI thread shows its results cannot flood it (the first one comes at once).
PARTIAL_INTERVAL_S = 0.05
#: The worker threads' name (as the OS shows it) and how long an idle one lives.
THREAD_NAME = "bertdesk-jobs"
IDLE_THREAD_EXPIRY_MS = 1000
#: Threads of the app-wide pool. Jobs mostly wait (on onnxruntime, on the thread budget, on a child process): the
#: CPU is shared out by the core's ThreadBudget, not by the pool's size.
MAX_POOL_THREADS = 16

_pool: QThreadPool | None = None


def job_pool() -> QThreadPool:
    """The app-wide pool every JobRunner starts its jobs in."""
    global _pool
    if _pool is None:
        _pool = QThreadPool()
        _pool.setObjectName(THREAD_NAME)
        _pool.setExpiryTimeout(IDLE_THREAD_EXPIRY_MS)
        _pool.setMaxThreadCount(MAX_POOL_THREADS)
    return _pool


#: The result of a runner's jobs, and the partial result its generator jobs yield. The checker reads them with
#: defaults (PEP 696, in typing from Python 3.13), so that a runner made without type arguments is a
#: JobRunner[Any, Any]; at run time they have no use.
if TYPE_CHECKING:
    from typing_extensions import TypeVar as DefaultedTypeVar

    R = DefaultedTypeVar("R", default=Any)
    P = DefaultedTypeVar("P", default=Any)
else:
    R, P = TypeVar("R"), TypeVar("P")
#: A job: called with its handle on a worker thread; returns the result, or is a generator that yields partial
#: results and returns the final one.
JobFunction = Callable[[JobHandle], "R | Generator[P, None, R]"]


@dataclass(eq=False)
class _Job(Generic[R, P]):
    fn: JobFunction[R, P]
    handle: JobHandle
    description: str
    worker: FunctionWorker | None = None
    #: Set on the worker thread once `fn` has returned or raised.
    done: threading.Event = field(default_factory=threading.Event)
    #: The latest partial result not delivered yet (`has_partial`), written on the worker thread, read on the GUI's.
    partial: P | None = None
    has_partial: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)

    def offer_partial(self, value: P) -> bool:
        """Keep `value` as the partial result to deliver, replacing one not delivered yet; True if none was waiting
        (the GUI thread must be told)."""
        with self.lock:
            waiting = self.has_partial
            self.partial, self.has_partial = value, True
        return not waiting

    def take_partial(self) -> tuple[bool, P | None]:
        """(True, the latest partial result) if one waits to be delivered, else (False, None)."""
        with self.lock:
            taken = self.has_partial, self.partial
            self.partial, self.has_partial = None, False
        return taken


class JobRunner(QObject, Generic[R, P]):
    """One active job per runner (Orange3-style): submit() cancels the job under way — including its onnxruntime
    run, via JobHandle.cancel() — and results/errors of a stale job are dropped, never emitted.

    At most one job of a runner is in flight: a job submitted while a cancelled one is still winding down starts
    once that one has ended (a later submit replaces it before it starts), so a tab never runs two models at once.
    Jobs run as superqt workers in the app-wide `job_pool()`. Every signal is emitted on the GUI thread.

    `R` is the type of the jobs' results (`finished`), `P` that of the partial results their generators yield
    (`partial`). Partial results are coalesced: the first one of a job is delivered at the next turn of the event
    loop, later ones at most every PARTIAL_INTERVAL_S, each time the latest one yielded; the latest one still
    waiting when the job returns is delivered just before its result (not before an error or a cancel). A job's
    partial results therefore each hold all the job has to show so far.
    """

    started = Signal()
    progress = Signal(float, str)
    partial = Signal(object)
    finished = Signal(object)
    errored = Signal(str)
    #: The user error itself (a BertdeskError), emitted just before `errored` shows it: for a listener that acts on
    #: its kind, never on its text (the model controller offers the wheel import on DefaultModelMissing).
    user_error = Signal(object)
    cancelled = Signal()

    # Carry progress and partial results from the worker thread to this object's (the GUI) thread.
    _progress_from_job = Signal(object, float, str)
    _partial_from_job = Signal(object)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._current: _Job[R, P] | None = None
        self._pending: _Job[R, P] | None = None  # submitted while an older job still runs
        # Jobs started and not finished: keeps every started worker alive until it has finished, as superqt's own
        # start() does.
        self._jobs: list[_Job[R, P]] = []
        # The next partial result waits for this timer when the last one was delivered less than
        # PARTIAL_INTERVAL_S ago (`_partial_due`, monotonic seconds).
        self._partial_timer = QTimer(self)
        self._partial_timer.setSingleShot(True)
        self._partial_timer.timeout.connect(self._deliver_partial)
        self._partial_due = 0.0
        self._progress_from_job.connect(self._on_progress)
        self._partial_from_job.connect(self._on_partial)

    def submit(self, fn: JobFunction[R, P], description: str = "") -> None:
        """Run `fn(handle)` in a worker thread, cancelling the job under way first.

        `fn` returns the result (`finished`), or is a generator: each value it yields is emitted as `partial`, the
        value it returns as `finished`. `description` names the job in error messages and in the log ("tokenize",
        "load model").
        """
        if self._current is not None:
            self._current.handle.cancel()
        last_report = [0.0]
        job: _Job[R, P]

        def report(fraction: float, text: str) -> None:
            now = time.monotonic()
            if fraction >= 1.0 or now - last_report[0] >= PROGRESS_INTERVAL_S:
                last_report[0] = now
                self._progress_from_job.emit(job, fraction, text)

        job = _Job(fn=fn, handle=JobHandle(on_progress=report), description=description)
        self._current = job
        self._drop_partials()
        self.started.emit()
        if self._jobs:
            self._pending = job  # a job still winds down: this one waits for it (a pending one is just dropped)
        else:
            self._start(job)

    def _start(self, job: _Job[R, P]) -> None:
        def work() -> R:
            outcome = None
            try:
                job.handle.check()
                outcome = job.fn(job.handle)
                if not isinstance(outcome, Generator):
                    return outcome
                while True:
                    try:
                        value = next(outcome)
                    except StopIteration as stop:
                        return stop.value
                    job.handle.check()
                    if job.offer_partial(value):
                        self._partial_from_job.emit(job)
            finally:
                if isinstance(outcome, Generator):
                    outcome.close()  # a job stopped between partials ends its lanes now, not when collected
                job.done.set()

        from superqt.utils import create_worker

        worker = create_worker(work, _start_thread=False, _ignore_errors=True)
        worker.returned.connect(lambda value: self._on_returned(job, value))
        worker.errored.connect(lambda exc: self._on_errored(job, exc))
        worker.warned.connect(lambda args: logger.warning("%s", warnings.formatwarning(*args[:4]).strip()))
        worker.finished.connect(lambda: self._on_finished(job))
        job.worker = worker
        self._jobs.append(job)
        job_pool().start(worker)

    def _on_finished(self, job: _Job[R, P]) -> None:
        self._jobs.remove(job)
        pending, self._pending = self._pending, None
        if pending is not None and pending is self._current:
            self._start(pending)

    def cancel(self) -> None:
        """Cancel the job under way, if any; `cancelled` is emitted at once and its outcome is ignored."""
        job, self._current = self._current, None
        self._pending = None
        if job is None:
            return
        self._drop_partials()
        job.handle.cancel()
        self.cancelled.emit()

    def is_running(self) -> bool:
        """True while the current job has neither finished, failed nor been cancelled."""
        return self._current is not None

    def cancel_all(self) -> None:
        """Cancel every job of this runner, stale ones included, without waiting; nothing more is emitted."""
        self._current = self._pending = None
        self._drop_partials()
        for job in self._jobs:
            job.handle.cancel()

    def shutdown(self, timeout_ms: int = 5000) -> None:
        """Cancel every job of this runner and wait up to `timeout_ms` for them to end."""
        self.cancel_all()
        deadline = time.monotonic() + timeout_ms / 1000
        for job in list(self._jobs):
            job.done.wait(max(0.0, deadline - time.monotonic()))
        unfinished = [job.description for job in self._jobs if not job.done.is_set()]
        if unfinished:
            logger.warning("Jobs %s did not stop within %d ms", unfinished, timeout_ms)

    @Slot(object, float, str)
    def _on_progress(self, job: _Job[R, P], fraction: float, text: str) -> None:
        if job is self._current:
            self.progress.emit(fraction, text)

    @Slot(object)
    def _on_partial(self, job: _Job[R, P]) -> None:
        """A partial result of `job` waits: deliver it now, or when PARTIAL_INTERVAL_S has passed since the last."""
        if job is not self._current:
            return
        wait_s = self._partial_due - time.monotonic()
        if wait_s <= 0:
            self._deliver_partial()
        elif not self._partial_timer.isActive():
            self._partial_timer.start(max(1, round(wait_s * 1000)))

    def _deliver_partial(self) -> None:
        """Emit the latest partial result of the current job, if one waits (a stale job's never: it is not read)."""
        job = self._current
        if job is None:
            return
        waiting, value = job.take_partial()
        if waiting:
            self._partial_due = time.monotonic() + PARTIAL_INTERVAL_S
            self.partial.emit(value)

    def _drop_partials(self) -> None:
        """The current job changed or ended: no partial result of the one before is delivered, and the next job's
        first one comes at once."""
        self._partial_timer.stop()
        self._partial_due = 0.0

    def _on_returned(self, job: _Job[R, P], value: R) -> None:
        if job is not self._current:
            return
        self._deliver_partial()
        self._current = None
        self._drop_partials()
        self.finished.emit(value)

    def _on_errored(self, job: _Job[R, P], exc: BaseException) -> None:
        if job is not self._current:
            return
        self._current = None
        self._drop_partials()
        if isinstance(exc, JobCancelled):
            self.cancelled.emit()
        elif isinstance(exc, BertdeskError):
            self.user_error.emit(exc)
            self.errored.emit(error_text(exc))
        else:
            logger.error("Unexpected error in job %r", job.description, exc_info=exc)
            self.errored.emit(describe_unexpected(exc, job.description))
