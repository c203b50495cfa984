"""The Tokens tab's links between the text and its pieces, both ways: a piece hovered (or its table row selected)
highlights its characters and the pieces of the other model covering them; the mouse or the caret in the text
outlines the pieces covering that character or selection. Links hold only while the result shown is current."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QObject, QPoint
from PySide6.QtGui import QMouseEvent, QPalette, QTextCharFormat, QTextCursor
from PySide6.QtWidgets import QApplication, QPlainTextEdit, QTextEdit, QWidget

from bertdesk.core.tokens import Utf16Offsets
from bertdesk.ui.tabs.tokens.view import TokenView, token_detail

if TYPE_CHECKING:
    from bertdesk.ui.tabs.tokens.tab import TokensTab

DETAIL_HINT = "Hover a piece for its id, characters, type id, position and attention mask."


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


class TokenLinks(QObject):
    """Links `tab`'s text boxes, its two token views, its table and its detail line (see the module docstring).

    `last_box` is the text box focused last (where loaded text goes in pair mode).
    """

    def __init__(self, tab: TokensTab) -> None:
        super().__init__(tab)
        self._tab = tab
        self._edits = (tab.text_edit, tab.pair_edit)
        self._offsets: dict[int, Utf16Offsets] = {}  # by segment, for the current input
        self._mouse_over_input = False
        self.last_box: QPlainTextEdit = tab.text_edit
        self._filters = [_HoverFilter(edit, self._input_hovered) for edit in self._edits]
        for edit in self._edits:
            edit.cursorPositionChanged.connect(self.caret_moved)
            edit.selectionChanged.connect(self.caret_moved)
        tab.main_pane.view.hovered.connect(lambda index: self._piece_hovered(tab.main_pane.view, index))
        tab.compare_pane.view.hovered.connect(lambda index: self._piece_hovered(tab.compare_pane.view, index))
        tab.table.current_changed.connect(self._row_selected)
        app = QApplication.instance()
        if isinstance(app, QApplication):
            app.focusChanged.connect(self._focus_changed)

    def input_changed(self) -> None:
        """The text changed: its offsets and the highlight are gone."""
        self._offsets.clear()
        self.clear_input_highlight()

    def input_highlight(self) -> tuple[int, int, int] | None:
        """The highlighted characters of the input as (segment, start, end) in Python indices, if any."""
        for segment, edit in enumerate(self._edits):
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

    def caret_moved(self) -> None:
        """Outline the pieces under the text cursor (or overlapping the selection) of the focused box."""
        if self._mouse_over_input:
            return
        edit = next((edit for edit in self._edits if edit.hasFocus()), None)
        if edit is None:
            for view in self._views():
                view.set_highlighted(())
            return
        cursor = edit.textCursor()
        offsets = self._offsets_of(edit)
        start = offsets.from_utf16(cursor.selectionStart())
        end = offsets.from_utf16(cursor.selectionEnd()) if cursor.hasSelection() else None
        self._highlight_pieces(self._segment_of(edit), start, end)

    def clear_input_highlight(self) -> None:
        """Take the highlight off both text boxes."""
        for edit in self._edits:
            edit.setExtraSelections([])

    def _views(self) -> list[TokenView]:
        panes = (self._tab.main_pane, self._tab.compare_pane)
        return [pane.view for pane in panes if pane.view.tokenization() is not None]

    def _piece_hovered(self, view: TokenView, index: int) -> None:
        tokenization = view.tokenization()
        if index < 0 or tokenization is None:
            self._tab.detail.setText(DETAIL_HINT)
            self.clear_input_highlight()
            for other in self._views():
                if other is not view:
                    other.set_highlighted(())
            self.caret_moved()
            return
        token = tokenization.tokens[index]
        detail = token_detail(tokenization, token)
        if view is self._tab.compare_pane.view:
            detail = f"{self._tab.compare.combo.currentText()}: {detail}"
        self._tab.detail.setText(detail)
        view.set_highlighted(())
        if token.segment is None or token.end <= token.start or not self._tab.is_current():
            self.clear_input_highlight()
            return
        self._highlight_input(token.segment, token.start, token.end, scroll=False)
        for other in self._views():
            if other is not view:
                other.set_highlighted(self._covering(other, token.segment, token.start, token.end))

    def _row_selected(self, index: int) -> None:
        tokenization = self._tab.tokenization()
        if tokenization is None or not 0 <= index < len(tokenization.tokens):
            return
        token = tokenization.tokens[index]
        main_view, compare_view = self._tab.main_pane.view, self._tab.compare_pane.view
        main_view.set_highlighted({index}, ensure_visible=True)
        self._tab.detail.setText(token_detail(tokenization, token))
        if token.segment is not None and token.end > token.start and self._tab.is_current():
            self._highlight_input(token.segment, token.start, token.end, scroll=True)
            if compare_view.tokenization() is not None:
                covering = self._covering(compare_view, token.segment, token.start, token.end)
                compare_view.set_highlighted(covering, ensure_visible=True)

    def _input_hovered(self, edit: QPlainTextEdit, position: int) -> None:
        self._mouse_over_input = position >= 0
        if position < 0:
            self.caret_moved()
            return
        char = self._offsets_of(edit).from_utf16(position)
        self._highlight_pieces(self._segment_of(edit), char, char + 1)

    def _focus_changed(self, old: QWidget | None, new: QWidget | None) -> None:
        if new in self._edits:
            self.last_box = new
        if old in self._edits or new in self._edits:
            self.caret_moved()

    def _segment_of(self, edit: QPlainTextEdit) -> int:
        return 1 if edit is self._tab.pair_edit else 0

    def _offsets_of(self, edit: QPlainTextEdit) -> Utf16Offsets:
        segment = self._segment_of(edit)
        if segment not in self._offsets:
            self._offsets[segment] = Utf16Offsets(edit.toPlainText())
        return self._offsets[segment]

    def _highlight_pieces(self, segment: int, start: int, end: int | None) -> None:
        for view in self._views():
            view.set_highlighted(self._covering(view, segment, start, end), ensure_visible=True)

    def _covering(self, view: TokenView, segment: int, start: int, end: int | None) -> list[int]:
        result = self._tab.result()
        if result is None or not self._tab.is_current():
            return []
        if view is self._tab.main_pane.view:
            return result.locator.covering(segment, start, end)
        if result.compare_locator is not None:
            return result.compare_locator.covering(segment, start, end)
        return []

    def _highlight_input(self, segment: int, start: int, end: int, scroll: bool) -> None:
        """Select characters [start, end) of a segment's box as an extra selection (the caret stays put)."""
        self.clear_input_highlight()
        edit = self._edits[segment]
        offsets = self._offsets_of(edit)
        selection = QTextEdit.ExtraSelection()
        cursor = QTextCursor(edit.document())
        cursor.setPosition(offsets.to_utf16(start))
        cursor.setPosition(offsets.to_utf16(end), QTextCursor.MoveMode.KeepAnchor)
        char_format = QTextCharFormat()
        palette = self._tab.palette()
        char_format.setBackground(palette.color(QPalette.ColorRole.Highlight))
        char_format.setForeground(palette.color(QPalette.ColorRole.HighlightedText))
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
