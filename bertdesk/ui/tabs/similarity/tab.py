"""The Similarity tab: one forward pass per input (every layer's vectors and attention, cached), drawn as token
cosine per layer, attention per layer/head, masks before and after the softmax, and learned positions."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QHBoxLayout,
    QPlainTextEdit,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from bertdesk.ui.tabs.base import AnalysisTab
from bertdesk.ui.tabs.similarity.analysis import Analysis, analyse
from bertdesk.ui.tabs.similarity.context_pages import ClsPage, NeighboursPage, WordPage
from bertdesk.ui.tabs.similarity.overview_page import OverviewPage
from bertdesk.ui.tabs.similarity.pages import AttentionPage, MasksPage, PositionsPage, TokenPage, caption
from bertdesk.ui.tabs.similarity.projection_page import ProjectionPage
from bertdesk.ui.tabs.similarity.sentence_page import SentencePage
from bertdesk.ui.tabs.similarity.texts import EXPLANATION
from bertdesk.ui.widgets import Explanation, TextBox, replace_text

if TYPE_CHECKING:
    from bertdesk.core.bundles import Bundle, BundleInfo

PAGES = ("tokens", "sentences", "word", "cls", "neighbours", "projection", "overview", "attention", "masks",
         "positions")


class SimilarityTab(AnalysisTab[Analysis, None]):
    """Tokens as vectors: their cosine similarity per layer, attention, causal vs bidirectional masks, positions."""

    key = "similarity"
    title = "Similarity"
    running_text = "running the model"

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.analysis: Analysis | None = None
        self._build()

    def _build(self) -> None:
        self.text_edit = TextBox(self)
        self.text_edit.setPlaceholderText("Type a sentence: e.g. the bank of the river flooded, so the bank raised "
                                          "its rates.")
        self.pair_edit = TextBox(self)
        self.pair_edit.setPlaceholderText("Segment B (pair mode): e.g. a question about segment A…")
        for edit in (self.text_edit, self.pair_edit):
            edit.setLineWrapMode(QPlainTextEdit.LineWrapMode.WidgetWidth)
            edit.setTabChangesFocus(True)
            edit.setMaximumHeight(72)
            edit.textChanged.connect(self.input_changed)
        self.pair_check = QCheckBox("Pair", self)
        self.pair_check.setToolTip(
            "Two segments, [CLS] A [SEP] B [SEP]: the Attention view can then filter A→B, B→A…"
        )
        self.pair_check.toggled.connect(self._pair_toggled)
        self.pair_edit.hide()

        self.token_page = TokenPage(self)
        self.sentence_page = SentencePage(self)
        self.word_page = WordPage(self)
        self.cls_page = ClsPage(self)
        self.neighbours_page = NeighboursPage(self)
        self.projection_page = ProjectionPage(self)
        self.overview_page = OverviewPage(self)
        self.attention_page = AttentionPage(self)
        self.masks_page = MasksPage(self)
        self.positions_page = PositionsPage(self)
        self.views = QTabWidget(self)
        self.views.setDocumentMode(True)
        self.views.addTab(self.token_page, "Token × token")
        self.views.addTab(self.sentence_page, "Sentences")
        self.views.addTab(self.word_page, "Word in context")
        self.views.addTab(self.cls_page, "[CLS]")
        self.views.addTab(self.neighbours_page, "Neighbours")
        self.views.addTab(self.projection_page, "Projection")
        self.views.addTab(self.overview_page, "All heads")
        self.views.addTab(self.attention_page, "Attention")
        self.views.addTab(self.masks_page, "Masks (causal)")
        self.views.addTab(self.positions_page, "Positions")
        self.views.setUsesScrollButtons(True)
        self.views.currentChanged.connect(self._view_changed)
        self.masks_page.causal_toggled.connect(self._causal_toggled)
        self.sentence_page.pooling_changed.connect(self._run_if_needed)
        self.overview_page.head_chosen.connect(self.open_head)

        self.explain = Explanation("How does this work?", parent=self, label=caption(parent=self))
        self._update_explanation()

        inputs = QHBoxLayout()
        inputs.addWidget(self.text_edit, 1)
        inputs.addWidget(self.pair_edit, 1)
        inputs.addWidget(self.pair_check, 0, Qt.AlignmentFlag.AlignTop)
        layout = QVBoxLayout(self)
        layout.addLayout(inputs)
        layout.addWidget(self.stale_label)
        layout.addWidget(self.views, 1)
        layout.addWidget(self.explain)

    # --- AnalysisTab ---------------------------------------------------------------------------------------

    def set_bundle(self, bundle: Bundle, infos: list[BundleInfo] | None = None) -> None:
        """Run the current input with `bundle`."""
        super().set_bundle(bundle, infos)
        self._update_explanation()

    def run_analysis(self) -> None:
        """Run the input (and the causal pass when the Masks view asks for it) on a worker thread; what the last
        run computed for the same input is reused."""
        bundle = self.bundle
        if bundle is None:
            return
        text, pair = self.current_input()
        causal = self.masks_page.causal.isChecked()
        pooling = self.sentence_page.pooling(bundle) if self.views.currentWidget() is self.sentence_page else None
        known = self.analysis
        self.submit(lambda handle: analyse(handle, bundle, text, pair, causal, known, pooling), "similarity")

    def on_result(self, result: Analysis) -> None:
        """Draw the new analysis in the view on show; the others draw it when they are shown (a 128-token
        heatmap takes tens of milliseconds to draw)."""
        self.analysis = result
        self._draw_current()
        self._update_explanation()

    def _draw_current(self) -> None:
        page = self.views.currentWidget()
        if self.analysis is not None and page.analysis is not self.analysis:
            page.show_analysis(self.analysis)

    def _view_changed(self) -> None:
        self._draw_current()
        self._run_if_needed()
        self.state_changed.emit()

    def open_head(self, layer: int, head: int) -> None:
        """Show attention layer `layer` (1..N), head `head` in the Attention view."""
        page = self.attention_page
        self.views.setCurrentWidget(page)
        page.layer.slider.setValue(layer)
        page.head.setCurrentIndex(max(0, page.head.findData(head)))

    def _run_if_needed(self) -> None:
        """Run what the view on show needs and the analysis lacks (the sentences with another pooling)."""
        if self.views.currentWidget() is self.sentence_page and self.sentence_page.needs_run(self.analysis):
            self.schedule_run(0)

    def on_error(self, message: str) -> None:
        """Say what went wrong above the views, and in the status bar."""
        self.stale_label.set_reason(message)
        self.status_message.emit(message)

    def set_input_text(self, text: str, into: QWidget | None = None) -> bool:
        """Replace segment B's text if it was dropped on it (pair mode), else the text's, as one undo step."""
        edit = self.pair_edit if self.pair_check.isChecked() and into is not None and (
            into is self.pair_edit or self.pair_edit.isAncestorOf(into)) else self.text_edit
        replace_text(edit, text)
        return True

    def save_state(self) -> dict:
        """Text, pair text, pair mode and the view on show."""
        return {
            "text": self.text_edit.toPlainText(),
            "pair": self.pair_edit.toPlainText(),
            "pair_mode": self.pair_check.isChecked(),
            "view": PAGES[self.views.currentIndex()],
        }

    def restore_state(self, state: dict) -> None:
        """Restore what `save_state()` kept."""
        if not isinstance(state, dict):
            return
        if isinstance(state.get("text"), str):
            self.text_edit.setPlainText(state["text"])
        if isinstance(state.get("pair"), str):
            self.pair_edit.setPlainText(state["pair"])
        if isinstance(state.get("pair_mode"), bool):
            self.pair_check.setChecked(state["pair_mode"])
        if state.get("view") in PAGES:
            self.views.setCurrentIndex(PAGES.index(state["view"]))

    # --- inputs --------------------------------------------------------------------------------------------

    def current_input(self) -> tuple[str, str | None]:
        """(text, segment B or None)."""
        pair = self.pair_edit.toPlainText() if self.pair_check.isChecked() else None
        return self.text_edit.toPlainText(), pair or None

    def _pair_toggled(self, on: bool) -> None:
        self.pair_edit.setVisible(on)
        self.input_changed()

    def _causal_toggled(self, on: bool) -> None:
        """The causal pass runs once per input, when first asked for; switching back and forth reuses it."""
        analysis = self.analysis
        if on and analysis is not None and analysis.causal is None and not analysis.causal_error:
            self.schedule_run(0)

    def _update_explanation(self) -> None:
        info = self.bundle.info if self.bundle is not None else None
        seq = len(self.analysis.forward.pieces) if self.analysis is not None else "n"
        self.explain.set_text(EXPLANATION.format(
            width=info.hidden_size if info else "several hundred",
            layers=info.num_layers if info else "several",
            seq=seq,
        ))
