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
    QLabel,
    QProgressBar,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from bertdesk.core.classify import FewShotHead
from bertdesk.ui.tabs.classify.pair_table import PairTable
from bertdesk.ui.tabs.classify.texts import FEW_SHOT_NOTE, SAMPLE_EXAMPLES
from bertdesk.ui.widgets import Heatmap, wrapped_label

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
        note = wrapped_label(self, FEW_SHOT_NOTE)
        self.table = PairTable("classify-examples", ("Text", "Label"), 0, self)
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
        self.report = wrapped_label(self, "Not trained yet.", name="classify-train-report", rich=True)
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
        add.clicked.connect(self.table.add_row)
        remove.clicked.connect(self.table.remove_selected)
        load.clicked.connect(self._choose_csv)
        self.train_button.clicked.connect(self.train_requested)
        self.save_button.clicked.connect(self.save_requested)
        self.table.edited.connect(self.changed)
        self.pooling.currentIndexChanged.connect(lambda _i: self.changed.emit())

    def examples(self) -> list[tuple[str, str]]:
        """(text, label) of every row with a text or a label (a half-filled row is the core's to refuse)."""
        pairs = ((text, label.strip()) for text, label in self.table.pairs())
        return [(text, label) for text, label in pairs if text.strip() or label]

    def set_examples(self, examples: list[tuple[str, str]]) -> None:
        """Replace the examples."""
        self.table.set_pairs(examples)

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

    def _choose_csv(self) -> None:
        name, _ = QFileDialog.getOpenFileName(self, "Load examples", "", "CSV (*.csv *.tsv *.txt);;All (*)")
        if name:
            self.load_requested.emit(str(Path(name)))
