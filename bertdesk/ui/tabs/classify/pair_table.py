"""An editable table of two text columns (a few-shot example's text and label, a zero-shot label and its
description), with what the Add and Remove buttons beside it do."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, Qt, Signal
from PySide6.QtWidgets import QHeaderView, QTableWidget, QTableWidgetItem, QWidget


class PairTable(QTableWidget):
    """Two editable text columns; `edited` when the user edits a cell or removes rows, and once per `set_pairs`.
    Tab and Shift-Tab move to the other cell of the row being edited, never to another row."""

    edited = Signal()

    def __init__(self, name: str, headers: tuple[str, str], stretch: int, parent: QWidget | None = None) -> None:
        """`name` is the object name; column `stretch` (0 or 1) takes the spare width, the other fits its texts."""
        super().__init__(0, 2, parent)
        self.setObjectName(name)
        self.setHorizontalHeaderLabels(list(headers))
        header = self.horizontalHeader()
        for column in (0, 1):
            mode = QHeaderView.ResizeMode.Stretch if column == stretch else QHeaderView.ResizeMode.ResizeToContents
            header.setSectionResizeMode(column, mode)
        self.verticalHeader().hide()
        self.itemChanged.connect(lambda _item: self.edited.emit())

    def pairs(self) -> list[tuple[str, str]]:
        """The two cells' texts of every row as typed ("" for a cell never filled)."""
        cells = ((self.item(row, 0), self.item(row, 1)) for row in range(self.rowCount()))
        return [(first.text() if first else "", second.text() if second else "") for first, second in cells]

    def set_pairs(self, pairs: list[tuple[str, str]]) -> None:
        """Replace the rows."""
        self.blockSignals(True)
        self.setRowCount(0)
        for pair in pairs:
            self._append(pair)
        self.blockSignals(False)
        self.edited.emit()

    def add_row(self) -> None:
        """Append an empty row and start editing its first cell (made the current one: Tab moves from the current
        cell, so an editor away from it would send the next edit to another row)."""
        item = self._append(("", ""))
        self.setCurrentItem(item)
        self.editItem(item)

    def moveCursor(self, cursorAction: QTableWidget.CursorAction,  # noqa: N802, N803 (Qt's names)
                   modifiers: Qt.KeyboardModifier) -> QModelIndex:
        """Tab and Shift-Tab go to the other cell of the current row instead of wrapping into the next or last row."""
        current = self.currentIndex()
        steps = {QTableWidget.CursorAction.MoveNext: 1, QTableWidget.CursorAction.MovePrevious: -1}
        if current.isValid() and cursorAction in steps:
            return self.model().index(current.row(), (current.column() + steps[cursorAction]) % self.columnCount())
        return super().moveCursor(cursorAction, modifiers)

    def remove_selected(self) -> None:
        """Remove the rows that have a selected cell."""
        rows = sorted({index.row() for index in self.selectedIndexes()}, reverse=True)
        for row in rows:
            self.removeRow(row)
        if rows:
            self.edited.emit()

    def _append(self, pair: tuple[str, str]) -> QTableWidgetItem:
        row = self.rowCount()
        self.insertRow(row)
        for column, text in enumerate(pair):
            self.setItem(row, column, QTableWidgetItem(text))
        return self.item(row, 0)
