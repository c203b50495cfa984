"""A wrapped label in a narrow column grows to show all its lines instead of being cut at its one-line height."""

from __future__ import annotations

from PySide6.QtWidgets import QTableWidget, QVBoxLayout, QWidget
from pytestqt.qtbot import QtBot

from bertdesk.ui.tabs.classify.texts import ZERO_SHOT_NOTE
from bertdesk.ui.widgets.wrapped_label import wrapped_label


def test_a_wrapped_label_gets_the_height_of_all_its_lines(qtbot: QtBot) -> None:
    column = QWidget()
    qtbot.addWidget(column)
    layout = QVBoxLayout(column)
    label = wrapped_label(column, ZERO_SHOT_NOTE)
    layout.addWidget(label)
    layout.addWidget(QTableWidget(4, 2, column), 1)  # a neighbour that takes every spare pixel
    for width in (240, 320, 600):
        column.resize(width, 500)
        column.show()
        qtbot.waitUntil(lambda: label.width() > 0)
        qtbot.wait(10)
        assert label.height() >= label.heightForWidth(label.width()), width
