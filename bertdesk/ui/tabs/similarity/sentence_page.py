"""The Sentence × sentence view: one vector per sentence (pooled), their cosine, rows ordered by similarity, and
the most similar pairs."""

from __future__ import annotations

import html

import numpy as np
from PySide6.QtCore import Signal
from PySide6.QtWidgets import QCheckBox, QComboBox, QWidget

from bertdesk.core.bundles import Bundle
from bertdesk.core.similarity import most_similar_pairs, order_by_similarity
from bertdesk.ui.tabs.similarity.analysis import Analysis
from bertdesk.ui.tabs.similarity.layout import controls_bar, labelled, page_layout, plot_with_side, shrinkable
from bertdesk.ui.tabs.similarity.pages import caption, note, set_note
from bertdesk.ui.tabs.similarity.texts import SENTENCES_CAPTION
from bertdesk.ui.widgets import Heatmap

POOLINGS = (("the model's own", None), ("mean of the tokens", "mean"), ("the [CLS] vector", "cls"))
LABEL_CHARS = 34


def short_label(index: int, sentence: str) -> str:
    """ "3. The bank of the river…": numbered, cut to a readable length."""
    text = sentence if len(sentence) <= LABEL_CHARS else sentence[: LABEL_CHARS - 1].rstrip() + "…"
    return f"{index + 1}. {text}"


class SentencePage(QWidget):
    """Sentence × sentence cosine of pooled vectors, one sentence per line of the text."""

    #: The user chose another pooling: the tab runs the sentences again.
    pooling_changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.analysis: Analysis | None = None
        self.pooling_box = QComboBox(self)
        for text, key in POOLINGS:
            self.pooling_box.addItem(text, key)
        self.pooling_box.setToolTip("How one vector is made from a sentence's token vectors (last layer).")
        self.reorder = QCheckBox("Order rows by similarity", self)
        self.reorder.setToolTip("Put similar sentences next to each other (by the matrix's leading eigenvector).")
        self.heatmap = shrinkable(Heatmap(self, "Type two or more sentences, one per line."))
        self.pairs = caption(parent=self)
        self.pairs.setObjectName("similarity-pairs")
        self.caption = caption(SENTENCES_CAPTION, self)
        self.note = note(self)
        page_layout(self, controls_bar(self, labelled(self, "Pooling", self.pooling_box), self.reorder), self.note,
                    plot_with_side(self, self.heatmap, self.pairs, self.caption))
        self.pooling_box.currentIndexChanged.connect(self._pooling_changed)
        self.reorder.toggled.connect(self.redraw)

    def pooling(self, bundle: Bundle) -> str:
        """The pooling chosen: mean or cls (the model's own resolved)."""
        return self.pooling_box.currentData() or bundle.info.pooling

    def needs_run(self, analysis: Analysis | None) -> bool:
        """Whether `analysis` lacks the sentences with the chosen pooling."""
        return analysis is not None and analysis.sentence_pooling != self.pooling(analysis.bundle)

    def _pooling_changed(self) -> None:
        self.pooling_changed.emit()
        self.redraw()

    def show_analysis(self, analysis: Analysis) -> None:
        """Draw the sentences of `analysis`."""
        self.analysis = analysis
        native = analysis.bundle.info.pooling
        self.pooling_box.setItemText(0, f"the model's own ({'[CLS]' if native == 'cls' else 'mean'})")
        self.redraw()

    def redraw(self) -> None:
        """Draw the matrix (reordered on request) and list the most similar pairs."""
        analysis = self.analysis
        if analysis is None:
            return
        if self.needs_run(analysis):
            set_note(self.note, "Embedding the sentences…")
            return
        if analysis.sentence_matrix is None:
            set_note(self.note, analysis.sentence_error)
            self.heatmap.clear()
            self.pairs.setText("")
            return
        set_note(self.note, "")
        matrix = analysis.sentence_matrix
        labels = [short_label(i, s) for i, s in enumerate(analysis.sentences)]
        order = order_by_similarity(matrix) if self.reorder.isChecked() else np.arange(len(labels))
        shown = [labels[i] for i in order]
        pooling = "[CLS]" if analysis.sentence_pooling == "cls" else "mean"
        self.heatmap.set_matrix(matrix[np.ix_(order, order)], shown, shown, "diverging",
                                title=f"Cosine of the sentences ({pooling} pooling)")
        rows = "".join(
            f"<li>{value:.3f}: {html.escape(a)} · {html.escape(b)}</li>"
            for a, b, value in most_similar_pairs(labels, matrix, 5)
        )
        self.pairs.setText(f"<b>Most similar pairs</b><ol style='margin-left:-20px'>{rows}</ol>")
