"""The colours of token pieces, for a light or a dark palette, so text stays readable on every chip."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from PySide6.QtGui import QColor, QPalette

from bertdesk.core.tokens import Token

#: Hues (degrees) the words cycle through, so neighbouring words differ; violet and teal are left to [CLS]
#: and [SEP], red to [UNK].
WORD_HUES = (210, 135, 40, 330)


class PieceKind(Enum):
    """How a piece is drawn; also the rows of the legend."""

    WORD = "word"
    CONTINUATION = "continuation"
    CLS = "[CLS]"
    SEP = "[SEP]"
    PAD = "[PAD]"
    MASK = "[MASK]"
    SPECIAL = "special"
    UNKNOWN = "[UNK]"


_SPECIAL_KINDS = {kind.value: kind for kind in (PieceKind.CLS, PieceKind.SEP, PieceKind.PAD, PieceKind.MASK)}


def piece_kind(token: Token) -> PieceKind:
    """The drawing kind of `token`."""
    if token.unknown:
        return PieceKind.UNKNOWN
    if token.special:
        return _SPECIAL_KINDS.get(token.piece, PieceKind.SPECIAL)
    return PieceKind.CONTINUATION if token.continuation else PieceKind.WORD


@dataclass(frozen=True)
class Chip:
    """Background and text colour of one piece."""

    background: QColor
    text: QColor


@dataclass(frozen=True)
class TokenColors:
    """Every colour the token view and its legend use."""

    dark: bool
    words: tuple[Chip, ...]  # first piece of a word, one per hue
    continuations: tuple[Chip, ...]  # the "##" pieces of the same word: same hue, a shade apart
    specials: dict[PieceKind, Chip]  # CLS, SEP, PAD, MASK, SPECIAL, UNKNOWN
    truncated: Chip
    segments: tuple[QColor, QColor]  # the type-id band: segment A (0), segment B (1)
    outline: QColor  # around hovered / selected pieces
    cut: QColor  # the marker where truncation starts

    def chip(self, token: Token) -> Chip:
        """The colours of `token`'s chip (truncation not taken into account)."""
        kind = piece_kind(token)
        if kind is PieceKind.WORD or kind is PieceKind.CONTINUATION:
            hue = (token.word or 0) % len(self.words)
            return self.words[hue] if kind is PieceKind.WORD else self.continuations[hue]
        return self.specials[kind]

    def segment(self, type_id: int) -> QColor:
        """The band colour of a type id (ids beyond 1 reuse B's colour)."""
        return self.segments[min(type_id, 1)]


def is_dark(palette: QPalette) -> bool:
    """True when the palette's text area is dark (a dark theme)."""
    return palette.color(QPalette.ColorRole.Base).lightness() < 128


def token_colors(palette: QPalette) -> TokenColors:
    """The colours for `palette`: pastel chips with near-black text when light, deep chips with near-white
    text when dark. Special tokens use saturated chips with white text, readable on both."""
    dark = is_dark(palette)
    if dark:
        words = tuple(Chip(QColor.fromHsl(h, 120, 62), QColor("#f2f2f2")) for h in WORD_HUES)
        continuations = tuple(Chip(QColor.fromHsl(h, 120, 82), QColor("#f2f2f2")) for h in WORD_HUES)
        truncated = Chip(QColor("#3b3b3b"), QColor("#9a9a9a"))
    else:
        words = tuple(Chip(QColor.fromHsl(h, 190, 222), QColor("#1a1a1a")) for h in WORD_HUES)
        continuations = tuple(Chip(QColor.fromHsl(h, 190, 200), QColor("#1a1a1a")) for h in WORD_HUES)
        truncated = Chip(QColor("#e4e4e4"), QColor("#7a7a7a"))
    white = QColor("#ffffff")
    specials = {
        PieceKind.CLS: Chip(QColor("#6d28d9"), white),
        PieceKind.SEP: Chip(QColor("#0f766e"), white),
        PieceKind.PAD: Chip(QColor("#52525b"), white),
        PieceKind.MASK: Chip(QColor("#a16207"), white),
        PieceKind.SPECIAL: Chip(QColor("#374151"), white),
        PieceKind.UNKNOWN: Chip(QColor("#c81e1e"), white),
    }
    return TokenColors(
        dark=dark,
        words=words,
        continuations=continuations,
        specials=specials,
        truncated=truncated,
        segments=(QColor("#3b82f6"), QColor("#f97316")),
        outline=palette.color(QPalette.ColorRole.Text),
        cut=QColor("#ef4444"),
    )
