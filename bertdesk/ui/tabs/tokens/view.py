"""The pieces of a tokenization drawn as coloured chips that wrap like text, painted lazily row by row."""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable

from PySide6.QtCore import QEvent, QPoint, QRect, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontMetrics,
    QHelpEvent,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPen,
    QResizeEvent,
)
from PySide6.QtWidgets import QAbstractScrollArea, QToolTip, QWidget

from bertdesk.core.tokens import Token, Tokenization
from bertdesk.ui.tabs.tokens.colors import PieceKind, TokenColors, piece_kind, token_colors

#: More chips than this are not drawn (the table still lists every token): laying out tens of thousands of
#: chips would take seconds, and nobody reads them.
MAX_PIECES = 5000

MARGIN = 6
PAD_X = 4
PAD_Y = 2
WORD_GAP = 6
ROW_GAP = 6
BAND_HEIGHT = 4
RADIUS = 3

SEGMENT_NAMES = {0: "A", 1: "B"}

VIEW_TOOLTIP = (
    "Each chip is one token, in the order the model reads them. Pieces of one word touch; '##' marks a piece "
    "that continues a word. Hover a chip for its id, characters, type id, position and attention mask."
)


def token_detail(tokenization: Tokenization, token: Token) -> str:
    """One line about `token`: piece, id, characters, type id, position id, attention mask, truncation."""
    parts = [f"“{token.piece}”  id {token.id}"]
    pair_mode = tokenization.pair is not None
    if token.segment is None:
        parts.append("inserted special token, no characters")
    else:
        source = tokenization.text if token.segment == 0 else (tokenization.pair or "")
        snippet = source[token.start : token.end]
        if len(snippet) > 40:
            snippet = snippet[:39] + "…"
        where = f" of segment {SEGMENT_NAMES.get(token.segment, token.segment)}" if pair_mode else ""
        shown = "".join(char if char.isprintable() else repr(char)[1:-1] for char in snippet)
        parts.append(f"characters {token.start}–{token.end}{where} “{shown}”")
    segment = SEGMENT_NAMES.get(token.type_id, str(token.type_id))
    parts.append(f"type id {token.type_id} (segment {segment})")
    if token.truncated:
        parts.append(
            f"truncated — beyond the model's {tokenization.max_length} positions, the model never sees it"
        )
    else:
        parts.append(f"position {token.position}")
        parts.append(f"attention mask {token.attention_mask}")
    if token.unknown:
        parts.append("unknown: no vocabulary piece matches these characters")
    return " · ".join(parts)


class TokenView(QAbstractScrollArea):
    """Chips for every token of a `Tokenization` (up to `MAX_PIECES`), wrapped to the width like text.

    Pieces of one word are joined with no gap and share a hue; special tokens and [UNK] have their own
    colours; tokens beyond the maximum length are greyed and struck out. In pair mode a band under each chip
    shows its type id. Hovering a chip emits `hovered(index)` (-1 when leaving), clicking emits
    `clicked(index)`.
    """

    hovered = Signal(int)
    clicked = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._tokenization: Tokenization | None = None
        self._placeholder = ""
        self._show_ids = False
        self._hovered = -1
        self._faded = False
        self._highlighted: frozenset[int] = frozenset()
        self._colors: TokenColors = token_colors(self.palette())
        self._rects: list[QRect] = []  # content coordinates, one per drawn token
        self._row_starts: list[int] = []  # index of the first token of each row
        self._widths: dict[tuple[str, int], int] = {}  # chip width by (piece, id shown or -1)
        self._content_height = 0
        self.viewport().setMouseTracking(True)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setToolTip(VIEW_TOOLTIP)
        self.setMinimumHeight(60)

    # --- content -------------------------------------------------------------------------------------------

    def set_tokenization(self, tokenization: Tokenization | None) -> None:
        """Show `tokenization` (None: show the placeholder instead)."""
        self._tokenization = tokenization
        self._hovered = -1
        self._highlighted = frozenset()
        self._relayout()

    def tokenization(self) -> Tokenization | None:
        """The tokenization shown, if any."""
        return self._tokenization

    def set_placeholder(self, text: str) -> None:
        """The sentence shown when there is no tokenization (no model yet, an error)."""
        self._placeholder = text
        self.viewport().update()

    def placeholder(self) -> str:
        """The sentence shown when there is no tokenization."""
        return self._placeholder

    def set_show_ids(self, show: bool) -> None:
        """Show each piece's vocabulary id under it."""
        if show != self._show_ids:
            self._show_ids = show
            self._relayout()

    def set_faded(self, faded: bool) -> None:
        """Draw the chips faded: they no longer match the input."""
        if faded != self._faded:
            self._faded = faded
            self.viewport().update()

    def is_faded(self) -> bool:
        """True while the chips are drawn faded (out of date)."""
        return self._faded

    def show_ids(self) -> bool:
        """True when ids are shown under the pieces."""
        return self._show_ids

    def rendered_count(self) -> int:
        """How many chips are drawn (at most `MAX_PIECES`)."""
        return len(self._rects)

    def set_highlighted(self, indices: Iterable[int], ensure_visible: bool = False) -> None:
        """Outline the chips of `indices` (token indices), scrolling to the first one if asked."""
        highlighted = frozenset(i for i in indices if 0 <= i < len(self._rects))
        if highlighted == self._highlighted:
            return
        self._highlighted = highlighted
        if ensure_visible and highlighted:
            self.ensure_visible(min(highlighted))
        self.viewport().update()

    def highlighted(self) -> frozenset[int]:
        """The token indices outlined from outside (hover in the input, a selected table row)."""
        return self._highlighted

    def ensure_visible(self, index: int) -> None:
        """Scroll so that the chip of token `index` is in view."""
        if not 0 <= index < len(self._rects):
            return
        rect = self._rects[index]
        bar = self.verticalScrollBar()
        top = bar.value()
        bottom = top + self.viewport().height()
        if rect.top() - MARGIN < top:
            bar.setValue(rect.top() - MARGIN)
        elif rect.bottom() + MARGIN > bottom:
            bar.setValue(rect.bottom() + MARGIN - self.viewport().height())

    # --- geometry ------------------------------------------------------------------------------------------

    def piece_rect(self, index: int) -> QRect | None:
        """The chip of token `index` in viewport coordinates, or None when it is not drawn."""
        if not 0 <= index < len(self._rects):
            return None
        return self._rects[index].translated(0, -self.verticalScrollBar().value())

    def piece_at(self, pos: QPoint) -> int:
        """The token index of the chip at `pos` (viewport coordinates), or -1."""
        if not self._rects:
            return -1
        y = pos.y() + self.verticalScrollBar().value()
        row = (y - MARGIN) // self._row_pitch()
        if y < MARGIN or row >= len(self._row_starts):
            return -1
        first = self._row_starts[row]
        last = self._row_starts[row + 1] if row + 1 < len(self._row_starts) else len(self._rects)
        lefts = [self._rects[i].left() for i in range(first, last)]
        candidate = first + bisect_right(lefts, pos.x()) - 1
        if candidate >= first and self._rects[candidate].contains(pos.x(), y):
            return candidate
        return -1

    def _id_font(self) -> QFont:
        font = QFont(self.font())
        font.setPointSizeF(max(6.0, font.pointSizeF() * 0.8))
        return font

    def _chip_height(self) -> int:
        height = QFontMetrics(self.font()).height() + 2 * PAD_Y
        if self._show_ids:
            height += QFontMetrics(self._id_font()).height()
        return height

    def _band_height(self) -> int:
        return BAND_HEIGHT if self._tokenization is not None and self._tokenization.pair is not None else 0

    def _row_pitch(self) -> int:
        return self._chip_height() + self._band_height() + ROW_GAP

    def _relayout(self) -> None:
        self._rects = []
        self._row_starts = []
        tokenization = self._tokenization
        if tokenization is not None:
            self._layout(tokenization.tokens[:MAX_PIECES], tokenization)
        self._update_scrollbar()
        self.viewport().update()

    def _layout(self, tokens: list[Token], tokenization: Tokenization) -> None:
        """Place the chips in rows; a word's pieces wrap together unless the word is wider than a row."""
        widths = [self._chip_width(token) for token in tokens]
        word_widths = widths[:]  # at a word's first piece: the width of all its pieces
        for i in range(len(tokens) - 1, 0, -1):
            if tokens[i].continuation:
                word_widths[i - 1] += word_widths[i]
        width = max(self.viewport().width() - 2 * MARGIN, 40)
        chip_height = self._chip_height()
        pitch = self._row_pitch()
        sources = (tokenization.text, tokenization.pair or "")
        x = 0
        row = 0
        previous: Token | None = None
        self._row_starts.append(0)
        for token, chip_width, word_width in zip(tokens, widths, word_widths, strict=True):
            joined = token.continuation and previous is not None
            line_break = (
                previous is not None
                and token.segment is not None
                and token.segment == previous.segment
                and "\n" in sources[token.segment][previous.end : token.start]
            )
            gap = 0 if joined or x == 0 else WORD_GAP
            needed = chip_width if joined or word_width > width else word_width
            if x > 0 and (line_break or x + gap + needed > width):
                row += 1
                x = 0
                gap = 0
                self._row_starts.append(token.index)
            x += gap
            self._rects.append(QRect(MARGIN + x, MARGIN + row * pitch, chip_width, chip_height))
            x += chip_width
            previous = token
        self._content_height = MARGIN * 2 + (row + 1) * pitch - ROW_GAP

    def _chip_width(self, token: Token) -> int:
        key = (token.piece, token.id if self._show_ids else -1)
        chip_width = self._widths.get(key)
        if chip_width is None:
            font = QFont(self.font())
            font.setBold(token.special or token.unknown)
            chip_width = QFontMetrics(font).horizontalAdvance(token.piece)
            if self._show_ids:
                chip_width = max(chip_width, QFontMetrics(self._id_font()).horizontalAdvance(str(token.id)))
            chip_width += 2 * PAD_X
            self._widths[key] = chip_width
        return chip_width

    def _update_scrollbar(self) -> None:
        bar = self.verticalScrollBar()
        height = self._content_height if self._rects else 0
        bar.setRange(0, max(0, height - self.viewport().height()))
        bar.setPageStep(self.viewport().height())
        bar.setSingleStep(self._row_pitch())

    # --- events --------------------------------------------------------------------------------------------

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 (Qt override)
        super().resizeEvent(event)
        if event.oldSize().width() != event.size().width():
            self._relayout()
        else:
            self._update_scrollbar()

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 (Qt override)
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange:
            self._colors = token_colors(self.palette())
            self.viewport().update()
        elif event.type() == QEvent.Type.FontChange:
            self._widths.clear()
            self._relayout()

    def scrollContentsBy(self, dx: int, dy: int) -> None:  # noqa: N802 (Qt override)
        self.viewport().update()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802 (Qt override)
        self._set_hovered(self.piece_at(event.position().toPoint()))
        super().mouseMoveEvent(event)

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802 (Qt override)
        index = self.piece_at(event.position().toPoint())
        if index >= 0 and event.button() == Qt.MouseButton.LeftButton:
            self.clicked.emit(index)
        super().mousePressEvent(event)

    def viewportEvent(self, event: QEvent) -> bool:  # noqa: N802 (Qt override)
        if event.type() == QEvent.Type.Leave:
            self._set_hovered(-1)
        elif event.type() == QEvent.Type.ToolTip and isinstance(event, QHelpEvent):
            index = self.piece_at(event.pos())
            if index >= 0 and self._tokenization is not None:
                rect = self.piece_rect(index)
                detail = token_detail(self._tokenization, self._tokenization.tokens[index])
                QToolTip.showText(event.globalPos(), detail, self.viewport(), rect)
            else:
                QToolTip.showText(event.globalPos(), self.toolTip(), self.viewport())
            return True
        return super().viewportEvent(event)

    def _set_hovered(self, index: int) -> None:
        if index != self._hovered:
            self._hovered = index
            self.viewport().update()
            self.hovered.emit(index)

    # --- painting ------------------------------------------------------------------------------------------

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 (Qt override)
        painter = QPainter(self.viewport())
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        tokenization = self._tokenization
        if tokenization is None or not self._rects:
            painter.setPen(self.palette().color(self.palette().ColorRole.PlaceholderText))
            painter.drawText(
                self.viewport().rect().adjusted(MARGIN, MARGIN, -MARGIN, -MARGIN),
                Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap,
                self._placeholder,
            )
            return
        offset = self.verticalScrollBar().value()
        painter.translate(0, -offset)
        if self._faded:
            painter.setOpacity(0.45)
        visible = event.rect().translated(0, offset)
        pitch = self._row_pitch()
        first_row = max(0, (visible.top() - MARGIN) // pitch)
        last_row = min(len(self._row_starts) - 1, (visible.bottom() - MARGIN) // pitch)
        if first_row > last_row:
            return
        start = self._row_starts[first_row]
        stop = self._row_starts[last_row + 1] if last_row + 1 < len(self._row_starts) else len(self._rects)
        fonts = (QFont(self.font()), self._id_font())
        tokens = tokenization.tokens
        for index in range(start, stop):
            self._paint_chip(painter, tokens, index, fonts)
        for index in sorted(self._highlighted | {self._hovered}):
            if start <= index < stop:
                painter.setPen(QPen(self._colors.outline, 2))
                painter.setBrush(Qt.BrushStyle.NoBrush)
                painter.drawRoundedRect(self._rects[index].adjusted(-1, -1, 1, 1), RADIUS, RADIUS)

    def _paint_chip(
        self, painter: QPainter, tokens: list[Token], index: int, fonts: tuple[QFont, QFont]
    ) -> None:
        token = tokens[index]
        rect = self._rects[index]
        chip = self._colors.truncated if token.truncated else self._colors.chip(token)
        joined_left = index > 0 and token.continuation and self._rects[index - 1].top() == rect.top()
        joined_right = (
            index + 1 < len(self._rects)
            and tokens[index + 1].continuation
            and self._rects[index + 1].top() == rect.top()
        )
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(chip.background)
        painter.drawRoundedRect(rect, RADIUS, RADIUS)
        if joined_left:
            painter.drawRect(rect.left(), rect.top(), RADIUS, rect.height())
        if joined_right:
            painter.drawRect(rect.right() - RADIUS + 1, rect.top(), RADIUS, rect.height())
        if joined_left:
            divider = QColor(chip.text)
            divider.setAlpha(90)
            painter.setPen(QPen(divider, 1))
            painter.drawLine(rect.left(), rect.top() + 3, rect.left(), rect.bottom() - 3)

        if token.truncated and index > 0 and not tokens[index - 1].truncated:
            painter.setPen(QPen(self._colors.cut, 2))
            x = rect.left() - (1 if joined_left else WORD_GAP // 2)
            painter.drawLine(x, rect.top() - 2, x, rect.bottom() + self._band_height() + 2)

        font, id_font = fonts
        kind = piece_kind(token)
        font.setBold(kind not in (PieceKind.WORD, PieceKind.CONTINUATION))
        font.setStrikeOut(token.truncated)
        painter.setFont(font)
        text_rect = QRect(rect.left(), rect.top() + PAD_Y, rect.width(), QFontMetrics(font).height())
        if kind is PieceKind.CONTINUATION and token.piece.startswith("##"):
            self._paint_continuation(painter, token.piece, text_rect, chip.text)
        else:
            painter.setPen(chip.text)
            painter.drawText(text_rect, Qt.AlignmentFlag.AlignCenter, token.piece)
        if self._show_ids:
            faded = QColor(chip.text)
            faded.setAlpha(200)
            id_font.setStrikeOut(token.truncated)
            painter.setFont(id_font)
            painter.setPen(faded)
            id_rect = QRect(
                rect.left(), text_rect.bottom() + 1, rect.width(), rect.bottom() - text_rect.bottom()
            )
            painter.drawText(
                id_rect, Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop, str(token.id)
            )

        band = self._band_height()
        if band:
            painter.setPen(Qt.PenStyle.NoPen)
            color = QColor(self._colors.segment(token.type_id))
            if token.truncated:
                color.setAlpha(90)
            painter.setBrush(color)
            painter.drawRect(rect.left(), rect.bottom() + 2, rect.width(), band - 1)

    @staticmethod
    def _paint_continuation(painter: QPainter, piece: str, rect: QRect, color: QColor) -> None:
        """'##' drawn faded before the rest of the piece, the whole centred in `rect`."""
        metrics = painter.fontMetrics()
        rest = piece[2:]
        left = rect.left() + (rect.width() - metrics.horizontalAdvance(piece)) // 2
        faded = QColor(color)
        faded.setAlpha(110)
        flags = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
        painter.setPen(faded)
        painter.drawText(QRect(left, rect.top(), rect.width(), rect.height()), flags, "##")
        painter.setPen(color)
        left += metrics.horizontalAdvance("##")
        painter.drawText(QRect(left, rect.top(), rect.width(), rect.height()), flags, rest)
