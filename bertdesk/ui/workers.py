"""Running core jobs off the GUI thread: one job at a time per tab, the stale ones cancelled and ignored."""

from __future__ import annotations

import logging
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import QObject, QThreadPool, Signal, Slot
from superqt.utils import FunctionWorker, create_worker

from bertdesk.core.errors import BertdeskError, JobCancelled
from bertdesk.core.jobs import JobHandle

logger = logging.getLogger(__name__)

#: Progress reports closer together than this are dropped, so that a job reporting in a tight loop cannot flood
#: the GUI thread's event queue.
PROGRESS_INTERVAL_S = 0.05
#: The worker threads' name (as the OS shows it) and how long an idle one lives.
THREAD_NAME = "bertdesk-jobs"
IDLE_THREAD_EXPIRY_MS = 1000


@dataclass(eq=False)
class _Job:
    handle: JobHandle
    description: str
    worker: FunctionWorker | None = None


class JobRunner(QObject):
    """One active job per tab (Orange3-style): submit() cancels the job under way — including its onnxruntime
    run, via JobHandle.cancel() — and results/errors of a stale job are dropped, never emitted.

    Jobs run as superqt workers in a thread pool of the runner's own, so that `shutdown()` waits for exactly its
    threads. Every signal is emitted on the GUI thread.
    """

    started = Signal()
    progress = Signal(float, str)
    finished = Signal(object)
    errored = Signal(str)
    cancelled = Signal()

    # Carries progress from the worker thread to this object's (the GUI) thread.
    _progress_from_job = Signal(object, float, str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._current: _Job | None = None
        # Keeps every started worker alive until it has finished, as superqt's own start() does.
        self._jobs: list[_Job] = []
        self._pool = QThreadPool(self)
        self._pool.setObjectName(THREAD_NAME)
        self._pool.setExpiryTimeout(IDLE_THREAD_EXPIRY_MS)
        self._progress_from_job.connect(self._on_progress)

    def submit(self, fn: Callable[[JobHandle], object], description: str = "") -> None:
        """Run `fn(handle)` in a worker thread, cancelling the job under way first.

        `description` names the job in error messages and in the log ("tokenize", "load model").
        """
        if self._current is not None:
            self._current.handle.cancel()
        last_report = [0.0]
        job: _Job

        def report(fraction: float, text: str) -> None:
            now = time.monotonic()
            if fraction >= 1.0 or now - last_report[0] >= PROGRESS_INTERVAL_S:
                last_report[0] = now
                self._progress_from_job.emit(job, fraction, text)

        job = _Job(handle=JobHandle(on_progress=report), description=description)

        def work() -> object:
            job.handle.check()
            return fn(job.handle)

        worker = create_worker(work, _start_thread=False, _ignore_errors=True)
        worker.returned.connect(lambda value: self._on_returned(job, value))
        worker.errored.connect(lambda exc: self._on_errored(job, exc))
        worker.warned.connect(lambda args: logger.warning("%s", warnings.formatwarning(*args[:4]).strip()))
        worker.finished.connect(lambda: self._jobs.remove(job))
        job.worker = worker
        self._current = job
        self._jobs.append(job)
        self.started.emit()
        self._pool.start(worker)

    def cancel(self) -> None:
        """Cancel the job under way, if any; `cancelled` is emitted at once and its outcome is ignored."""
        job, self._current = self._current, None
        if job is None:
            return
        job.handle.cancel()
        self.cancelled.emit()

    def is_running(self) -> bool:
        """True while the current job has neither finished, failed nor been cancelled."""
        return self._current is not None

    def cancel_all(self) -> None:
        """Cancel every job of this runner, stale ones included, without waiting; nothing more is emitted."""
        self._current = None
        for job in self._jobs:
            job.handle.cancel()

    def shutdown(self, timeout_ms: int = 5000) -> None:
        """Cancel every job of this runner and wait up to `timeout_ms` for its threads to end."""
        self.cancel_all()
        if not self._pool.waitForDone(timeout_ms):
            logger.warning("Jobs %s did not stop within %d ms", [job.description for job in self._jobs], timeout_ms)

    @Slot(object, float, str)
    def _on_progress(self, job: _Job, fraction: float, text: str) -> None:
        if job is self._current:
            self.progress.emit(fraction, text)

    def _on_returned(self, job: _Job, value: object) -> None:
        if job is not self._current:
            return
        self._current = None
        self.finished.emit(value)

    def _on_errored(self, job: _Job, exc: BaseException) -> None:
        if job is not self._current:
            return
        self._current = None
        if isinstance(exc, JobCancelled):
            self.cancelled.emit()
        elif isinstance(exc, BertdeskError):
            self.errored.emit(str(exc))
        else:
            logger.error("Unexpected error in job %r", job.description, exc_info=exc)
            self.errored.emit(describe_unexpected(exc, job.description))


def describe_unexpected(exc: BaseException, description: str = "") -> str:
    """One readable line for an exception that is not a `BertdeskError` (the traceback goes to the log)."""
    detail = str(exc).strip().splitlines()
    summary = f"{type(exc).__name__}: {detail[0]}" if detail else type(exc).__name__
    if len(summary) > 200:
        summary = summary[:197] + "..."
    where = f" while running {description!r}" if description else ""
    return f"Unexpected error{where}: {summary} (details in the log file)"
