"""A small task protocol shared by the core and the UI: progress, cancellation, interruption of onnxruntime runs."""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager

import onnxruntime as ort

from bertdesk.core.errors import JobCancelled

ProgressCallback = Callable[[float, str], None]


class JobHandle:
    """Handed to every long core function: it reports progress and learns that it should stop.

    `cancel()` may be called from any thread: it sets a flag that `check()` turns into `JobCancelled`, and it
    terminates every onnxruntime run started through `run_options()`, so a long inference stops at once.
    """

    def __init__(self, on_progress: ProgressCallback | None = None) -> None:
        self._on_progress = on_progress
        self._cancelled = threading.Event()
        self._lock = threading.Lock()
        self._active: set[ort.RunOptions] = set()

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

    def sub(self, start: float, stop: float, prefix: str = "") -> JobHandle:
        """A handle for one step of this job: its progress maps into [start, stop] of this one's, and cancelling
        either cancels both."""
        child = JobHandle(lambda f, text: self.progress(start + (stop - start) * f, prefix + text))
        child._cancelled, child._lock, child._active = self._cancelled, self._lock, self._active
        return child

    @contextmanager
    def run_options(self) -> Iterator[ort.RunOptions]:
        """RunOptions for one onnxruntime run that `cancel()` can terminate from another thread."""
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
