"""The Tokens tab: how the model splits the text into pieces, with ids, offsets, type ids and positions."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QObject, QPoint, Qt, QTimer
from PySide6.QtGui import QMouseEvent, QPalette, QTextCharFormat, QTextCursor
from PySide6.QtWidgets import (
    QApplication,
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QSizePolicy,
    QSplitter,
    QTextEdit,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from bertdesk.core.bundle import open_model
from bertdesk.core.errors import BertdeskError
from bertdesk.core.jobs import JobHandle
from bertdesk.core.token_locator import TokenLocator, Utf16Offsets
from bertdesk.core.token_notes import normalization_note, word_count
from bertdesk.core.tokens import Tokenization, tokenize
from bertdesk.ui.models.picker import bundle_line
from bertdesk.ui.tabs.base import AnalysisTab
from bertdesk.ui.tabs.tokens.legend import TokenLegend
from bertdesk.ui.tabs.tokens.pane import TokenPane
from bertdesk.ui.tabs.tokens.table import TokenTable
from bertdesk.ui.tabs.tokens.view import TokenView, token_detail
from bertdesk.ui.widgets.text_box import TextBox

if TYPE_CHECKING:
    from bertdesk.core.bundle import Bundle, BundleInfo

DETAIL_HINT = "Hover a piece for its id, characters, type id, position and attention mask."
NO_COMPARE = "No comparison"
NO_MODEL_YET = "No model yet: the pieces appear once a model is loaded."
COMPARE_TOOLTIP = (
    "Split the same text with another installed model, side by side: different vocabularies split words differently."
)

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


@dataclass(frozen=True)
class _Result:
    """What one tokenization job returns: the main tokenization and the comparison (or why it failed)."""

    bundle: Bundle
    tokenization: Tokenization
    locator: TokenLocator
    words: int
    normalization: str
    compare_name: str = ""
    compare: Tokenization | None = None
    compare_locator: TokenLocator | None = None
    compare_error: str = ""
    compare_words: int = 0
    compare_normalization: str = ""


def _tokenize_both(
    handle: JobHandle, bundle: Bundle, text: str, pair: str | None, compare_path: str | None
) -> _Result:
    """Tokenize with the tab's model and, if asked, with the comparison model (`open_model` keeps it loaded)."""
    main_handle = handle if compare_path is None else handle.sub(0.0, 0.5)
    main = tokenize(bundle.tokenizer, text, pair, max_length=bundle.info.max_positions, handle=main_handle)
    locator = TokenLocator(main)
    shown = (word_count(main), normalization_note(bundle.tokenizer, main))
    if compare_path is None:
        return _Result(bundle, main, locator, *shown)
    handle.check()
    try:
        handle.progress(0.5, "loading the model to compare with")
        other = open_model(compare_path)
        handle.check()
        compare = tokenize(
            other.tokenizer, text, pair, max_length=other.info.max_positions, handle=handle.sub(0.5, 1.0)
        )
    except BertdeskError as exc:
        return _Result(bundle, main, locator, *shown, compare_error=str(exc))
    return _Result(
        bundle,
        main,
        locator,
        *shown,
        compare_name=other.info.name,
        compare=compare,
        compare_locator=TokenLocator(compare),
        compare_words=word_count(compare),
        compare_normalization=normalization_note(other.tokenizer, compare),
    )


class _HoverFilter(QObject):
    """Reports the character under the mouse in a text box's viewport (-1 when the mouse leaves)."""

    def __init__(self, edit: QPlainTextEdit, on_hover: Callable[[QPlainTextEdit, int], None]) -> None:
        super().__init__(edit)
        self._edit = edit
        self._on_hover = on_hover
        edit.viewport().setMouseTracking(True)
        edit.viewport().installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt override)
        if event.type() == QEvent.Type.MouseMove and isinstance(event, QMouseEvent):
            self._on_hover(self._edit, self._char_at(event.position().toPoint()))
        elif event.type() == QEvent.Type.Leave:
            self._on_hover(self._edit, -1)
        return False

    def _char_at(self, pos: QPoint) -> int:
        """The Qt position of the character under `pos`, or -1 past the end of a line."""
        cursor = self._edit.cursorForPosition(pos)
        caret = self._edit.cursorRect(cursor)
        position = cursor.position()
        if pos.x() < caret.center().x():
            position -= 1
        block = cursor.block()
        if position < block.position() or position >= block.position() + block.length() - 1:
            return -1
        return position


class TokensTab(AnalysisTab):
    """The text, split into the model's tokens: coloured pieces, counts, a table, and another model beside."""

    key = "tokens"
    title = "Tokens"
    running_text = "tokenizing"

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._result: _Result | None = None
        self._offsets: dict[int, Utf16Offsets] = {}  # by segment, for the current input
        self._compare_infos: list[BundleInfo] = []
        self._pending_compare: str | None = None  # a restored comparison not installed (yet)
        self._mouse_over_input = False
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
        self._filters = [_HoverFilter(edit, self._input_hovered) for edit in (self.text_edit, self.pair_edit)]
        self._last_box: TextBox = self.text_edit  # where loaded text goes in pair mode

        self.pair_check = QCheckBox("Pair", self)
        self.pair_check.setToolTip(
            "Tokenize two segments together, as for question answering or sentence-pair classification: "
            "[CLS] A [SEP] B [SEP]. A band under the pieces shows their type id."
        )
        self.show_ids_check = QCheckBox("Show ids", self)
        self.show_ids_check.setToolTip(
            "Show each piece's vocabulary id (the row of the embedding matrix) under it."
        )
        self.compare_combo = QComboBox(self)
        self.compare_combo.addItem(NO_COMPARE, None)
        self.compare_combo.setToolTip(COMPARE_TOOLTIP)
        self.compare_combo.setEnabled(False)
        self.compare_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        compare_label = QLabel("Compare with:", self)
        compare_label.setBuddy(self.compare_combo)
        compare_label.setToolTip(self.compare_combo.toolTip())
        self.busy = QLabel("", self)
        self.busy.setToolTip("A long text is being tokenized; the window stays usable meanwhile.")
        self._busy_timer = QTimer(self)
        self._busy_timer.setSingleShot(True)
        self._busy_timer.setInterval(300)
        self._busy_timer.timeout.connect(lambda: self.busy.setText("Tokenizing…"))

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

        self.explain_button = QToolButton(self)
        self.explain_button.setText("How does WordPiece split text?")
        self.explain_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.explain_button.setArrowType(Qt.ArrowType.RightArrow)
        self.explain_button.setCheckable(True)
        self.explain_button.setAutoRaise(True)
        self.explain_button.setToolTip(
            "Show or hide a short explanation of the tokenizer and the model inputs."
        )
        self.explanation = QLabel(self)
        self.explanation.setWordWrap(True)
        self.explanation.setTextFormat(Qt.TextFormat.RichText)
        self.explanation.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.explanation.hide()
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
        layout.addWidget(self.explain_button)
        layout.addWidget(self.explanation)
        self._set_pair_mode(False)

    def _connect(self) -> None:
        self.text_edit.textChanged.connect(self._input_changed)
        self.pair_edit.textChanged.connect(self._input_changed)
        self.text_edit.cursorPositionChanged.connect(self._caret_moved)
        self.pair_edit.cursorPositionChanged.connect(self._caret_moved)
        self.text_edit.selectionChanged.connect(self._caret_moved)
        self.pair_edit.selectionChanged.connect(self._caret_moved)
        self.pair_check.toggled.connect(self._pair_toggled)
        self.show_ids_check.toggled.connect(self._show_ids_toggled)
        self.compare_combo.currentIndexChanged.connect(self._compare_changed)
        self.explain_button.toggled.connect(self._explain_toggled)
        self.main_pane.view.hovered.connect(lambda index: self._piece_hovered(self.main_pane.view, index))
        self.compare_pane.view.hovered.connect(
            lambda index: self._piece_hovered(self.compare_pane.view, index)
        )
        self.main_pane.view.clicked.connect(self.table.select)
        self.table.current_changed.connect(self._row_selected)
        self.table.exported.connect(lambda path: self.status_message.emit(f"Tokens exported to {path}"))
        app = QApplication.instance()
        if isinstance(app, QApplication):
            app.focusChanged.connect(self._focus_changed)

    # --- AnalysisTab ---------------------------------------------------------------------------------------

    def set_bundle(self, bundle: Bundle, infos: list[BundleInfo] | None = None) -> None:
        """Tokenize with `bundle`; the comparison list offers the installed bundles (`infos`) but this one."""
        super().set_bundle(bundle, infos)
        if infos is not None:
            self._compare_infos = list(infos)
        self.main_pane.set_title(bundle.info.name)
        if self._result is None:
            self.main_pane.set_message("Tokenizing…")
        self._update_explanation()
        self._fill_compare_combo()

    def set_input_text(self, text: str, into: QWidget | None = None) -> bool:
        """Replace the text of segment B if it was dropped on (`into`) or last focused in pair mode, else segment
        A's, as one step Ctrl+Z undoes; it is tokenized after the usual short delay."""
        edit = self.text_edit
        if self.pair_check.isChecked():
            dropped_on = next(
                (box for box in (self.text_edit, self.pair_edit) if into is box or box.isAncestorOf(into)), None
            ) if into is not None else None
            edit = dropped_on or self._last_box
        cursor = QTextCursor(edit.document())
        cursor.beginEditBlock()
        cursor.select(QTextCursor.SelectionType.Document)
        cursor.insertText(text)
        cursor.endEditBlock()
        return True

    def save_state(self) -> dict:
        """Text, pair text, pair mode, ids shown and the model compared with."""
        return {
            "text": self.text_edit.toPlainText(),
            "pair": self.pair_edit.toPlainText(),
            "pair_mode": self.pair_check.isChecked(),
            "show_ids": self.show_ids_check.isChecked(),
            "compare": self._compare_name(),
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
        if compare is None:
            self.compare_combo.setCurrentIndex(0)
        elif isinstance(compare, str) and compare:
            self._pending_compare = compare
            self._fill_compare_combo()

    def run_analysis(self) -> None:
        """Tokenize the current input (and with the comparison model) on a worker thread."""
        bundle = self.bundle
        if bundle is None:
            return
        text, pair = self._current_input()
        compare_path = self.compare_combo.currentData()
        self.submit(lambda handle: _tokenize_both(handle, bundle, text, pair, compare_path), "tokenize")

    # --- results -------------------------------------------------------------------------------------------

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

    def stop(self) -> None:
        """Drop any scheduled run, cancel the job and the busy note's timer."""
        super().stop()
        self._busy_timer.stop()

    def on_result(self, result: _Result) -> None:
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
        self._caret_moved()

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
        self._offsets.clear()
        self._clear_input_highlight()
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

    def _explain_toggled(self, on: bool) -> None:
        self.explanation.setVisible(on)
        self.explain_button.setArrowType(Qt.ArrowType.DownArrow if on else Qt.ArrowType.RightArrow)

    def _update_explanation(self) -> None:
        info = self.bundle.info if self.bundle is not None else None
        vocab = f"{info.vocab_size:,}" if info is not None else "about 30,000"
        positions = f"{info.max_positions:,}" if info is not None else "usually 512"
        self.explanation.setText(WORDPIECE_EXPLANATION.format(vocab=vocab, positions=positions))

    # --- comparison ----------------------------------------------------------------------------------------

    def _compare_name(self) -> str | None:
        """The bundle compared with (or waiting to be listed), if any."""
        if self.compare_combo.currentData() is not None:
            return self.compare_combo.currentText()
        return self._pending_compare

    def _fill_compare_combo(self) -> None:
        """List the installed bundles but the tab's own, keeping the choice (or the one being restored)."""
        wanted = self._pending_compare or self._compare_name()
        own = self.bundle.info.path if self.bundle is not None else None
        self.compare_combo.blockSignals(True)
        previous = self.compare_combo.currentData()
        self.compare_combo.clear()
        self.compare_combo.addItem(NO_COMPARE, None)
        for info in self._compare_infos:
            if info.path != own:
                self.compare_combo.addItem(info.name, info.path)
                self.compare_combo.setItemData(
                    self.compare_combo.count() - 1, bundle_line(info), Qt.ItemDataRole.ToolTipRole
                )
        index = self.compare_combo.findText(wanted) if wanted else 0
        if index > 0:
            self._pending_compare = None
        self.compare_combo.setCurrentIndex(max(index, 0))
        others = self.compare_combo.count() > 1
        self.compare_combo.setEnabled(others)
        self.compare_combo.setToolTip(
            COMPARE_TOOLTIP if others else f"{COMPARE_TOOLTIP} Install another model to compare with."
        )
        self.compare_combo.blockSignals(False)
        if self.compare_combo.currentData() != previous:
            self._apply_compare()

    def _compare_changed(self) -> None:
        """The user chose another model to compare with (or none)."""
        self._pending_compare = None
        self._apply_compare()

    def _apply_compare(self) -> None:
        shown = self.compare_combo.currentData() is not None
        self.compare_pane.setVisible(shown)
        if shown:
            self.compare_pane.set_title(self.compare_combo.currentText())
            self.compare_pane.set_message("Loading…")
        self.schedule_run(0)
        self.state_changed.emit()

    # --- hover and selection links -------------------------------------------------------------------------

    def _views(self) -> list[TokenView]:
        return [
            pane.view for pane in (self.main_pane, self.compare_pane) if pane.view.tokenization() is not None
        ]

    def _piece_hovered(self, view: TokenView, index: int) -> None:
        tokenization = view.tokenization()
        if index < 0 or tokenization is None:
            self.detail.setText(DETAIL_HINT)
            self._clear_input_highlight()
            for other in self._views():
                if other is not view:
                    other.set_highlighted(())
            self._caret_moved()
            return
        token = tokenization.tokens[index]
        detail = token_detail(tokenization, token)
        if view is self.compare_pane.view:
            detail = f"{self.compare_combo.currentText()}: {detail}"
        self.detail.setText(detail)
        view.set_highlighted(())
        if token.segment is None or token.end <= token.start or not self.is_current():
            self._clear_input_highlight()
            return
        self._highlight_input(token.segment, token.start, token.end, scroll=False)
        for other in self._views():
            if other is not view:
                other.set_highlighted(self._covering(other, token.segment, token.start, token.end))

    def _row_selected(self, index: int) -> None:
        tokenization = self.tokenization()
        if tokenization is None or not 0 <= index < len(tokenization.tokens):
            return
        token = tokenization.tokens[index]
        self.main_pane.view.set_highlighted({index}, ensure_visible=True)
        self.detail.setText(token_detail(tokenization, token))
        if token.segment is not None and token.end > token.start and self.is_current():
            self._highlight_input(token.segment, token.start, token.end, scroll=True)
            if self.compare_pane.view.tokenization() is not None:
                covering = self._covering(self.compare_pane.view, token.segment, token.start, token.end)
                self.compare_pane.view.set_highlighted(covering, ensure_visible=True)

    def _input_hovered(self, edit: QPlainTextEdit, position: int) -> None:
        self._mouse_over_input = position >= 0
        if position < 0:
            self._caret_moved()
            return
        char = self._offsets_of(edit).from_utf16(position)
        self._highlight_pieces(self._segment_of(edit), char, char + 1)

    def _caret_moved(self) -> None:
        """Outline the pieces under the text cursor (or overlapping the selection) of the focused box."""
        if self._mouse_over_input:
            return
        edit = next((edit for edit in (self.text_edit, self.pair_edit) if edit.hasFocus()), None)
        if edit is None:
            for view in self._views():
                view.set_highlighted(())
            return
        cursor = edit.textCursor()
        offsets = self._offsets_of(edit)
        start = offsets.from_utf16(cursor.selectionStart())
        end = offsets.from_utf16(cursor.selectionEnd()) if cursor.hasSelection() else None
        self._highlight_pieces(self._segment_of(edit), start, end)

    def _focus_changed(self, old: QWidget | None, new: QWidget | None) -> None:
        if new in (self.text_edit, self.pair_edit):
            self._last_box = new
        if old in (self.text_edit, self.pair_edit) or new in (self.text_edit, self.pair_edit):
            self._caret_moved()

    def _segment_of(self, edit: QPlainTextEdit) -> int:
        return 1 if edit is self.pair_edit else 0

    def _offsets_of(self, edit: QPlainTextEdit) -> Utf16Offsets:
        segment = self._segment_of(edit)
        if segment not in self._offsets:
            self._offsets[segment] = Utf16Offsets(edit.toPlainText())
        return self._offsets[segment]

    def _highlight_pieces(self, segment: int, start: int, end: int | None) -> None:
        for view in self._views():
            view.set_highlighted(self._covering(view, segment, start, end), ensure_visible=True)

    def _covering(self, view: TokenView, segment: int, start: int, end: int | None) -> list[int]:
        result = self._result
        if result is None or not self.is_current():
            return []
        if view is self.main_pane.view:
            return result.locator.covering(segment, start, end)
        if result.compare_locator is not None:
            return result.compare_locator.covering(segment, start, end)
        return []

    def _highlight_input(self, segment: int, start: int, end: int, scroll: bool) -> None:
        """Select characters [start, end) of a segment's box as an extra selection (the caret stays put)."""
        self._clear_input_highlight()
        edit = self.pair_edit if segment == 1 else self.text_edit
        offsets = self._offsets_of(edit)
        selection = QTextEdit.ExtraSelection()
        cursor = QTextCursor(edit.document())
        cursor.setPosition(offsets.to_utf16(start))
        cursor.setPosition(offsets.to_utf16(end), QTextCursor.MoveMode.KeepAnchor)
        char_format = QTextCharFormat()
        char_format.setBackground(self.palette().color(QPalette.ColorRole.Highlight))
        char_format.setForeground(self.palette().color(QPalette.ColorRole.HighlightedText))
        selection.cursor = cursor
        selection.format = char_format
        edit.setExtraSelections([selection])
        if scroll:
            caret = QTextCursor(edit.document())
            caret.setPosition(offsets.to_utf16(start))
            edit.blockSignals(True)
            edit.setTextCursor(caret)
            edit.ensureCursorVisible()
            edit.blockSignals(False)

    def _clear_input_highlight(self) -> None:
        self.text_edit.setExtraSelections([])
        self.pair_edit.setExtraSelections([])

    def input_highlight(self) -> tuple[int, int, int] | None:
        """The highlighted characters of the input as (segment, start, end) in Python indices, if any."""
        for segment, edit in ((0, self.text_edit), (1, self.pair_edit)):
            selections = edit.extraSelections()
            if selections:
                cursor = selections[0].cursor
                offsets = self._offsets_of(edit)
                return (
                    segment,
                    offsets.from_utf16(cursor.selectionStart()),
                    offsets.from_utf16(cursor.selectionEnd()),
                )
        return None


