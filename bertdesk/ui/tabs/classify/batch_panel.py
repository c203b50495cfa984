"""Batch classification: every line of pasted text or every row of a TXT/CSV file, streamed through the model on
the panel's own job runner, shown in a sortable table filled as rows arrive (no widget per row), exported as CSV."""

from __future__ import annotations

import time
from collections.abc import Callable, Generator
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from bertdesk.core.classify import Scorer, classify_stream, count_rows, count_text_rows, read_rows, rows_from_text
from bertdesk.core.files import TableData
from bertdesk.core.jobs import JobHandle
from bertdesk.ui.tabs.base import StaleLabel
from bertdesk.ui.tabs.classify.texts import BATCH_NOTE
from bertdesk.ui.widgets import ExportButton, TextBox, wrapped_label
from bertdesk.ui.workers import JobRunner

#: Rows gathered on the worker before they are added to the job's progress together (or after PARTIAL_S seconds).
PARTIAL_ROWS = 256
PARTIAL_S = 0.3
#: Labels shown as columns of their own (all of them are exported).
MAX_LABEL_COLUMNS = 8
_Index = QModelIndex | QPersistentModelIndex

#: One classified row as the table keeps it: its number, text, top label's id and every label's probability.
BatchRow = tuple[int, str, int, np.ndarray]


@dataclass(frozen=True)
class BatchProgress:
    """All a batch job has classified so far: the labels, how many rows are coming, and the rows done in input
    order, in the chunks they were classified in. Each partial result holds all the rows before it (the runner
    delivers only the latest), the result all of them."""

    labels: list[str]
    method: str
    total: int
    chunks: tuple[list[BatchRow], ...] = ()
    done: int = 0

    def with_rows(self, rows: list[BatchRow]) -> BatchProgress:
        """This progress with `rows` classified after it."""
        return replace(self, chunks=(*self.chunks, rows), done=self.done + len(rows))


def batch_job(
    make_scorer: Callable[[JobHandle], Scorer], text: str, path: Path | None
) -> Callable[[JobHandle], Generator[BatchProgress, None, BatchProgress]]:
    """The generator job: yields its progress (first with no rows, then with each chunk of rows classified) and
    returns it with every row."""

    def job(handle: JobHandle) -> Generator[BatchProgress, None, BatchProgress]:
        scorer = make_scorer(handle)
        total = count_rows(path) if path is not None else count_text_rows(text)
        rows = read_rows(path) if path is not None else rows_from_text(text)
        progress = BatchProgress(list(scorer.labels), scorer.method, total)
        yield progress
        buffer: list[BatchRow] = []
        last = time.monotonic()
        for row in classify_stream(scorer, rows, total=total, handle=handle):
            probabilities = np.zeros(len(scorer.labels), np.float32)
            for score in row.scores:
                probabilities[score.index] = score.probability
            buffer.append((row.index, row.text, row.top.index, probabilities))
            if len(buffer) >= PARTIAL_ROWS or time.monotonic() - last > PARTIAL_S:
                progress = progress.with_rows(buffer)
                yield progress
                buffer, last = [], time.monotonic()
        return progress.with_rows(buffer) if buffer else progress

    return job


class BatchModel(QAbstractTableModel):
    """The batch results, column by column in flat arrays: cheap for 100,000 rows, sorted with numpy."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.reset([])

    def reset(self, labels: list[str]) -> None:
        """Empty the table for a run over `labels`."""
        self.beginResetModel()
        self.labels = list(labels)
        self._numbers = np.zeros(0, np.int64)
        self._texts: list[str] = []
        self._tops = np.zeros(0, np.int32)
        self._probabilities = np.zeros((0, len(labels)), np.float32)
        self._count = 0
        self._order: np.ndarray | None = None
        self._sort: tuple[int, Qt.SortOrder] | None = None
        self.endResetModel()

    def _grow(self, needed: int) -> None:
        if needed <= len(self._numbers):
            return
        capacity = max(needed, 2 * len(self._numbers), 1024)
        self._numbers = np.resize(self._numbers, capacity)
        self._tops = np.resize(self._tops, capacity)
        probabilities = np.zeros((capacity, len(self.labels)), np.float32)
        probabilities[: self._count] = self._probabilities[: self._count]
        self._probabilities = probabilities

    def append(self, rows: list[BatchRow]) -> None:
        """Add rows at the end (re-sorting if a sort is on)."""
        if not rows:
            return
        start = self._count
        self._grow(start + len(rows))
        self.beginInsertRows(QModelIndex(), start, start + len(rows) - 1)
        for offset, (number, text, top, probabilities) in enumerate(rows):
            self._numbers[start + offset] = number
            self._tops[start + offset] = top
            self._probabilities[start + offset] = probabilities
            self._texts.append(text)
        self._count += len(rows)
        if self._order is not None:
            self._order = np.concatenate([self._order, np.arange(start, self._count)])
        self.endInsertRows()
        if self._sort is not None:
            self.sort(*self._sort)

    def columns(self) -> list[str]:
        """The column titles shown."""
        shown = self.labels if len(self.labels) <= MAX_LABEL_COLUMNS else []
        return ["#", "Text", "Label", "Probability", *shown]

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: N802, B008 (Qt's signature)
        """Rows classified so far."""
        return 0 if parent.isValid() else self._count

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: N802, B008 (Qt's signature)
        """#, text, label, probability and one column per label (up to MAX_LABEL_COLUMNS labels)."""
        return 0 if parent.isValid() else len(self.columns())

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole):  # noqa: N802
        """Column titles; the row header is not used."""
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return self.columns()[section]
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.ToolTipRole and section >= 4:
            return f"The probability of {self.columns()[section]}"
        return None

    def source_row(self, row: int) -> int:
        """The arrival index of the row shown at `row`."""
        return int(self._order[row]) if self._order is not None else row

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole):
        """Each cell's text, alignment and (for the text) the whole text as a tooltip."""
        if not index.isValid() or index.row() >= self._count:
            return None
        row, column = self.source_row(index.row()), index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            if column == 0:
                return str(int(self._numbers[row]))
            if column == 1:
                return self._texts[row]
            if column == 2:
                return self.labels[int(self._tops[row])]
            label = int(self._tops[row]) if column == 3 else column - 4
            return f"{float(self._probabilities[row, label]):.1%}"
        if role == Qt.ItemDataRole.ToolTipRole and column == 1:
            text = self._texts[row]
            return text if len(text) <= 2000 else text[:2000] + "…"
        if role == Qt.ItemDataRole.TextAlignmentRole and column != 1 and column != 2:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        """Sort by a column (stable); later rows are sorted in as they arrive. A column < 0: arrival order."""
        if not 0 <= column < self.columnCount():
            self.layoutAboutToBeChanged.emit()
            self._sort = self._order = None
            self.layoutChanged.emit()
            return
        self._sort = (column, order)
        n = self._count
        if column == 0:
            keys = self._numbers[:n]
        elif column == 1:
            keys = np.array(self._texts, dtype=object)
        elif column == 2:
            ranks = np.argsort(np.argsort(np.array(self.labels, dtype=object), kind="stable"))
            keys = ranks[self._tops[:n]] if n else np.zeros(0)
        elif column == 3:
            keys = self._probabilities[np.arange(n), self._tops[:n]]
        else:
            keys = self._probabilities[:n, column - 4]
        order_ = np.argsort(keys, kind="stable")
        if order == Qt.SortOrder.DescendingOrder:
            order_ = order_[::-1]
        self.layoutAboutToBeChanged.emit()
        self._order = order_
        self.layoutChanged.emit()

    def table_data(self, title: str = "") -> TableData:
        """Every row as shown (sorted or not), with every label's probability, for CSV and JSON."""
        rows = []
        for shown in range(self._count):
            row = self.source_row(shown)
            top = int(self._tops[row])
            rows.append((int(self._numbers[row]), self._texts[row], self.labels[top],
                         float(self._probabilities[row, top]), *map(float, self._probabilities[row])))
        return TableData(("row", "text", "label", "probability", *self.labels), tuple(rows), title)


class BatchPanel(QWidget):
    """Lines or a file in, a live table out; Run, Cancel, progress, rows/s and Export."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.runner: JobRunner[BatchProgress, BatchProgress] = JobRunner(self)
        self._make_scorer: Callable[[JobHandle], Scorer] | None = None
        self._path: Path | None = None
        self._started = 0.0
        self._total = 0
        self._chunks_shown: int | None = None  # of the run's progress; None: not even its labels yet
        self._has_rows = False
        self._cancelled = False
        self._changed = ""

        self.note = wrapped_label(self, BATCH_NOTE)
        self.lines = TextBox(self)
        self.lines.setObjectName("classify-batch-lines")
        self.lines.setPlaceholderText("One text per line…")
        self.lines.setLineWrapMode(TextBox.LineWrapMode.NoWrap)
        self.file_button = QPushButton("Open file…", self)
        self.file_button.setToolTip("Classify every line of a TXT file, or every row of a CSV/TSV file")
        self.file_label = QLabel("Source: the lines above", self)
        self.file_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.clear_file_button = QPushButton("Use the lines", self)
        self.clear_file_button.setToolTip("Classify the lines typed above instead of the file")
        self.clear_file_button.hide()
        self.run_button = QPushButton("Run batch", self)
        self.run_button.setObjectName("classify-batch-run")
        self.cancel_button = QPushButton("Cancel", self)
        self.cancel_button.setEnabled(False)
        self.progress = QProgressBar(self)
        self.progress.setTextVisible(True)
        self.progress.setFormat("%p%")
        self.rate = QLabel("", self)
        self.rate.setObjectName("classify-batch-rate")
        self.stale_label = StaleLabel(self)

        self.model = BatchModel(self)
        self.table = QTableView(self)
        self.table.setObjectName("classify-batch-table")
        self.table.setModel(self.model)
        self.table.setSortingEnabled(True)
        self.table.horizontalHeader().setSortIndicatorShown(True)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.table.horizontalHeader().setStretchLastSection(False)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 6)
        self.table.setWordWrap(False)
        self.table.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.table.setAlternatingRowColors(True)
        self.table.horizontalHeader().setSortIndicator(-1, Qt.SortOrder.AscendingOrder)
        self.export_button = ExportButton(self, self)
        self.export_button.setToolTip("Save every row (with every label's probability) as CSV or JSON")

        source = QHBoxLayout()
        source.addWidget(self.file_button)
        source.addWidget(self.clear_file_button)
        source.addWidget(self.file_label, 1)
        controls = QHBoxLayout()
        controls.addWidget(self.run_button)
        controls.addWidget(self.cancel_button)
        controls.addWidget(self.progress, 1)
        controls.addWidget(self.rate)
        top = QWidget(self)
        top_layout = QVBoxLayout(top)
        top_layout.setContentsMargins(0, 0, 0, 0)
        top_layout.addWidget(self.note)
        top_layout.addWidget(self.lines, 1)
        top_layout.addLayout(source)
        bottom = QWidget(self)
        bottom_layout = QVBoxLayout(bottom)
        bottom_layout.setContentsMargins(0, 0, 0, 0)
        bottom_layout.addLayout(controls)
        bottom_layout.addWidget(self.stale_label)
        bottom_layout.addWidget(self.table, 1)
        footer = QHBoxLayout()
        footer.addStretch(1)
        footer.addWidget(self.export_button)
        bottom_layout.addLayout(footer)
        splitter = QSplitter(Qt.Orientation.Vertical, self)
        splitter.addWidget(top)
        splitter.addWidget(bottom)
        splitter.setChildrenCollapsible(False)
        splitter.setStretchFactor(0, 1)
        splitter.setStretchFactor(1, 3)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(splitter)

        self.file_button.clicked.connect(self._choose_file)
        self.clear_file_button.clicked.connect(lambda: self.set_file(None))
        self.cancel_button.clicked.connect(self.cancel)
        self.lines.textChanged.connect(lambda: self.mark_changed("the lines changed") if self._path is None else None)
        self.runner.started.connect(self._started_job)
        self.runner.partial.connect(self._show_progress)
        self.runner.finished.connect(self._finished)
        self.runner.errored.connect(self._errored)
        self.runner.cancelled.connect(self._cancelled_job)
        self.runner.progress.connect(lambda f, _text: self.progress.setValue(round(1000 * f)))
        self.progress.setRange(0, 1000)
        self.progress.setValue(0)

    # --- inputs

    def set_file(self, path: Path | None) -> None:
        """Classify the rows of `path` (None: the lines typed above)."""
        self._path = path
        self.file_label.setText(f"Source: {path}" if path else "Source: the lines above")
        self.file_label.setToolTip(str(path) if path else "")
        self.clear_file_button.setVisible(path is not None)
        self.lines.setEnabled(path is None)
        self.mark_changed("the source changed")

    def _choose_file(self) -> None:
        name, _ = QFileDialog.getOpenFileName(self, "Classify a file", "", "Text or CSV (*.txt *.csv *.tsv);;All (*)")
        if name:
            self.set_file(Path(name))

    # --- running

    def run(self, make_scorer: Callable[[JobHandle], Scorer]) -> None:
        """Classify the source with the scorer `make_scorer(handle)` builds (on the worker thread)."""
        self.runner.submit(batch_job(make_scorer, self.lines.toPlainText(), self._path), "batch")

    def cancel(self) -> bool:
        """Stop the run under way; the rows classified so far stay, marked as cut short."""
        if not self.runner.is_running():
            return False
        self.runner.cancel()
        return True

    def is_running(self) -> bool:
        """True while a batch runs."""
        return self.runner.is_running()

    def mark_changed(self, reason: str) -> None:
        """The classifier or the source changed: the rows shown no longer match it."""
        self._changed = reason
        self._update_stale()

    def _update_stale(self) -> None:
        if not self._has_rows or self.runner.is_running():
            self.stale_label.set_reason("")
        elif self._cancelled:
            self.stale_label.set_reason("the run was cancelled; the table holds the rows done before it. "
                                        "Run the batch again for the rest")
        else:
            self.stale_label.set_reason(self._changed)

    def _started_job(self) -> None:
        self._cancelled = False
        self._changed = ""
        self._has_rows = False
        self._chunks_shown = None
        self.model.reset([])
        self.table.horizontalHeader().setSortIndicator(-1, Qt.SortOrder.AscendingOrder)
        self.progress.setValue(0)
        self.rate.setText("starting…")
        self.run_button.setEnabled(False)
        self.cancel_button.setEnabled(True)
        self._started = time.monotonic()
        self._update_stale()

    def _show_progress(self, progress: BatchProgress) -> None:
        """Add the rows of `progress` not in the table yet (the first time, set the table's labels)."""
        if self._chunks_shown is None:
            self._total = progress.total
            self.model.reset(progress.labels)
            self._fit_columns()
            self._chunks_shown = 0
        self.model.append([row for chunk in progress.chunks[self._chunks_shown:] for row in chunk])
        self._chunks_shown = len(progress.chunks)
        if not progress.done:
            self.rate.setText(f"0 of {progress.total:,} rows")
            return
        self._has_rows = True
        done = self.model.rowCount()
        elapsed = max(time.monotonic() - self._started, 1e-6)
        speed = done / elapsed
        left = (self._total - done) / speed if speed > 0 else 0
        self.rate.setText(f"{done:,} of {self._total:,} rows · {speed:,.0f} rows/s · {left:,.0f} s left")
        if self._total:
            self.progress.setValue(round(1000 * done / self._total))

    def _fit_columns(self) -> None:
        header = self.table.horizontalHeader()
        width = self.fontMetrics().horizontalAdvance("100.0%") + 24
        self.table.setColumnWidth(0, self.fontMetrics().horizontalAdvance("100,000") + 16)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.table.setColumnWidth(2, max([self.fontMetrics().horizontalAdvance(x) for x in self.model.labels] + [60])
                                  + 24)
        for column in range(3, self.model.columnCount()):
            header.resizeSection(column, max(width, self.fontMetrics().horizontalAdvance(
                self.model.columns()[column]) + 24))

    def _end(self) -> None:
        self.run_button.setEnabled(True)
        self.cancel_button.setEnabled(False)
        self._update_stale()

    def _finished(self, progress: BatchProgress) -> None:
        self._show_progress(progress)
        elapsed = max(time.monotonic() - self._started, 1e-6)
        self.progress.setValue(1000)
        self.rate.setText(f"{progress.done:,} rows in {elapsed:,.1f} s · {progress.done / elapsed:,.0f} rows/s")
        self._end()

    def _errored(self, message: str) -> None:
        self.rate.setText(message)
        self._end()

    def _cancelled_job(self) -> None:
        self._cancelled = True
        self.rate.setText(f"cancelled after {self.model.rowCount():,} of {self._total:,} rows")
        self._end()

    # --- export

    def export_data(self) -> TableData | None:
        """Every row classified, as shown."""
        return self.model.table_data("batch") if self.model.rowCount() else None

    def export_view(self) -> QWidget:
        """The table."""
        return self.table

    def export_name(self) -> str:
        """The file name suggested."""
        return f"{self._path.stem}-classified" if self._path else "classified"
