"""Soak of the model manager: thousands of hovers over both tables, resizes, tab and selection changes while the
models are listed again; the dialog must stay whole and in step with the models folder."""

from __future__ import annotations

import sys

import pytest
from PySide6.QtCore import QEvent, QPoint, QPointF, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QApplication

from bertdesk.ui.models.installed_table import NAME

HOVERS = 3000
RESIZES = 300


def _move(widget, pos: QPoint) -> None:
    QApplication.sendEvent(widget, QMouseEvent(
        QEvent.Type.MouseMove, QPointF(pos), QPointF(widget.mapToGlobal(pos)), Qt.MouseButton.NoButton,
        Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier))


@pytest.mark.slow
def test_hovering_resizing_and_relisting_leave_the_dialog_whole(qtbot, manager, window, models):
    none_refs = sys.getrefcount(None)
    names = sorted(p.name for p in models.iterdir())
    for step in range(HOVERS):
        manager.tabs.setCurrentIndex((step // 500) % 2)
        view = manager.table.viewport() if manager.tabs.currentIndex() == 0 else manager.catalogue.table.viewport()
        _move(view, QPoint(7 + step * 13 % max(view.width() - 14, 1), 5 + step * 7 % max(view.height() - 10, 1)))
        if step % 10 == 0:
            manager.resize(700 + step % RESIZES * 3, 500 + step % 200)
        if step % 250 == 0:
            manager.table.selectRow(step // 250 % manager.table.rowCount())
            window.models.refresh_models()
        if step % 50 == 0:
            QApplication.processEvents()
    qtbot.waitUntil(lambda: not window.is_busy(), timeout=30_000)
    listed = sorted(manager.table.item(r, NAME).text().split(" (")[0] for r in range(manager.table.rowCount()))
    assert listed == names
    assert manager.isVisible() and window.bundle is not None
    assert sys.getrefcount(None) >= none_refs - 100  # no Qt binding that drops None's count on every call
