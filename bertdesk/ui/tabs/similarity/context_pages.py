"""Views of how context moves token vectors: one word in two contexts through the layers, [CLS] against the
rest, and a token's nearest neighbours (in the vocabulary's input embeddings and among the input's tokens)."""

from __future__ import annotations

import numpy as np
from PySide6.QtWidgets import QComboBox, QSizePolicy, QSpinBox, QWidget

from bertdesk.core.similarity import (
    cls_attention_by_layer,
    cls_cosine_by_layer,
    contextual_neighbours,
    cosine_by_layer,
    nearest_rows,
)
from bertdesk.ui.tabs.similarity.analysis import Analysis
from bertdesk.ui.tabs.similarity.layout import AdaptiveSplitter, controls_bar, labelled, page_layout, shrinkable
from bertdesk.ui.tabs.similarity.pages import WAITING, LayerPicker, caption, note, set_note
from bertdesk.ui.tabs.similarity.texts import CLS_CAPTION, NEIGHBOURS_CAPTION, WORD_CAPTION, word_reading
from bertdesk.ui.widgets import Bars, Curves, Heatmap


def token_picker(parent: QWidget, tip: str) -> QComboBox:
    """A list of the input's tokens ("#3 bank"), its data the token's index."""
    box = QComboBox(parent)
    box.setToolTip(tip)
    box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
    box.setMinimumContentsLength(10)
    return box


def fill_tokens(box: QComboBox, pieces: list[str], chosen: int) -> None:
    """Put the tokens in `box` and select `chosen`, without signalling."""
    box.blockSignals(True)
    box.clear()
    for i, piece in enumerate(pieces):
        box.addItem(f"#{i} {piece}", i)
    box.setCurrentIndex(max(0, min(chosen, len(pieces) - 1)))
    box.blockSignals(False)


def default_tokens(pieces: list[str], special: np.ndarray) -> tuple[int, int, int]:
    """(first, second, other): two occurrences of the longest repeated word (a content word rather than "the"), and
    the first other word of four letters or more (indices)."""
    words = [i for i in range(len(pieces)) if not special[i]] or list(range(len(pieces)))
    where: dict[str, list[int]] = {}
    for i in words:
        where.setdefault(pieces[i], []).append(i)
    repeated = [found for found in where.values() if len(found) > 1]
    if repeated:
        first, second = max(repeated, key=lambda found: (len(pieces[found[0]]), -found[0]))[:2]
    else:
        first, second = words[0], words[-1]
    others = [i for i in words if pieces[i] != pieces[first] and i != second]
    other = next((i for i in others if len(pieces[i]) >= 4), others[0] if others else second)
    return first, second, other


class WordPage(QWidget):
    """The cosine of one word's two occurrences after every layer, beside that of two different words."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.analysis: Analysis | None = None
        self.first = token_picker(self, "A word, in its first context.")
        self.second = token_picker(self, "The same word elsewhere in the text (another context).")
        self.other = token_picker(self, "A different word, to compare with.")
        self.curves = shrinkable(Curves(self, WAITING))
        self.caption = caption(WORD_CAPTION, self)
        self.note = note(self)
        controls = controls_bar(self, labelled(self, "Word", self.first), labelled(self, "again at", self.second),
                                labelled(self, "a different word", self.other))
        page_layout(self, controls, self.note, self.curves, self.caption)
        for box in (self.first, self.second, self.other):
            box.currentIndexChanged.connect(self.redraw)

    def show_analysis(self, analysis: Analysis) -> None:
        """Offer the tokens of `analysis` (two occurrences of a repeated word first) and draw their curves."""
        new_input = self.analysis is None or self.analysis.forward.pieces != analysis.forward.pieces
        self.analysis = analysis
        forward = analysis.forward
        if new_input:
            chosen = default_tokens(forward.pieces, forward.special)
            for box, index in zip((self.first, self.second, self.other), chosen, strict=True):
                fill_tokens(box, forward.pieces, index)
        self.redraw()

    def redraw(self) -> None:
        """Draw both pairs' cosine after every layer from the cached pass."""
        analysis = self.analysis
        if analysis is None:
            return
        forward = analysis.forward
        if not forward.has_internals:
            set_note(self.note, f"Only the last layer can be shown, so there is no curve: {forward.missing}")
            self.curves.clear()
            return
        set_note(self.note, "")
        first, second, other = (box.currentData() for box in (self.first, self.second, self.other))
        if None in (first, second, other):
            return
        pieces = forward.pieces
        same, different = cosine_by_layer(forward, first, second), cosine_by_layer(forward, first, other)
        series = {
            f"{pieces[first]} #{first} · {pieces[second]} #{second}": same,
            f"{pieces[first]} #{first} · {pieces[other]} #{other}": different,
        }
        self.caption.setText(f"{WORD_CAPTION} " + word_reading(
            pieces[first], [float(c) for c in same], f"“{pieces[first]}” and “{pieces[other]}”",
            [float(c) for c in different]))
        labels = ["emb"] + [str(i) for i in range(1, forward.num_layers + 1)]
        self.curves.set_curves(labels, series, title="Cosine after each layer (emb = the embeddings)",
                               y_label="cosine", x_name="layer")


class ClsPage(QWidget):
    """[CLS] against every token: its cosine after each layer and its attention in each layer."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.analysis: Analysis | None = None
        self.cosine = shrinkable(Heatmap(self, WAITING))
        self.attention = shrinkable(Heatmap(self, WAITING))
        self.caption = caption(CLS_CAPTION, self)
        self.note = note(self)
        plots = AdaptiveSplitter(self, wide=1.0, minimum_width=480)
        plots.addWidget(self.cosine)
        plots.addWidget(self.attention)
        page_layout(self, None, self.note, plots, self.caption)

    def show_analysis(self, analysis: Analysis) -> None:
        """Draw both layers × tokens maps of `analysis`."""
        self.analysis = analysis
        forward = analysis.forward
        if not forward.has_internals:
            set_note(self.note, f"Only the last layer can be shown: {forward.missing}")
            self.cosine.clear()
            self.attention.clear()
            return
        set_note(self.note, "")
        layers = forward.num_layers
        # Tokens down the rows (their labels read horizontally), layers across: a few short columns.
        self.cosine.set_matrix(cls_cosine_by_layer(forward).T, forward.pieces,
                               ["emb"] + [str(i) for i in range(1, layers + 1)], "diverging",
                               title="[CLS]'s cosine to each token, per layer")
        attention = cls_attention_by_layer(forward).T
        self.attention.set_matrix(attention, forward.pieces, [str(i) for i in range(1, layers + 1)], "sequential",
                                  title="[CLS]'s attention to each token, per layer",
                                  levels=(0.0, max(float(attention.max()), 1e-6)))


class NeighboursPage(QWidget):
    """A token's nearest vocabulary entries (input embeddings) and nearest tokens of the input at a layer."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.analysis: Analysis | None = None
        self.token = token_picker(self, "The token whose neighbours are listed.")
        self.layer = LayerPicker(0, lambda v, last: "embeddings" if v == 0 else f"after layer {v} of {last}", self)
        self.count = QSpinBox(self)
        self.count.setRange(1, 50)
        self.count.setValue(10)
        self.count.setToolTip("How many neighbours to list.")
        self.vocabulary = shrinkable(Bars(self, WAITING))
        self.contextual = shrinkable(Bars(self, WAITING))
        self.caption = caption(NEIGHBOURS_CAPTION, self)
        self.note = note(self)
        plots = AdaptiveSplitter(self, wide=1.2)
        plots.addWidget(self.vocabulary)
        plots.addWidget(self.contextual)
        page_layout(self, controls_bar(self, labelled(self, "Token", self.token), self.layer,
                                       labelled(self, "Show", self.count)),
                    self.note, plots, self.caption)
        self.layer.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.token.currentIndexChanged.connect(self.redraw)
        self.layer.value_changed.connect(self.redraw)
        self.count.valueChanged.connect(self.redraw)

    def show_analysis(self, analysis: Analysis) -> None:
        """Offer the tokens of `analysis` (the first word first) and draw its neighbours."""
        new_input = self.analysis is None or self.analysis.forward.pieces != analysis.forward.pieces
        self.analysis = analysis
        forward = analysis.forward
        if new_input:
            fill_tokens(self.token, forward.pieces, default_tokens(forward.pieces, forward.special)[0])
        self.layer.setEnabled(forward.has_internals)
        if forward.has_internals:
            self.layer.set_last(forward.num_layers)
        self.redraw()

    def current_layer(self) -> int:
        """The hidden state compared: the slider's, or -1 (the last) without internals."""
        return self.layer.value() if self.analysis.forward.has_internals else -1

    def redraw(self) -> None:
        """List both kinds of neighbours of the chosen token."""
        analysis = self.analysis
        index = self.token.currentData()
        if analysis is None or index is None:
            return
        forward, count = analysis.forward, self.count.value()
        piece = forward.pieces[index]
        notes = []
        if not forward.has_internals:
            notes.append(f"Only the last layer's neighbours can be shown: {forward.missing}")
        layer = self.current_layer()
        found = contextual_neighbours(forward, layer, index, count)
        where = "the embeddings" if layer == 0 else ("the last layer" if layer < 0 else f"layer {layer}")
        self.contextual.set_bars([f"#{i} {forward.pieces[i]}" for i, _ in found], [c for _, c in found], "score",
                                 title=f"In this input, nearest to {piece} #{index} after {where}")
        table = analysis.weights.word_embeddings if analysis.weights is not None else None
        token_id = analysis.bundle.tokenizer.token_to_id(piece)
        if table is None or token_id is None:
            notes.append(analysis.weights_error or "The vocabulary's embedding table cannot be found in this graph.")
            self.vocabulary.clear()
        else:
            tokenizer = analysis.bundle.tokenizer
            near = nearest_rows(table, table[token_id], count, exclude=token_id)
            self.vocabulary.set_bars([tokenizer.id_to_token(i) or f"#{i}" for i, _ in near], [c for _, c in near],
                                     "score", title=f"Vocabulary nearest to {piece}")
        set_note(self.note, " ".join(notes))
