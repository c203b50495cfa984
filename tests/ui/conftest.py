"""UI test set-up: offscreen Qt, user folders in tmp_path, and no thread, pool work or timer left running after a
test."""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
from collections.abc import Callable, Iterator
from logging.handlers import RotatingFileHandler
from pathlib import Path
from weakref import WeakKeyDictionary

# Before anything imports Qt: no display is needed or used.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest
from PySide6.QtCore import QThread, QThreadPool, QTimer

from bertdesk.core.jobs import JobHandle
from tests.conftest import calling_place


class UntilCancelled:
    """A job that runs until its handle is cancelled: `started` is set when it begins, `stopped` when it ends."""

    def __init__(self) -> None:
        self.started, self.stopped = threading.Event(), threading.Event()

    def __call__(self, handle: JobHandle) -> None:
        self.started.set()
        try:
            while True:
                handle.check()
                time.sleep(0.01)
        finally:
            self.stopped.set()


#: How long pool work may take to return after its job's function has (napari's figure).
POOL_SETTLE_MS = 20


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
def no_leftover_qt_work(qtbot, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Fail a test that leaves a QThread running, work in a QThreadPool or a QTimer running (napari-style), naming
    where each was started. Runs after the test's own fixtures (and qtbot's widgets) are torn down."""
    qthreads: WeakKeyDictionary[QThread, str] = WeakKeyDictionary()
    pools: WeakKeyDictionary[QThreadPool, list[str]] = WeakKeyDictionary()
    timers: WeakKeyDictionary[QTimer, str] = WeakKeyDictionary()
    thread_start, pool_start, timer_start = QThread.start, QThreadPool.start, QTimer.start

    def recording_thread_start(self: QThread, *args: object) -> None:
        qthreads[self] = calling_place()
        thread_start(self, *args)

    def recording_pool_start(self: QThreadPool, *args: object) -> None:
        pools.setdefault(self, []).append(calling_place())
        pool_start(self, *args)

    def recording_timer_start(self: QTimer, *args: object) -> None:
        timers[self] = calling_place()
        timer_start(self, *args)

    monkeypatch.setattr(QThread, "start", recording_thread_start)
    monkeypatch.setattr(QThreadPool, "start", recording_pool_start)
    monkeypatch.setattr(QTimer, "start", recording_timer_start)
    yield
    leaks = [f"QThread started at {place}" for thread, place in list(qthreads.items()) if _alive(thread.isRunning)]
    for pool, places in list(pools.items()):
        # The work's last signals are emitted just after its function returns: 20 ms, as napari allows.
        if not pool.waitForDone(POOL_SETTLE_MS):
            leaks.append(f"{pool.activeThreadCount()} QThreadPool job(s), started at {'; '.join(places)}")
    leaks += [f"QTimer started at {place}" for timer, place in list(timers.items()) if _alive(timer.isActive)]
    for timer in list(timers):
        with contextlib.suppress(RuntimeError):
            timer.stop()
    assert not leaks, "the test left these running:\n" + "\n".join(leaks)


def _alive(predicate: Callable[[], bool]) -> bool:
    try:
        return bool(predicate())
    except RuntimeError:  # the C++ object is gone, and with it its thread or timer
        return False


@pytest.fixture
def open_window(qtbot):
    """Opens main windows (closed at teardown) and, unless `wait` is False, waits for their model."""
    from bertdesk.ui.main_window import MainWindow
    from bertdesk.ui.settings_store import SettingsStore

    windows: list[MainWindow] = []

    def open_(model: Path | str | None = None, *, store: SettingsStore | None = None, wait: bool = True) -> MainWindow:
        window = MainWindow(store if store is not None else SettingsStore(), model=str(model) if model else None)
        qtbot.addWidget(window)
        windows.append(window)
        window.show()
        if wait:
            qtbot.waitUntil(lambda: window.bundle is not None and not window.is_busy(), timeout=30_000)
        return window

    yield open_
    for window in windows:
        window.close()
