"""One QA window drawn as the model reads it: a chip per token coloured by segment (question A, context B, special
tokens, padding), wrapped like text, with each token's attention mask under it."""

from __future__ import annotations

from html import escape

from PySide6.QtCore import QPoint, QRect, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFont, QFontMetrics, QMouseEvent, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QLabel, QScrollArea, QSizePolicy, QToolTip, QWidget

from bertdesk.core.tokens import Token, Tokenization

MARGIN = 4
PAD_X = 4
GAP = 3
ROW_GAP = 4
RADIUS = 3

#: (background, text) per kind of token: light pastels with dark text read on light and dark themes alike.
COLORS = {
    "A": (QColor("#cfe3f7"), QColor("#0b3a66")),
    "B": (QColor("#fde2c4"), QColor("#6b3300")),
    "special": (QColor("#5b5f66"), QColor("#ffffff")),
    "pad": (QColor("#e5e7eb"), QColor("#6b7280")),
}


def token_kind(token: Token) -> str:
    """"A" (question), "B" (context), "special" ([CLS], [SEP]) or "pad" (attention mask 0)."""
    if token.attention_mask == 0:
        return "pad"
    if token.segment is None:
        return "special"
    return "A" if token.segment == 0 else "B"


def describe_token(tokenization: Tokenization, token: Token) -> str:
    """One line about a token of a window: piece, id, segment and type id, position, attention mask, characters."""
    kind = token_kind(token)
    where = {
        "A": "question (segment A)", "B": "context (segment B)", "special": "special token", "pad": "padding",
    }[kind]
    parts = [f"“{token.piece}” id {token.id}", where, f"type id {token.type_id}", f"position {token.position}",
             f"attention mask {token.attention_mask}"]
    if token.segment is not None:
        source = tokenization.text if token.segment == 0 else (tokenization.pair or "")
        parts.append(f"characters {token.start}–{token.end} “{source[token.start:token.end][:40]}”")
    return " · ".join(parts)


def legend_html() -> str:
    """The strip's legend as rich text."""
    def chip(kind: str, text: str) -> str:
        background, color = COLORS[kind]
        style = f"background-color:{background.name()}; color:{color.name()};"
        return f"<span style=\"{style}\">&nbsp;{escape(text)}&nbsp;</span>"

    return "&nbsp;&nbsp;".join([
        chip("special", "[CLS] [SEP]") + " special",
        chip("A", "question") + " segment A",
        chip("B", "context slice") + " segment B",
        chip("pad", "[PAD]") + " padding",
        "— the digit under each token is its attention mask (1: attended, 0: ignored)",
    ])


class _Strip(QWidget):
    """The chips, laid out to the width; its height follows the content."""

    hovered = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.tokenization: Tokenization | None = None
        self.rects: list[QRect] = []
        self.placeholder = ""
        self._hovered = -1
        self._height = 40
        self.setMouseTracking(True)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)

    def _mask_font(self) -> QFont:
        font = QFont(self.font())
        font.setPointSizeF(max(6.0, font.pointSizeF() * 0.75))
        return font

    def relayout(self) -> None:
        """Place the chips in rows of the current width."""
        self.rects = []
        tokenization = self.tokenization
        if tokenization is not None:
            bold = QFont(self.font())
            bold.setBold(True)
            metrics, bold_metrics = QFontMetrics(self.font()), QFontMetrics(bold)
            chip_height = metrics.height() + QFontMetrics(self._mask_font()).height() + 2
            width = max(self.width() - 2 * MARGIN, 60)
            x = y = 0
            for token in tokenization.tokens:
                used = bold_metrics if token.segment is None else metrics
                chip_width = used.horizontalAdvance(token.piece) + 2 * PAD_X
                if x and x + chip_width > width:
                    x, y = 0, y + chip_height + ROW_GAP
                self.rects.append(QRect(MARGIN + x, MARGIN + y, chip_width, chip_height))
                x += chip_width + GAP
            self._height = MARGIN * 2 + y + chip_height
        else:
            self._height = 40
        self.setFixedHeight(self._height)
        self.update()

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt override)
        """As high as the rows."""
        return QSize(400, self._height)

    def resizeEvent(self, event: object) -> None:  # noqa: N802 (Qt override)
        """Re-wrap on a new width."""
        if self.tokenization is not None and self.rects and event.oldSize().width() != event.size().width():
            self.relayout()

    def index_at(self, pos: QPoint) -> int:
        """The token under `pos`, or -1."""
        for i, rect in enumerate(self.rects):
            if rect.contains(pos):
                return i
        return -1

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802 (Qt override)
        """Say which token is under the mouse."""
        index = self.index_at(event.position().toPoint())
        if index != self._hovered:
            self._hovered = index
            self.update()
            self.hovered.emit(index)
            if index >= 0 and self.tokenization is not None:
                text = describe_token(self.tokenization, self.tokenization.tokens[index])
                QToolTip.showText(event.globalPosition().toPoint(), text, self, self.rects[index])

    def leaveEvent(self, event: object) -> None:  # noqa: N802 (Qt override)
        """No token is hovered."""
        if self._hovered != -1:
            self._hovered = -1
            self.update()
            self.hovered.emit(-1)

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 (Qt override)
        """Draw the visible chips."""
        painter = QPainter(self)
        tokenization = self.tokenization
        if tokenization is None:
            painter.setPen(self.palette().color(self.palette().ColorRole.PlaceholderText))
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap, self.placeholder)
            return
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        bold = QFont(self.font())
        bold.setBold(True)
        mask_font = self._mask_font()
        text_height = QFontMetrics(self.font()).height()
        visible = event.rect()
        for i, (token, rect) in enumerate(zip(tokenization.tokens, self.rects, strict=False)):
            if not rect.intersects(visible):
                continue
            background, color = COLORS[token_kind(token)]
            painter.setPen(QPen(self.palette().color(self.palette().ColorRole.Text), 2) if i == self._hovered
                           else Qt.PenStyle.NoPen)
            painter.setBrush(background)
            painter.drawRoundedRect(rect, RADIUS, RADIUS)
            painter.setPen(color)
            painter.setFont(bold if token.segment is None else self.font())
            painter.drawText(QRect(rect.left(), rect.top() + 1, rect.width(), text_height),
                             Qt.AlignmentFlag.AlignCenter, token.piece)
            painter.setFont(mask_font)
            painter.drawText(QRect(rect.left(), rect.top() + text_height, rect.width(), rect.height() - text_height),
                             Qt.AlignmentFlag.AlignCenter, str(token.attention_mask))


class WindowStrip(QScrollArea):
    """A scrollable strip of one window's tokens; `hovered(index)` follows the mouse (-1: none)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.strip = _Strip(self)
        self.setWidget(self.strip)
        self.setWidgetResizable(True)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setMinimumHeight(60)
        self.hovered = self.strip.hovered

    def set_tokenization(self, tokenization: Tokenization | None) -> None:
        """Show a window's tokens (None: the placeholder)."""
        self.strip.tokenization = tokenization
        self.strip.relayout()

    def tokenization(self) -> Tokenization | None:
        """The window shown, if any."""
        return self.strip.tokenization

    def set_placeholder(self, text: str) -> None:
        """What shows when no window is."""
        self.strip.placeholder = text
        self.strip.update()


class StripLegend(QLabel):
    """The legend under the strip."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(legend_html(), parent)
        self.setWordWrap(True)
        self.setTextFormat(Qt.TextFormat.RichText)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred)
