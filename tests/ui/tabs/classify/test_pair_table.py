"""The label and example tables: keyboard edits land in the row being edited, and nothing else changes."""

from __future__ import annotations

import random

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QLineEdit
from pytestqt.qtbot import QtBot

from bertdesk.ui.tabs.classify.pair_table import PairTable

ROWS = [("sports", "games and matches"), ("politics", ""), ("cooking", "recipes"), ("science", "")]


@pytest.fixture
def table(qtbot: QtBot) -> PairTable:
    table = PairTable("pairs", ("Label", "Description"), 1)
    qtbot.addWidget(table)
    table.resize(500, 300)
    table.show()
    qtbot.waitExposed(table)
    table.set_pairs(list(ROWS))
    return table


def editor(table: PairTable) -> QLineEdit:
    QApplication.processEvents()  # as the event loop would between two key presses
    widget = table.indexWidget(table.currentIndex())
    assert isinstance(widget, QLineEdit), "the current cell has no editor open"
    return widget


def rows(table: PairTable) -> list[tuple[str, str]]:
    """The table's rows once the events of the last key press are handled (Enter commits through a queued call)."""
    QApplication.processEvents()
    return table.pairs()


def type_in_editor(qtbot: QtBot, table: PairTable, text: str) -> None:
    line = editor(table)
    line.selectAll()
    qtbot.keyClicks(line, text)


@pytest.mark.parametrize("current", [(0, 0), (2, 1), None])
def test_add_type_tab_type_enter_fills_the_new_row_only(qtbot: QtBot, table: PairTable, current) -> None:
    if current is not None:  # where the user clicked before pressing Add
        table.setCurrentCell(*current)
    table.add_row()
    type_in_editor(qtbot, table, "weather")
    qtbot.keyClick(editor(table), Qt.Key.Key_Tab)
    type_in_editor(qtbot, table, "rain and sun")
    qtbot.keyClick(editor(table), Qt.Key.Key_Return)
    assert rows(table) == [*ROWS, ("weather", "rain and sun")]
    table.add_row()  # again: its own row, the others untouched
    type_in_editor(qtbot, table, "music")
    qtbot.keyClick(editor(table), Qt.Key.Key_Tab)
    type_in_editor(qtbot, table, "songs")
    qtbot.keyClick(editor(table), Qt.Key.Key_Enter)
    assert rows(table) == [*ROWS, ("weather", "rain and sun"), ("music", "songs")]


def test_shift_tab_goes_back_within_the_row(qtbot: QtBot, table: PairTable) -> None:
    table.add_row()
    type_in_editor(qtbot, table, "a")
    qtbot.keyClick(editor(table), Qt.Key.Key_Tab)
    type_in_editor(qtbot, table, "b")
    qtbot.keyClick(editor(table), Qt.Key.Key_Backtab)
    type_in_editor(qtbot, table, "c")
    qtbot.keyClick(editor(table), Qt.Key.Key_Return)
    assert rows(table) == [*ROWS, ("c", "b")]


def test_soak_thousands_of_keyboard_edits_match_a_model_of_the_rows(qtbot: QtBot, table: PairTable) -> None:
    """Random adds (from wherever the current cell is), cells opened by hand and keyboard edits (type, then Tab,
    Shift-Tab or Enter): after every step the table holds exactly what a list of rows edited by hand would."""
    rng = random.Random(21)
    expected = [list(row) for row in ROWS]
    editing = False
    for step in range(1500):
        if not editing:
            if rng.random() < 0.2:
                if rng.random() < 0.5:
                    table.setCurrentCell(rng.randrange(len(expected)), rng.randrange(2))
                table.add_row()
                expected.append(["", ""])
            else:
                row, column = rng.randrange(len(expected)), rng.randrange(2)
                table.setCurrentCell(row, column)
                table.editItem(table.item(row, column))
        row, column = table.currentRow(), table.currentColumn()
        type_in_editor(qtbot, table, f"t{step}")
        expected[row][column] = f"t{step}"
        key = rng.choice([Qt.Key.Key_Tab, Qt.Key.Key_Backtab, Qt.Key.Key_Return])
        qtbot.keyClick(editor(table), key)
        assert rows(table) == [tuple(r) for r in expected], f"step {step}"
        editing = key != Qt.Key.Key_Return
        if editing:  # Tab and Shift-Tab stay in the row: the other cell, its editor open
            assert (table.currentRow(), table.currentColumn()) == (row, 1 - column), f"step {step}"
        else:
            assert table.state() != PairTable.State.EditingState, f"step {step}"
