"""The Tokens tab: how the model splits the text into pieces, with ids, offsets, type ids and positions."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QSizePolicy,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from bertdesk.core.tokens import Tokenization
from bertdesk.ui.tabs.base import AnalysisTab
from bertdesk.ui.tabs.tokens.compare import CompareChoice, TokensResult, tokenize_both
from bertdesk.ui.tabs.tokens.legend import TokenLegend
from bertdesk.ui.tabs.tokens.linking import DETAIL_HINT, TokenLinks
from bertdesk.ui.tabs.tokens.pane import TokenPane
from bertdesk.ui.tabs.tokens.table import TokenTable
from bertdesk.ui.widgets import Explanation, TextBox, replace_text

if TYPE_CHECKING:
    from bertdesk.core.bundles import Bundle, BundleInfo

NO_MODEL_YET = "No model yet: the pieces appear once a model is loaded."
WORDPIECE_EXPLANATION = (
    "<b>How BERT splits text (WordPiece).</b> The text is normalised (lower-cased by uncased models) and "
    "cut into words at spaces and punctuation. Each word is then split greedily into the longest pieces "
    "found in a fixed vocabulary ({vocab} entries for this model): the longest piece the word starts with, "
    "then the longest piece of the rest, and so on; <b>##</b> marks a piece that continues a word. When "
    "nothing matches, the whole word becomes <b>[UNK]</b>. <b>[CLS]</b> comes first: its final vector "
    "summarises the input for classifiers. <b>[SEP]</b> ends a segment and separates segment A from B. "
    "<b>Type ids</b> (0 for A, 1 for B) select a segment embedding, so the model can tell a question from "
    "its context. <b>Position ids</b> 0, 1, 2, … select learned position embeddings; there are {positions} "
    "of them, so that is the maximum length and later tokens are truncated. The <b>attention mask</b> is 1 "
    "for a real token and 0 for [PAD], the filler that brings the inputs of a batch to one length."
)


class TokensTab(AnalysisTab[TokensResult, None]):
    """The text, split into the model's tokens: coloured pieces, counts, a table, and another model beside."""

    key = "tokens"
    title = "Tokens"
    running_text = "tokenizing"

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._result: TokensResult | None = None
        self._build()
        self._connect()

    # --- construction --------------------------------------------------------------------------------------

    def _build(self) -> None:
        self.text_edit = TextBox(self)
        self.text_edit.setPlaceholderText("Type or paste text to see how the model splits it into tokens…")
        self.text_edit.setToolTip(
            "The text to tokenize (segment A in pair mode). Move the cursor or the mouse over it to find the "
            "pieces covering a character."
        )
        self.pair_edit = TextBox(self)
        self.pair_edit.setPlaceholderText(
            "Segment B: e.g. the context a question in segment A is asked about…"
        )
        self.pair_edit.setToolTip(
            "The second segment: the model reads [CLS] A [SEP] B [SEP], with type id 1 for B's tokens."
        )
        self.text_label = QLabel("Text", self)
        for edit in (self.text_edit, self.pair_edit):
            edit.setLineWrapMode(QPlainTextEdit.LineWrapMode.WidgetWidth)
            edit.setTabChangesFocus(True)

        self.pair_check = QCheckBox("Pair", self)
        self.pair_check.setToolTip(
            "Tokenize two segments together, as for question answering or sentence-pair classification: "
            "[CLS] A [SEP] B [SEP]. A band under the pieces shows their type id."
        )
        self.show_ids_check = QCheckBox("Show ids", self)
        self.show_ids_check.setToolTip(
            "Show each piece's vocabulary id (the row of the embedding matrix) under it."
        )
        self.compare = CompareChoice(self)
        self.compare_combo = self.compare.combo
        compare_label = QLabel("Compare with:", self)
        compare_label.setBuddy(self.compare_combo)
        compare_label.setToolTip(self.compare_combo.toolTip())
        self.busy = QLabel("", self)
        self.busy.setToolTip("A long text is being tokenized; the window stays usable meanwhile.")
        self._busy_timer = self.add_timer(300, lambda: self.busy.setText("Tokenizing…"))

        self.main_pane = TokenPane(self)
        self.main_pane.set_message(NO_MODEL_YET)
        self.compare_pane = TokenPane(self)
        self.compare_pane.hide()
        self.detail = QLabel(DETAIL_HINT, self)
        self.detail.setToolTip("The piece under the mouse, or the row selected in the table.")
        self.detail.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.detail.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.detail.setWordWrap(True)
        self.legend = TokenLegend(self)
        self.table = TokenTable(self)

        self.explain = Explanation(
            "How does WordPiece split text?", parent=self, ignore_width=True,
            tooltip="Show or hide a short explanation of the tokenizer and the model inputs.",
        )
        self._update_explanation()

        inputs = QWidget(self)
        text_box = QVBoxLayout()
        text_box.addWidget(self.text_label)
        text_box.addWidget(self.text_edit)
        self.pair_box = QWidget(inputs)
        pair_box = QVBoxLayout(self.pair_box)
        pair_box.setContentsMargins(0, 0, 0, 0)
        pair_box.addWidget(QLabel("Segment B", self.pair_box))
        pair_box.addWidget(self.pair_edit)
        inputs_layout = QHBoxLayout(inputs)
        inputs_layout.setContentsMargins(0, 0, 0, 0)
        inputs_layout.addLayout(text_box, 1)
        inputs_layout.addWidget(self.pair_box, 1)

        controls = QHBoxLayout()
        controls.addWidget(self.pair_check)
        controls.addWidget(self.show_ids_check)
        controls.addSpacing(12)
        controls.addWidget(compare_label)
        controls.addWidget(self.compare_combo)
        controls.addStretch(1)
        controls.addWidget(self.busy)

        self.views = QSplitter(Qt.Orientation.Horizontal, self)
        self.views.addWidget(self.main_pane)
        self.views.addWidget(self.compare_pane)
        self.views.setChildrenCollapsible(False)

        self.splitter = QSplitter(Qt.Orientation.Vertical, self)
        self.splitter.addWidget(inputs)
        self.splitter.addWidget(self.views)
        self.splitter.addWidget(self.table)
        self.splitter.setChildrenCollapsible(False)
        self.splitter.setStretchFactor(0, 1)
        self.splitter.setStretchFactor(1, 2)
        self.splitter.setStretchFactor(2, 3)

        layout = QVBoxLayout(self)
        layout.addLayout(controls)
        layout.addWidget(self.splitter, 1)
        layout.addWidget(self.detail)
        layout.addWidget(self.legend)
        layout.addWidget(self.explain)
        self._set_pair_mode(False)

    def _connect(self) -> None:
        self.text_edit.textChanged.connect(self._input_changed)
        self.pair_edit.textChanged.connect(self._input_changed)
        self.links = TokenLinks(self)
        self.pair_check.toggled.connect(self._pair_toggled)
        self.show_ids_check.toggled.connect(self._show_ids_toggled)
        self.compare.changed.connect(self._apply_compare)
        self.main_pane.view.clicked.connect(self.table.select)
        self.table.exported.connect(lambda path: self.status_message.emit(f"Tokens exported to {path}"))

    # --- AnalysisTab ---------------------------------------------------------------------------------------

    def set_bundle(self, bundle: Bundle, infos: list[BundleInfo] | None = None) -> None:
        """Tokenize with `bundle`; the comparison list offers the installed bundles (`infos`) but this one."""
        super().set_bundle(bundle, infos)
        self.main_pane.set_title(bundle.info.name)
        if self._result is None:
            self.main_pane.set_message("Tokenizing…")
        self._update_explanation()
        self.compare.set_models(infos, bundle.info.path)

    def set_installed(self, infos: list[BundleInfo]) -> None:
        """The installed models were listed again: offer them to compare with."""
        self.compare.set_models(infos, self.bundle.info.path if self.bundle is not None else None)

    def set_input_text(self, text: str, into: QWidget | None = None) -> bool:
        """Replace the text of segment B if it was dropped on (`into`) or last focused in pair mode, else segment
        A's, as one step Ctrl+Z undoes; it is tokenized after the usual short delay."""
        edit = self.text_edit
        if self.pair_check.isChecked():
            dropped_on = next(
                (box for box in (self.text_edit, self.pair_edit) if into is box or box.isAncestorOf(into)), None
            ) if into is not None else None
            edit = dropped_on or self.links.last_box
        replace_text(edit, text)
        return True

    def show_text_pair(self, text: str, pair: str) -> None:
        """Segment A `text` and segment B `pair` in pair mode, each one undo step, tokenized together."""
        self.pair_check.setChecked(bool(pair))
        replace_text(self.text_edit, text)
        if pair:
            replace_text(self.pair_edit, pair)

    def save_state(self) -> dict:
        """Text, pair text, pair mode, ids shown and the model compared with."""
        return {
            "text": self.text_edit.toPlainText(),
            "pair": self.pair_edit.toPlainText(),
            "pair_mode": self.pair_check.isChecked(),
            "show_ids": self.show_ids_check.isChecked(),
            "compare": self.compare.name(),
        }

    def restore_state(self, state: dict) -> None:
        """Restore what `save_state()` kept; a comparison model not installed yet is chosen once it is."""
        if not isinstance(state, dict):
            return
        if isinstance(state.get("text"), str):
            self.text_edit.setPlainText(state["text"])
        if isinstance(state.get("pair"), str):
            self.pair_edit.setPlainText(state["pair"])
        if isinstance(state.get("pair_mode"), bool):
            self.pair_check.setChecked(state["pair_mode"])
        if isinstance(state.get("show_ids"), bool):
            self.show_ids_check.setChecked(state["show_ids"])
        compare = state.get("compare", "")
        if compare is None or isinstance(compare, str):
            self.compare.restore(compare)

    def run_analysis(self) -> None:
        """Tokenize the current input (and with the comparison model) on a worker thread."""
        bundle = self.bundle
        if bundle is None:
            return
        text, pair = self._current_input()
        compare_path = self.compare.path()
        self.submit(lambda handle: tokenize_both(handle, bundle, text, pair, compare_path), "tokenize")

    # --- results -------------------------------------------------------------------------------------------

    def result(self) -> TokensResult | None:
        """What the last run returned, if it is on show."""
        return self._result

    def tokenization(self) -> Tokenization | None:
        """The tokenization shown, if any."""
        return self._result.tokenization if self._result is not None else None

    def compare_tokenization(self) -> Tokenization | None:
        """The comparison model's tokenization shown, if any."""
        return self._result.compare if self._result is not None else None

    def on_started(self) -> None:
        """A run began: say so after a moment, so that short runs do not flicker."""
        self._busy_timer.start()

    def show_stale(self, reason: str) -> None:
        """Grey both panes and say why while the tokens shown are out of date; clear the busy note once idle.

        The hover and caret links hold only for a current result (see `is_current()`).
        """
        for pane in (self.main_pane, self.compare_pane):
            pane.set_stale(reason)
        if not self.runner.is_running():
            self._busy_timer.stop()
            self.busy.setText("")

    def on_result(self, result: TokensResult) -> None:
        """Show the pieces, the table and the comparison."""
        self._result = result
        self.main_pane.set_title(result.bundle.info.name)
        self.main_pane.set_tokenization(result.tokenization, words=result.words, normalization=result.normalization)
        self.table.set_tokenization(result.tokenization, result.bundle.info.name)
        self.legend.set_pair_mode(result.tokenization.pair is not None)
        compare_shown = self.compare_combo.currentData() is not None
        self.compare_pane.setVisible(compare_shown)
        if result.compare is not None:
            self.compare_pane.set_title(result.compare_name)
            self.compare_pane.set_tokenization(
                result.compare, words=result.compare_words, normalization=result.compare_normalization
            )
        elif compare_shown:
            self.compare_pane.set_title(self.compare_combo.currentText())
            self.compare_pane.set_message(result.compare_error or "Loading…")
        self.detail.setText(DETAIL_HINT)
        self.links.caret_moved()

    def on_error(self, message: str) -> None:
        """Show the error where the pieces were, and in the status bar."""
        self._result = None
        self.main_pane.set_message(message)
        self.table.set_tokenization(None)
        self.compare_pane.set_message("")
        self.status_message.emit(message)

    # --- inputs --------------------------------------------------------------------------------------------

    def _current_input(self) -> tuple[str, str | None]:
        pair = self.pair_edit.toPlainText() if self.pair_check.isChecked() else None
        return self.text_edit.toPlainText(), pair or None

    def _input_changed(self) -> None:
        self.links.input_changed()
        self.input_changed()

    def _pair_toggled(self, on: bool) -> None:
        self._set_pair_mode(on)
        self.input_changed()

    def _set_pair_mode(self, on: bool) -> None:
        self.pair_box.setVisible(on)
        self.text_label.setText("Segment A" if on else "Text")
        self.text_label.setToolTip(
            "Segment A, type id 0: e.g. a question." if on else "The text the model's tokenizer splits."
        )

    def _show_ids_toggled(self, on: bool) -> None:
        self.main_pane.view.set_show_ids(on)
        self.compare_pane.view.set_show_ids(on)
        self.state_changed.emit()

    def _update_explanation(self) -> None:
        info = self.bundle.info if self.bundle is not None else None
        vocab = f"{info.vocab_size:,}" if info is not None else "about 30,000"
        positions = f"{info.max_positions:,}" if info is not None else "usually 512"
        self.explain.set_text(WORDPIECE_EXPLANATION.format(vocab=vocab, positions=positions))

    # --- comparison ---------------------------------------------------------------------------------------

    def _apply_compare(self) -> None:
        shown = self.compare_combo.currentData() is not None
        self.compare_pane.setVisible(shown)
        if shown:
            self.compare_pane.set_title(self.compare_combo.currentText())
            self.compare_pane.set_message("Loading…")
        self.schedule_run(0)
        self.state_changed.emit()

    def input_highlight(self) -> tuple[int, int, int] | None:
        """The highlighted characters of the input as (segment, start, end) in Python indices, if any."""
        return self.links.input_highlight()
