"""Soak tests of the real window, and of the crash guard in a real process that dies.

The soak reproduces what aborted the window in issue 6 (mouse over a sentence's pieces ~110 times, ~14 wheel clicks
over a 1,079-token view): thousands of hovers, wheel scrolls over a long view, resizes and typing, after which the
window must still be alive and None's reference count must not have fallen.
"""

from __future__ import annotations

import gc
import os
import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtCore import QEvent, QPoint, QPointF, Qt
from PySide6.QtGui import QMouseEvent, QWheelEvent
from PySide6.QtWidgets import QApplication

from bertdesk.ui.app import open_main_window
from bertdesk.ui.crash_guard import MARKER_NAME
from bertdesk.ui.main_window import MainWindow
from bertdesk.ui.settings_store import SettingsStore

HOVERS = 2000
WHEEL_CLICKS = 200
LONG_TEXT = "Tokenizers split unfamiliar words into wordpieces, while everyday words stay whole. " * 90


def _move(widget, pos: QPoint) -> None:
    QApplication.sendEvent(
        widget,
        QMouseEvent(
            QEvent.Type.MouseMove,
            QPointF(pos),
            QPointF(widget.mapToGlobal(pos)),
            Qt.MouseButton.NoButton,
            Qt.MouseButton.NoButton,
            Qt.KeyboardModifier.NoModifier,
        ),
    )


def _wheel(widget, pos: QPoint, clicks: int) -> None:
    QApplication.sendEvent(
        widget,
        QWheelEvent(
            QPointF(pos),
            QPointF(widget.mapToGlobal(pos)),
            QPoint(0, 0),
            QPoint(0, 120 * clicks),
            Qt.MouseButton.NoButton,
            Qt.KeyboardModifier.NoModifier,
            Qt.ScrollPhase.NoScrollPhase,
            False,
        ),
    )


@pytest.mark.slow
def test_hover_scroll_resize_and_typing_soak(qtbot, tiny_bundle):
    window = MainWindow(SettingsStore(), model=str(tiny_bundle))
    qtbot.addWidget(window)
    window.show()
    qtbot.waitUntil(lambda: window.bundle is not None and not window.is_busy(), timeout=30_000)
    tab = window.tabs[0]
    view = tab.main_pane.view
    gc.collect()  # earlier tests' garbage, freed during the soak, would lower None's count by tens of thousands
    before = sys.getrefcount(None)

    tab.set_input_text("The quick brown fox jumps over the lazy dog, unbelievably quickly today.")
    qtbot.waitUntil(lambda: tab.tokenization() is not None and not tab.is_busy(), timeout=20_000)
    pieces = view.rendered_count()
    assert pieces >= 15
    for step in range(HOVERS):
        rect = view.piece_rect(step % pieces)
        _move(view.viewport(), rect.center() if step % 7 else QPoint(2, 2))  # now and then off every piece
        if step % 50 == 0:
            QApplication.processEvents()  # paint what the hovers changed

    tab.set_input_text(LONG_TEXT)
    qtbot.waitUntil(
        lambda: tab.tokenization() is not None and tab.tokenization().text == LONG_TEXT and not tab.is_busy(),
        timeout=20_000,
    )
    assert view.rendered_count() > 1000
    bar = view.verticalScrollBar()
    middle = view.viewport().rect().center()
    for click in range(WHEEL_CLICKS):
        _wheel(view.viewport(), middle, -1 if (click // 40) % 2 == 0 else 1)
        _move(view.viewport(), middle + QPoint(click % 50, 0))
        QApplication.processEvents()
    assert bar.maximum() > 0

    for width, height in [(1600, 1000), (1024, 700), (800, 560), (1200, 780)] * 3:
        window.resize(width, height)
        QApplication.processEvents()
    tab.text_edit.setFocus()
    qtbot.keyClicks(tab.text_edit, " and some more typing at the end")
    qtbot.waitUntil(lambda: not tab.is_busy(), timeout=20_000)

    assert window.isVisible()
    gc.collect()
    assert sys.getrefcount(None) >= before - 50
    window.close()


CRASHING_RUN = """
import faulthandler, sys
from bertdesk.ui.app import open_main_window, make_application
make_application()
window, guard = open_main_window(sys.argv[1])
faulthandler._sigsegv()
"""


@pytest.mark.slow
def test_a_crash_is_logged_and_reported_at_the_next_start(qtbot, tiny_bundle, user_folders):
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    crashed = subprocess.run(
        [sys.executable, "-c", CRASHING_RUN, str(tiny_bundle)], env=env, capture_output=True, text=True, timeout=120
    )
    assert crashed.returncode != 0
    log = (user_folders / "bertdesk.log").read_text(encoding="utf-8")
    assert "Fatal Python error: Segmentation fault" in log
    assert (user_folders / MARKER_NAME).exists()

    window, guard = open_main_window(str(tiny_bundle))
    qtbot.addWidget(window)
    try:
        assert "did not exit cleanly last time" in window.messages.text()
        assert "Fatal Python error: Segmentation fault" in window.messages.text()
    finally:
        guard.close()
        window.close()
    assert not (user_folders / MARKER_NAME).exists()
    window, guard = open_main_window(str(tiny_bundle))  # after a clean exit: nothing to report
    qtbot.addWidget(window)
    assert "did not exit cleanly" not in window.messages.text()
    guard.close()
    window.close()


@pytest.mark.slow
def test_a_clean_exit_leaves_no_marker_and_no_resource_warning(tiny_bundle, user_folders: Path):
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    run = subprocess.run(
        [sys.executable, "-X", "dev", "-W", "error::ResourceWarning", "-m", "bertdesk.ui.app",
         "--model", str(tiny_bundle), "--quit-after", "1500"],
        env=env, capture_output=True, text=True, timeout=120,
    )
    assert run.returncode == 0, run.stderr
    assert "ResourceWarning" not in run.stderr and "Traceback" not in run.stderr
    assert not (user_folders / MARKER_NAME).exists()
    assert "bertdesk started" in (user_folders / "bertdesk.log").read_text(encoding="utf-8")

