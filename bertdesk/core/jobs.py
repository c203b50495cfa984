"""A small task protocol shared by the core and the UI: progress, cancellation, interruption of onnxruntime runs,
and the app-wide budget of onnxruntime threads that every run draws from."""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING

from bertdesk.core.errors import JobCancelled

if TYPE_CHECKING:  # onnxruntime loads with the first run, not with the window
    import onnxruntime as ort

ProgressCallback = Callable[[float, str], None]


def default_budget_size() -> int:
    """The app's onnxruntime threads: `BERTDESK_THREADS`, else every core but one (left for the window), min 1."""
    override = os.environ.get("BERTDESK_THREADS", "").strip()
    if override.isdigit() and int(override) > 0:
        return int(override)
    return max(1, (os.cpu_count() or 1) - 1)


class ThreadBudget:
    """Tokens for onnxruntime intra-op threads, shared by every job of the app: a run takes as many tokens as it
    uses threads and gives them back when it ends, so that all runs together never use more than `total`.

    `peak` records the most tokens ever in use at once and `waits` how many acquisitions had to wait (for tests
    and diagnostics).
    """

    def __init__(self, total: int | None = None) -> None:
        self.total = max(1, total if total is not None else default_budget_size())
        self._in_use = 0
        self._condition = threading.Condition()
        self.peak = 0
        self.waits = 0

    @property
    def in_use(self) -> int:
        """Tokens held right now."""
        with self._condition:
            return self._in_use

    def acquire(self, threads: int, cancelled: threading.Event) -> int:
        """Take `threads` tokens (at most `total`), waiting until they are free; returns how many were taken.

        Raises `JobCancelled` at once if `cancelled` is set before or while waiting (`wake()` interrupts the wait).
        """
        wanted = min(max(1, threads), self.total)
        with self._condition:
            if self._in_use + wanted > self.total and not cancelled.is_set():
                self.waits += 1
            self._condition.wait_for(lambda: cancelled.is_set() or self._in_use + wanted <= self.total)
            if cancelled.is_set():
                raise JobCancelled()
            self._in_use += wanted
            self.peak = max(self.peak, self._in_use)
        return wanted

    def release(self, threads: int) -> None:
        """Give back tokens taken by `acquire()`."""
        with self._condition:
            self._in_use -= threads
            self._condition.notify_all()

    def wake(self) -> None:
        """Wake every waiting `acquire()` so that a cancelled one raises at once."""
        with self._condition:
            self._condition.notify_all()


_budget: ThreadBudget | None = None
_budget_lock = threading.Lock()


def thread_budget() -> ThreadBudget:
    """The app-wide thread budget (made on first use from `default_budget_size()`)."""
    global _budget
    with _budget_lock:
        if _budget is None:
            _budget = ThreadBudget()
        return _budget


def set_thread_budget(budget: ThreadBudget | None) -> None:
    """Replace the app-wide budget (None: a fresh default one on next use); for tests and the app's start-up."""
    global _budget
    with _budget_lock:
        _budget = budget


class JobHandle:
    """Handed to every long core function: it reports progress and learns that it should stop.

    `cancel()` may be called from any thread: it sets a flag that `check()` turns into `JobCancelled`, and it
    terminates every onnxruntime run started through `run_options()`, so a long inference stops at once. Runs take
    their threads from `budget` (default: the app-wide `thread_budget()`).
    """

    def __init__(self, on_progress: ProgressCallback | None = None, *, budget: ThreadBudget | None = None) -> None:
        self._on_progress = on_progress
        self._cancelled = threading.Event()
        self._lock = threading.Lock()
        self._active: set[ort.RunOptions] = set()
        self._budget = budget

    def progress(self, fraction: float, text: str = "") -> None:
        """Report progress, `fraction` in [0, 1], with a short text for a status line."""
        if self._on_progress is not None:
            self._on_progress(min(max(float(fraction), 0.0), 1.0), text)

    def is_cancelled(self) -> bool:
        """True once `cancel()` was called."""
        return self._cancelled.is_set()

    def check(self) -> None:
        """Raise `JobCancelled` if the job was cancelled; call it between steps."""
        if self._cancelled.is_set():
            raise JobCancelled()

    def cancel(self) -> None:
        """Stop the job: flag it and terminate any onnxruntime run under way."""
        self._cancelled.set()
        with self._lock:
            for options in self._active:
                options.terminate = True
        self.budget().wake()

    def budget(self) -> ThreadBudget:
        """The thread budget this job's runs draw from."""
        return self._budget if self._budget is not None else thread_budget()

    def sub(self, start: float, stop: float, prefix: str = "") -> JobHandle:
        """A handle for one step of this job: its progress maps into [start, stop] of this one's, and cancelling
        either cancels both."""
        child = JobHandle(lambda f, text: self.progress(start + (stop - start) * f, prefix + text))
        child._cancelled, child._lock, child._active = self._cancelled, self._lock, self._active
        child._budget = self._budget
        return child

    @contextmanager
    def run_options(self, threads: int = 1) -> Iterator[ort.RunOptions]:
        """RunOptions for one onnxruntime run that `cancel()` can terminate from another thread.

        Holds `threads` tokens of the thread budget for the run (pass the session's intra-op thread count), waiting
        for them if other runs hold them; a job cancelled while waiting raises `JobCancelled` at once.
        """
        import onnxruntime as ort

        budget = self.budget()
        taken = budget.acquire(threads, self._cancelled)
        try:
            options = ort.RunOptions()
            with self._lock:
                if self._cancelled.is_set():
                    raise JobCancelled()
                self._active.add(options)
            try:
                yield options
            finally:
                with self._lock:
                    self._active.discard(options)
        finally:
            budget.release(taken)


def ensure_handle(handle: JobHandle | None) -> JobHandle:
    """The handle given, or a fresh one that is never cancelled and reports nowhere."""
    return handle if handle is not None else JobHandle()


_PR_SET_PDEATHSIG = 1


def _die_with_this_process() -> Callable[[], None] | None:
    """A preexec_fn that makes the child get SIGKILL when this process dies (Linux), even by kill -9."""
    if not sys.platform.startswith("linux"):
        return None
    libc = ctypes.CDLL(None, use_errno=True)
    parent = os.getpid()

    def preexec() -> None:
        # The signal follows the thread that started the child; run_child's caller waits for it, so that
        # thread outlives the child.
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
        if os.getppid() != parent:  # the parent died before prctl took effect
            os._exit(1)

    return preexec


def run_child(command: Sequence[str], handle: JobHandle | None = None) -> tuple[int, str]:
    """Run `command` to its end; returns its exit code and standard error.

    Cancelling `handle` stops the child (and raises `JobCancelled`); on Linux the child also dies when this process
    does, so a killed app leaves no orphan behind. OSError if the command cannot be started.
    """
    handle = ensure_handle(handle)
    process = subprocess.Popen(
        list(command), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        errors="replace", preexec_fn=_die_with_this_process(),
    )
    while True:
        try:
            _, stderr = process.communicate(timeout=0.1)
            return process.returncode, stderr
        except subprocess.TimeoutExpired:
            if handle.is_cancelled():
                process.kill()
                process.communicate()
                raise JobCancelled() from None
