"""The legend of the token view: what each chip colour and the type-id band mean, in the view's colours."""

from __future__ import annotations

from html import escape

from PySide6.QtCore import QEvent
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QLabel, QWidget

from bertdesk.ui.tabs.tokens.colors import Chip, PieceKind, TokenColors, token_colors

LEGEND_TOOLTIP = (
    "Pieces of one word touch and share a colour family; '##' marks a piece that continues a word.\n"
    "[CLS] starts every input, [SEP] ends each segment, [PAD] fills a batch to one length (mask 0),\n"
    "[UNK] stands for characters no vocabulary piece matches. Struck-out grey pieces lie beyond the model's\n"
    "maximum length: it never sees them. In pair mode the band under each piece is its type id."
)


def _chip(chip: Chip, text: str, strike: bool = False, bold: bool = False) -> str:
    style = f"background-color:{chip.background.name()}; color:{chip.text.name()};"
    if strike:
        style += " text-decoration:line-through;"
    if bold:
        style += " font-weight:bold;"
    return f'<span style="{style}">&nbsp;{escape(text)}&nbsp;</span>'


def _band(color: QColor, text: str) -> str:
    return f'<span style="color:{color.name()};">■■■</span>&nbsp;{escape(text)}'


def legend_html(colors: TokenColors, pair_mode: bool) -> str:
    """The legend as rich text: word pieces, special tokens, [UNK], truncated, and the bands in pair mode."""
    word = _chip(colors.words[0], "play") + _chip(colors.continuations[0], "##ing")
    entries = [
        f"{word}&nbsp;word pieces",
        _chip(colors.specials[PieceKind.CLS], "[CLS]", bold=True),
        _chip(colors.specials[PieceKind.SEP], "[SEP]", bold=True),
        _chip(colors.specials[PieceKind.PAD], "[PAD]", bold=True),
        _chip(colors.specials[PieceKind.UNKNOWN], "[UNK]", bold=True) + "&nbsp;unknown",
        _chip(colors.truncated, "cut", strike=True) + "&nbsp;truncated",
    ]
    if pair_mode:
        entries.append(_band(colors.segments[0], "type id 0 (A)"))
        entries.append(_band(colors.segments[1], "type id 1 (B)"))
    return "&nbsp;&nbsp;&nbsp;".join(entries)


class TokenLegend(QLabel):
    """A one-line legend that follows the palette (light/dark) and the pair mode."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._pair_mode = False
        self.setWordWrap(True)
        self.setToolTip(LEGEND_TOOLTIP)
        self._refresh()

    def set_pair_mode(self, pair_mode: bool) -> None:
        """Show the type-id band entries (pair mode) or not."""
        if pair_mode != self._pair_mode:
            self._pair_mode = pair_mode
            self._refresh()

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 (Qt override)
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange:
            self._refresh()

    def _refresh(self) -> None:
        self.setText(legend_html(token_colors(self.palette()), self._pair_mode))
