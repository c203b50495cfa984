"""The few-shot settings: examples (typed or loaded from a CSV of text,label), pooling, Train, the k-fold accuracy
and confusion matrix, and Save as model."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from bertdesk.core.classify.few_shot import FewShotHead
from bertdesk.ui.tabs.classify.texts import FEW_SHOT_NOTE, SAMPLE_EXAMPLES
from bertdesk.ui.widgets.heatmap import Heatmap

POOLINGS = {"mean": "mean pooling", "cls": "[CLS] pooling"}


class FewShotPanel(QWidget):
    """Examples in, a trained head's report out. `train_requested`, `save_requested`, `load_requested(path)` and
    `changed` are for the tab, which runs the jobs."""

    train_requested = Signal()
    save_requested = Signal()
    load_requested = Signal(str)
    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        note = QLabel(FEW_SHOT_NOTE, self)
        note.setWordWrap(True)
        note.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.table = QTableWidget(0, 2, self)
        self.table.setObjectName("classify-examples")
        self.table.setHorizontalHeaderLabels(["Text", "Label"])
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.table.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        self.table.verticalHeader().hide()
        add = QPushButton("Add", self)
        remove = QPushButton("Remove", self)
        load = QPushButton("Load CSV…", self)
        load.setToolTip("Examples from a CSV file: columns text and label (by header, or the first two)")
        self.pooling = QComboBox(self)
        for key, text in POOLINGS.items():
            self.pooling.addItem(text, key)
        self.pooling.setToolTip("Which sentence vector the layer reads")
        self.train_button = QPushButton("Train", self)
        self.train_button.setObjectName("classify-train")
        self.save_button = QPushButton("Save as model…", self)
        self.save_button.setObjectName("classify-save-head")
        self.save_button.setEnabled(False)
        self.save_button.setToolTip("Write the encoder and this layer as a new classification model (one ONNX "
                                    "graph) into the models folder; it then appears in the Model list")
        self.progress = QProgressBar(self)
        self.progress.setRange(0, 1000)
        self.progress.hide()
        self.report = QLabel("Not trained yet.", self)
        self.report.setObjectName("classify-train-report")
        self.report.setWordWrap(True)
        self.report.setTextFormat(Qt.TextFormat.RichText)
        self.report.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.switch_button = QPushButton("Switch to it", self)
        self.switch_button.hide()
        self.confusion = Heatmap(self, placeholder="The confusion matrix appears after training.")
        self.confusion.setMinimumHeight(140)

        buttons = QHBoxLayout()
        for button in (add, remove, load):
            buttons.addWidget(button)
        buttons.addStretch(1)
        train_row = QHBoxLayout()
        train_row.addWidget(QLabel("Vector:", self))
        train_row.addWidget(self.pooling, 1)
        save_row = QHBoxLayout()
        save_row.addWidget(self.train_button, 1)
        save_row.addWidget(self.save_button, 1)
        top = QWidget(self)
        top_layout = QVBoxLayout(top)
        top_layout.setContentsMargins(0, 0, 0, 0)
        top_layout.addWidget(note)
        top_layout.addWidget(self.table, 1)
        top_layout.addLayout(buttons)
        top_layout.addLayout(train_row)
        top_layout.addLayout(save_row)
        top_layout.addWidget(self.progress)
        bottom = QWidget(self)
        bottom_layout = QVBoxLayout(bottom)
        bottom_layout.setContentsMargins(0, 0, 0, 0)
        report_row = QHBoxLayout()
        report_row.addWidget(self.report, 1)
        report_row.addWidget(self.switch_button)
        bottom_layout.addLayout(report_row)
        bottom_layout.addWidget(self.confusion, 1)
        splitter = QSplitter(Qt.Orientation.Vertical, self)
        splitter.addWidget(top)
        splitter.addWidget(bottom)
        splitter.setChildrenCollapsible(False)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(splitter)

        self.set_examples(SAMPLE_EXAMPLES)
        add.clicked.connect(self._add)
        remove.clicked.connect(self._remove)
        load.clicked.connect(self._choose_csv)
        self.train_button.clicked.connect(self.train_requested)
        self.save_button.clicked.connect(self.save_requested)
        self.table.itemChanged.connect(lambda _item: self.changed.emit())
        self.pooling.currentIndexChanged.connect(lambda _i: self.changed.emit())

    def examples(self) -> list[tuple[str, str]]:
        """(text, label) of every row with a text or a label (a half-filled row is the core's to refuse)."""
        result = []
        for row in range(self.table.rowCount()):
            text, label = (self.table.item(row, c) for c in (0, 1))
            pair = (text.text() if text else "", label.text().strip() if label else "")
            if pair[0].strip() or pair[1]:
                result.append(pair)
        return result

    def set_examples(self, examples: list[tuple[str, str]]) -> None:
        """Replace the examples."""
        self.table.blockSignals(True)
        self.table.setRowCount(0)
        for text, label in examples:
            row = self.table.rowCount()
            self.table.insertRow(row)
            self.table.setItem(row, 0, QTableWidgetItem(text))
            self.table.setItem(row, 1, QTableWidgetItem(label))
        self.table.blockSignals(False)
        self.changed.emit()

    def pooling_key(self) -> str:
        """"mean" or "cls"."""
        return self.pooling.currentData()

    def set_training(self, on: bool) -> None:
        """Show progress and disable Train while a head trains or saves."""
        self.progress.setVisible(on)
        self.progress.setValue(0)
        self.train_button.setEnabled(not on)
        if on:
            self.save_button.setEnabled(False)

    def show_head(self, head: FewShotHead | None, *, can_save: bool, stale: str = "") -> None:
        """The report of a trained head (None: not trained), and its confusion matrix."""
        self.save_button.setEnabled(head is not None and can_save and not stale)
        if head is None:
            self.report.setText(stale or "Not trained yet.")
            self.confusion.clear()
            return
        cv = head.cross_validation
        k = len(head.labels)
        text = (f"Trained on {head.num_examples} examples, {k} labels: a layer W of {k}×{head.weight.shape[1]} "
                f"+ b. Training accuracy {head.training_accuracy:.0%}. ")
        if cv is None:
            text += "<b>No k-fold check</b>: give every label at least two examples."
            self.confusion.clear()
        else:
            text += (f"<b>{cv.folds}-fold accuracy {cv.accuracy:.0%}</b> (each example predicted by a head trained "
                     "without it). Rows: the true label; columns: the predicted one.")
            matrix = np.asarray(cv.confusion, np.float64)
            self.confusion.set_matrix(matrix, head.labels, head.labels, kind="sequential",
                                      title=f"Confusion matrix, {cv.folds}-fold", levels=(0.0, max(matrix.max(), 1)))
        if stale:
            text = f'<span style="color:#b45309;">Out of date: {stale}.</span> ' + text
        if not can_save:
            text += " (Saving needs an embedding model: this one already has a head.)"
        self.report.setText(text)

    def _add(self) -> None:
        row = self.table.rowCount()
        self.table.insertRow(row)
        self.table.setItem(row, 0, QTableWidgetItem(""))
        self.table.setItem(row, 1, QTableWidgetItem(""))
        self.table.editItem(self.table.item(row, 0))

    def _remove(self) -> None:
        rows = sorted({index.row() for index in self.table.selectedIndexes()}, reverse=True)
        for row in rows:
            self.table.removeRow(row)
        if rows:
            self.changed.emit()

    def _choose_csv(self) -> None:
        name, _ = QFileDialog.getOpenFileName(self, "Load examples", "", "CSV (*.csv *.tsv *.txt);;All (*)")
        if name:
            self.load_requested.emit(str(Path(name)))
