"""The Similarity tab's views, each drawn from the tab's current `Analysis` without running the model again."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QSizePolicy,
    QSlider,
    QSpinBox,
    QWidget,
)

from bertdesk.core.errors import BertdeskError
from bertdesk.core.similarity import (
    PAIR_FILTERS,
    attention_map,
    attention_scores,
    cosine_by_layer,
    cosine_matrix,
    layer_cosine,
    softmax,
)
from bertdesk.ui.error_text import error_text
from bertdesk.ui.tabs.similarity.analysis import Analysis
from bertdesk.ui.tabs.similarity.layout import (
    AdaptiveSplitter,
    controls_bar,
    labelled,
    page_layout,
    plot_with_side,
    shrinkable,
)
from bertdesk.ui.tabs.similarity.texts import (
    ATTENTION_CAPTION,
    CURVE_CAPTION,
    MASKS_CAPTION,
    NO_SEGMENTS,
    POSITIONS_CAPTION,
    SEGMENTS_CAPTION,
    TOKENS_CAPTION,
)
from bertdesk.ui.widgets import Curves, Heatmap

WAITING = "Type a text above: its tokens appear here once the model has run."


class Caption(QLabel):
    """A wrapped plain-language caption beside a plot, asking for the height its current width needs."""

    def __init__(self, text: str = "", parent: QWidget | None = None) -> None:
        super().__init__(text, parent)
        self.setWordWrap(True)
        self.setTextFormat(Qt.TextFormat.RichText)
        self.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Maximum)
        # A wrapped label measures its hint at a narrow width (tall): the layout would give it blank space the
        # plots need. Its hint is the height its real width needs instead; it may shrink below that when the
        # window is very small.
        self.setMinimumHeight(1)
        self._width = 0

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt's name)
        """The height the current width needs (a narrow label's QLabel hint before the first layout)."""
        if self._width < 80:
            return super().sizeHint()
        return QSize(self._width, self.heightForWidth(self._width))

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        """Ask the layout again when a new width needs another height."""
        super().resizeEvent(event)
        if event.size().width() != self._width:
            self._width = event.size().width()
            if self.heightForWidth(self._width) != event.size().height():
                self.updateGeometry()


def caption(text: str = "", parent: QWidget | None = None) -> QLabel:
    """A wrapped plain-language caption beside a plot."""
    return Caption(text, parent)


def note(parent: QWidget | None = None) -> QLabel:
    """A line saying what a view cannot show and why (hidden when empty)."""
    label = caption("", parent)
    label.setObjectName("similarity-note")
    label.hide()
    return label


def set_note(label: QLabel, text: str) -> None:
    """Show `text` in a note, or hide it."""
    label.setText(f"<i>{text}</i>" if text else "")
    label.setVisible(bool(text))


def layer_name(layer: int) -> str:
    """ "the embeddings (layer 0)" or "layer N"."""
    return "the embeddings (layer 0)" if layer == 0 else f"layer {layer}"


class LayerPicker(QWidget):
    """A labelled slider over layers, with the layer chosen named beside it."""

    value_changed = Signal(int)

    def __init__(self, first: int, describe, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._describe = describe
        self.slider = QSlider(Qt.Orientation.Horizontal, self)
        self.slider.setRange(first, first)
        self.slider.setPageStep(1)
        self.slider.setTickPosition(QSlider.TickPosition.TicksBelow)
        self.slider.setMinimumWidth(90)
        self.label = QLabel(self)
        self.label.setMinimumWidth(self.label.fontMetrics().horizontalAdvance("after layer 12 of 12 (last)") + 8)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(QLabel("Layer", self))
        layout.addWidget(self.slider, 1)
        layout.addWidget(self.label)
        self.slider.valueChanged.connect(self._changed)
        self._changed(first)

    def set_last(self, last: int) -> None:
        """Let the slider go up to `last`, keeping the value where it can; the first time, start at `last`."""
        first_time = self.slider.maximum() == self.slider.minimum()
        self.slider.blockSignals(True)
        self.slider.setMaximum(max(self.slider.minimum(), last))
        if first_time:
            self.slider.setValue(last)
        self.slider.blockSignals(False)
        self.label.setText(self._describe(self.slider.value(), self.slider.maximum()))

    def value(self) -> int:
        """The layer chosen."""
        return self.slider.value()

    def _changed(self, value: int) -> None:
        self.label.setText(self._describe(value, self.slider.maximum()))
        self.value_changed.emit(value)


class TokenPage(QWidget):
    """Token × token cosine per layer, and the clicked pair's cosine through every layer."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.analysis: Analysis | None = None
        self._kept = np.zeros(0, int)
        self._pair: tuple[int, int] | None = None
        self.layer = LayerPicker(0, self._describe_layer, self)
        self.hide_special = QCheckBox("Hide [CLS] and [SEP]", self)
        self.hide_special.setToolTip("Leave out the special tokens, which often dominate the picture.")
        self.heatmap = shrinkable(Heatmap(self, WAITING))
        self.curve = shrinkable(Curves(self, "Click a cell of the heatmap to follow that pair of tokens through the "
                                             "layers."))
        self.caption = caption(parent=self)
        self.curve_caption = caption(CURVE_CAPTION, self)
        self.note = note(self)

        page_layout(self, controls_bar(self, self.layer, self.hide_special), self.note,
                    plot_with_side(self, self.heatmap, self.caption, self.curve, self.curve_caption, grows=self.curve))

        self.layer.value_changed.connect(self.redraw)
        self.hide_special.toggled.connect(self.redraw)
        self.heatmap.cell_clicked.connect(self._cell_clicked)

    def _describe_layer(self, value: int, last: int) -> str:
        if value == 0:
            return "embeddings (layer 0)"
        return f"after layer {value} of {last}" + (" (last)" if value == last else "")

    def show_analysis(self, analysis: Analysis) -> None:
        """Draw `analysis` at the chosen layer."""
        new_input = self.analysis is None or self.analysis.forward is not analysis.forward
        self.analysis = analysis
        forward, info = analysis.forward, analysis.bundle.info
        self.caption.setText(TOKENS_CAPTION.format(width=info.hidden_size, layers=info.num_layers))
        self.layer.setEnabled(forward.has_internals)
        if forward.has_internals:
            self.layer.set_last(forward.num_layers)
        set_note(self.note, "" if forward.has_internals else f"Only the last layer can be shown: {forward.missing}")
        if new_input:
            self._pair = None
            self.curve.clear()
        self.redraw()

    def current_layer(self) -> int:
        """The hidden state drawn: the slider's, or -1 (the last) when the model shows no internals."""
        forward = self.analysis.forward if self.analysis is not None else None
        return self.layer.value() if forward is not None and forward.has_internals else -1

    def redraw(self) -> None:
        """Draw the cosine matrix of the chosen layer from the cached forward pass."""
        if self.analysis is None:
            return
        forward = self.analysis.forward
        layer = self.current_layer()
        self._kept, matrix = layer_cosine(forward, layer, self.hide_special.isChecked())
        labels = [forward.pieces[i] for i in self._kept]
        where = layer_name(layer) if layer >= 0 else "the last layer"
        self.heatmap.set_matrix(matrix, labels, labels, "diverging", title=f"Cosine similarity of tokens after {where}")
        if self._pair is not None:
            self._select_pair()

    def _cell_clicked(self, row: int, col: int) -> None:
        if self.analysis is None or not self.analysis.forward.has_internals:
            return
        self._pair = (int(self._kept[row]), int(self._kept[col]))
        self._draw_curve()

    def _select_pair(self) -> None:
        first, second = self._pair
        rows = {int(k): i for i, k in enumerate(self._kept)}
        if first in rows and second in rows:
            self.heatmap.select_cell(rows[first], rows[second])

    def _draw_curve(self) -> None:
        forward = self.analysis.forward
        first, second = self._pair
        values = cosine_by_layer(forward, first, second)
        name = f"{forward.pieces[first]} (#{first}) · {forward.pieces[second]} (#{second})"
        labels = ["emb"] + [str(i) for i in range(1, len(values))]
        self.curve.set_curves(labels, {name: values}, title="Cosine of the pair after each layer", y_label="cosine",
                              x_name="layer")


class AttentionPage(QWidget):
    """One layer's attention: a head's or the mean over heads, filtered to segment pairs in pair mode."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.analysis: Analysis | None = None
        self.layer = LayerPicker(1, lambda v, last: f"layer {v} of {last}", self)
        self.head = QComboBox(self)
        self.head.setToolTip("One head's attention, or the mean over all the layer's heads.")
        self.head.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.pair_filter = QComboBox(self)
        self.pair_filter.addItem("all tokens", None)
        for name in PAIR_FILTERS:
            self.pair_filter.addItem(name, name)
        self.pair_filter.setToolTip(
            "In pair mode: keep the rows of one segment and the columns of one segment, e.g. A→B = how segment "
            "A's tokens look at segment B's."
        )
        self.heatmap = shrinkable(Heatmap(self, WAITING))
        self.caption = caption(parent=self)
        self.note = note(self)
        controls = controls_bar(self, self.layer, labelled(self, "Head", self.head),
                                labelled(self, "Segments", self.pair_filter))
        page_layout(self, controls, self.note, self.heatmap, self.caption)
        self.layer.value_changed.connect(self.redraw)
        self.head.currentIndexChanged.connect(self.redraw)
        self.pair_filter.currentIndexChanged.connect(self.redraw)

    def show_analysis(self, analysis: Analysis) -> None:
        """Draw `analysis` at the chosen layer and head."""
        self.analysis = analysis
        forward, info = analysis.forward, analysis.bundle.info
        self.caption.setText(ATTENTION_CAPTION.format(heads=info.num_heads))
        for widget in (self.layer, self.head, self.pair_filter):
            widget.setEnabled(forward.has_internals)
        if not forward.has_internals:
            set_note(self.note, f"This model's attention cannot be shown: {forward.missing}")
            self.heatmap.clear()
            return
        set_note(self.note, "")
        self.layer.set_last(forward.num_layers)
        heads = forward.attentions.shape[1]
        if self.head.count() != heads + 1:
            chosen = self.head.currentData()
            self.head.blockSignals(True)
            self.head.clear()
            self.head.addItem(f"mean of {heads}", None)
            for h in range(heads):
                self.head.addItem(f"head {h}", h)
            self.head.setCurrentIndex(max(0, self.head.findData(chosen)) if chosen is not None else 0)
            self.head.blockSignals(False)
        has_b = bool((forward.segments == 1).any())
        self.pair_filter.setEnabled(has_b)
        if not has_b and self.pair_filter.currentIndex() != 0:
            self.pair_filter.blockSignals(True)
            self.pair_filter.setCurrentIndex(0)
            self.pair_filter.blockSignals(False)
        self.redraw()

    def redraw(self) -> None:
        """Draw the chosen layer/head from the cached forward pass."""
        if self.analysis is None or not self.analysis.forward.has_internals:
            return
        forward = self.analysis.forward
        layer, head, chosen = self.layer.value(), self.head.currentData(), self.pair_filter.currentData()
        rows, cols, matrix = attention_map(forward, layer, head, chosen)
        which = "mean over heads" if head is None else f"head {head}"
        segments = f", {chosen}" if chosen else ""
        high = float(matrix.max()) if matrix.size else 1.0
        self.heatmap.set_matrix(
            matrix,
            [forward.pieces[i] for i in rows],
            [forward.pieces[i] for i in cols],
            "sequential",
            title=f"Attention, layer {layer}, {which}{segments} (rows look at columns)",
            levels=(0.0, max(high, 1e-6)),
        )


class MasksPage(QWidget):
    """One layer/head's scores before the softmax with the mask added, and what comes after it; bidirectional
    or causal, and how the causal re-run changes attention and token similarity."""

    #: The user asked for the causal mask (True) or the bidirectional one (False).
    causal_toggled = Signal(bool)

    RIGHT_VIEWS = (
        ("probabilities after the softmax", "probabilities"),
        ("attention: causal − bidirectional", "attention-change"),
        ("token cosine at this layer: causal − bidirectional", "cosine-change"),
    )

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.analysis: Analysis | None = None
        self.layer = LayerPicker(1, lambda v, last: f"layer {v} of {last}", self)
        self.head = QSpinBox(self)
        self.head.setPrefix("head ")
        self.head.setToolTip("The attention head (0-based).")
        self.causal = QCheckBox("Causal mask (left context only)", self)
        self.causal.setToolTip(
            "Run the same text through the same weights again with a causal mask: each token sees only itself and "
            "the tokens to its left, as in GPT-style models."
        )
        self.right_view = QComboBox(self)
        for text, key in self.RIGHT_VIEWS:
            self.right_view.addItem(text, key)
        self.right_view.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.right_view.setMinimumContentsLength(18)
        self.scores = shrinkable(Heatmap(self, WAITING))
        self.after = shrinkable(Heatmap(self, WAITING))
        self.caption = caption(MASKS_CAPTION, self)
        self.note = note(self)
        controls = controls_bar(self, self.layer, self.head, self.causal, labelled(self, "Right:", self.right_view))
        plots = AdaptiveSplitter(self, wide=1.6)
        plots.addWidget(self.scores)
        plots.addWidget(self.after)
        page_layout(self, controls, self.note, plots, self.caption)
        self.layer.value_changed.connect(self.redraw)
        self.head.valueChanged.connect(self.redraw)
        self.right_view.currentIndexChanged.connect(self.redraw)
        self.causal.toggled.connect(self._causal_toggled)

    def _causal_toggled(self, on: bool) -> None:
        self.causal_toggled.emit(on)
        self.redraw()

    def show_analysis(self, analysis: Analysis) -> None:
        """Draw `analysis` (its causal pass too, once there)."""
        self.analysis = analysis
        forward = analysis.forward
        if forward.has_internals:
            self.layer.set_last(forward.num_layers)
            self.head.setMaximum(forward.attentions.shape[1] - 1)
        self.redraw()

    def shown_forward(self):
        """The forward pass drawn: the causal one when asked for and there, else the bidirectional one (or None
        while the causal one is being computed)."""
        if self.analysis is None:
            return None
        if self.causal.isChecked():
            return self.analysis.causal
        return self.analysis.forward

    def redraw(self) -> None:
        """Draw scores and the right view for the chosen layer/head from the cached passes."""
        analysis = self.analysis
        if analysis is None:
            return
        if not analysis.forward.has_internals:
            set_note(self.note, f"The attention scores cannot be shown: {analysis.forward.missing}")
            self.scores.clear()
            self.after.clear()
            return
        if self.causal.isChecked() and analysis.causal_error:
            set_note(self.note, f"The causal mask cannot be applied: {analysis.causal_error}")
        elif self.causal.isChecked() and analysis.causal is None:
            set_note(self.note, "Running the same text again with a causal mask…")
        else:
            set_note(self.note, "")
        forward = self.shown_forward() or analysis.forward
        layer, head = self.layer.value(), self.head.value()
        labels = forward.pieces
        mask = "causal" if forward.causal else "bidirectional"
        try:
            scores = attention_scores(analysis.bundle, forward, layer, head)
        except BertdeskError as exc:
            set_note(self.note, error_text(exc))
            self.scores.clear()
        else:
            self.scores.set_matrix(scores, labels, labels, "diverging",
                                   title=f"Scores + {mask} mask, layer {layer}, head {head}")
        self._draw_right(forward, layer, head)

    def _draw_right(self, forward, layer: int, head: int) -> None:
        view = self.right_view.currentData()
        labels = forward.pieces
        causal = self.analysis.causal
        if view == "probabilities" or causal is None:
            mask = "causal" if forward.causal else "bidirectional"
            self.after.set_matrix(forward.attentions[layer - 1, head], labels, labels, "sequential",
                                  title=f"Probabilities ({mask}), layer {layer}, head {head}")
            return
        bidirectional = self.analysis.forward
        if view == "attention-change":
            change = causal.attentions[layer - 1, head] - bidirectional.attentions[layer - 1, head]
            title = f"Attention change, layer {layer}, head {head} (causal − bidirectional)"
        else:
            change = cosine_matrix(causal.vectors(layer)) - cosine_matrix(bidirectional.vectors(layer))
            title = f"Token cosine change after layer {layer} (causal − bidirectional)"
        self.after.set_matrix(change, labels, labels, "diverging", title=title)

    def current_probabilities(self) -> np.ndarray | None:
        """softmax of the scores drawn (for checks): the probabilities the model gives."""
        data = self.scores.matrix()
        return softmax(data.values) if data is not None else None


class PositionsPage(QWidget):
    """Cosine of the learned position vectors (the first N) and of the segment vectors."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.analysis: Analysis | None = None
        self.count = QSpinBox(self)
        self.count.setRange(2, 512)
        self.count.setValue(64)
        self.count.setToolTip("How many positions to compare, from position 0.")
        self.positions = shrinkable(Heatmap(self, WAITING))
        self.segments = shrinkable(Heatmap(self, NO_SEGMENTS))
        self.segments.setMaximumHeight(320)
        self.caption = caption(parent=self)
        self.segments_caption = caption(SEGMENTS_CAPTION, self)
        self.note = note(self)
        self.count.setSuffix(" positions")
        page_layout(self, controls_bar(self, labelled(self, "First", self.count)), self.note,
                    plot_with_side(self, self.positions, self.caption, self.segments, self.segments_caption,
                                   grows=self.segments))
        self.count.valueChanged.connect(self.redraw)

    def show_analysis(self, analysis: Analysis) -> None:
        """Draw the tables of `analysis`'s model."""
        same_model = self.analysis is not None and self.analysis.bundle is analysis.bundle
        self.analysis = analysis
        self.caption.setText(POSITIONS_CAPTION.format(max_positions=analysis.bundle.info.max_positions))
        if not same_model:
            self.redraw()

    def redraw(self) -> None:
        """Draw the first N positions' cosine and the segments' from the graph's tables."""
        analysis = self.analysis
        if analysis is None:
            return
        weights = analysis.weights
        table = weights.position_embeddings if weights is not None else None
        if table is None:
            set_note(self.note, analysis.weights_error or "This graph has no position table bertdesk can find.")
            self.positions.clear()
        else:
            set_note(self.note, "")
            self.count.blockSignals(True)
            self.count.setMaximum(len(table))
            self.count.blockSignals(False)
            count = self.count.value()
            labels = [str(i) for i in range(count)]
            self.positions.set_matrix(cosine_matrix(table[:count]), labels, labels, "diverging",
                                      title=f"Cosine of the first {count} position vectors")
        types = weights.token_type_embeddings if weights is not None else None
        if types is None:
            self.segments.clear()
        else:
            names = [f"{chr(ord('A') + i)} (type {i})" for i in range(len(types))]
            self.segments.set_matrix(cosine_matrix(types), names, names, "diverging", title="Segment vectors")
