"""UI test set-up: offscreen Qt, user folders in tmp_path, and no thread left running after a test."""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
from collections.abc import Iterator
from logging.handlers import RotatingFileHandler
from pathlib import Path

# Before anything imports Qt: no display is needed or used.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest  # noqa: E402
from PySide6.QtCore import QThread, QThreadPool  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from bertdesk.ui.workers import IDLE_THREAD_EXPIRY_MS, THREAD_NAME  # noqa: E402

#: How long a thread may take to end after its test before the test fails.
THREAD_GRACE_S = 2.0 + IDLE_THREAD_EXPIRY_MS / 1000


@pytest.fixture(autouse=True)
def user_folders(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Point the data folder, the models folder and XDG_DATA_HOME into tmp_path, and log there."""
    from bertdesk.ui.error_log import setup_logging

    data = tmp_path / "data"
    monkeypatch.setenv("BERTDESK_DATA", str(data))
    monkeypatch.setenv("BERTDESK_MODELS", str(tmp_path / "models"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    setup_logging()
    yield data
    logger = logging.getLogger("bertdesk")
    for handler in list(logger.handlers):
        if isinstance(handler, RotatingFileHandler):
            logger.removeHandler(handler)
            handler.close()


@pytest.fixture(autouse=True)
def no_leftover_threads(qapp: QApplication, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Fail a test that leaves a Python thread, a QThread, a job runner's thread or a global thread-pool job
    running (napari-style)."""
    before = set(threading.enumerate())
    qthreads: list[QThread] = []
    original_start = QThread.start

    def recording_start(self: QThread, *args: object) -> None:
        qthreads.append(self)
        original_start(self, *args)

    monkeypatch.setattr(QThread, "start", recording_start)
    yield
    deadline = time.monotonic() + THREAD_GRACE_S
    while True:
        leftovers = _running_threads(before, qthreads)
        if not leftovers:
            return
        if time.monotonic() > deadline:
            pytest.fail(f"threads still running {THREAD_GRACE_S:.0f} s after the test: {', '.join(leftovers)}")
        qapp.processEvents()
        time.sleep(0.02)


def _running_threads(before: set[threading.Thread], qthreads: list[QThread]) -> list[str]:
    names = [
        thread.name
        for thread in threading.enumerate()
        # Qt's pool threads show up as dummy threads once Python runs in them; the pool count covers them.
        if thread not in before and thread.is_alive() and not isinstance(thread, threading._DummyThread)
    ]
    for qthread in qthreads:
        try:
            if qthread.isRunning():
                names.append(f"QThread {qthread.objectName() or hex(id(qthread))}")
        except RuntimeError:  # the C++ object is gone, so is its thread
            pass
    busy = QThreadPool.globalInstance().activeThreadCount()
    if busy:
        names.append(f"{busy} global QThreadPool job(s)")
    names += [name for name in _os_thread_names() if name == THREAD_NAME]
    return names


def _os_thread_names() -> list[str]:
    # The job runners' pool threads are named after their pool; an idle one ends IDLE_THREAD_EXPIRY_MS after its
    # last job, well within the grace period. Only Linux lists them in /proc.
    tasks = Path("/proc/self/task")
    if not tasks.is_dir():
        return []
    names = []
    for task in tasks.iterdir():
        with contextlib.suppress(OSError):  # the thread ended meanwhile
            names.append((task / "comm").read_text().strip())
    return names
