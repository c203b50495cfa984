"""A token view with its title, counts line, maximum-length line and the "showing first N of M" note."""

from __future__ import annotations

from html import escape

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSizePolicy, QVBoxLayout, QWidget

from bertdesk.core.tokens import Tokenization, word_count
from bertdesk.ui.tabs.tokens.colors import is_dark
from bertdesk.ui.tabs.tokens.view import MAX_PIECES, TokenView

COUNTS_TOOLTIP = (
    "Characters and words of the input (words as the tokenizer's pre-tokenizer splits them, punctuation not "
    "counted), tokens including [CLS] and [SEP], input tokens per word, and how many pieces are [UNK]."
)
LIMIT_TOOLTIP = (
    "The model has one learned position embedding per position, so it reads at most this many tokens; "
    "the rest are cut off (truncated) and never reach it."
)


def counts_text(tokenization: Tokenization, words: int | None = None) -> str:
    """'312 characters · 54 words · 71 tokens · 1.24 tokens per word · 0 [UNK]'; `words` is `word_count()`,
    computed here if not given."""
    words = word_count(tokenization) if words is None else words
    input_tokens = sum(token.segment is not None for token in tokenization.tokens)
    per_word = input_tokens / words if words else 0.0
    return (
        f"{tokenization.num_chars:,} characters · {words:,} words · "
        f"{tokenization.num_tokens:,} tokens · {per_word:.2f} tokens per word · "
        f"{tokenization.num_unknown:,} [UNK]"
    )


def limit_text(tokenization: Tokenization) -> tuple[str, str]:
    """'max 512 positions', and how many tokens are truncated ('' when none)."""
    cut = sum(token.truncated for token in tokenization.tokens)
    warning = f"{cut:,} tokens truncated (struck out) — the model never sees these" if cut else ""
    return f"max {tokenization.max_length:,} positions", warning


class TokenPane(QWidget):
    """Title, counts and limit lines above a `TokenView`, and a note when not every token is drawn."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.title = QLabel(self)
        font = self.title.font()
        font.setBold(True)
        self.title.setFont(font)
        self.stale = QLabel(self)
        self.stale.setToolTip("The pieces shown were made from an earlier input or model.")
        self._stale_reason = ""
        self.counts = QLabel(self)
        self.counts.setToolTip(COUNTS_TOOLTIP)
        self.counts.setWordWrap(True)
        self.counts.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.limit = QLabel(self)
        self.limit.setToolTip(LIMIT_TOOLTIP)
        self.limit.setWordWrap(True)
        self.limit.setTextFormat(Qt.TextFormat.RichText)
        self.normalization = QLabel(self)
        self.normalization.setWordWrap(True)
        self.normalization.setToolTip(
            "The tokenizer normalises the text before splitting it; the pieces show the normalised text."
        )
        self.normalization.hide()
        self.view = TokenView(self)
        self.note = QLabel(self)
        self.note.setWordWrap(True)
        self.note.setToolTip(
            "Only the first chips are drawn to keep the window fast; the table lists every token."
        )
        self.note.hide()
        for label in (self.stale, self.counts, self.limit, self.normalization, self.note):
            label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        title_row = QHBoxLayout()
        title_row.addWidget(self.title)
        title_row.addWidget(self.stale, 1)
        layout.addLayout(title_row)
        layout.addWidget(self.counts)
        layout.addWidget(self.limit)
        layout.addWidget(self.normalization)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.note)

    def set_title(self, title: str) -> None:
        """The name above the view (the model's)."""
        self.title.setText(title)

    def set_stale(self, reason: str) -> None:
        """Mark the tokens shown as out of date ("" to unmark): they are greyed and the title says `reason`."""
        self._stale_reason = reason
        self.view.set_faded(bool(reason))
        if reason:
            color = "#fbbf24" if is_dark(self.palette()) else "#b45309"
            self.stale.setText(f'<span style="color:{color};">— out of date: {escape(reason)}</span>')
        else:
            self.stale.setText("")

    def stale_reason(self) -> str:
        """Why the tokens shown are out of date, or "" when they are current."""
        return self._stale_reason

    def set_tokenization(
        self, tokenization: Tokenization | None, *, words: int | None = None, normalization: str = ""
    ) -> None:
        """Show `tokenization` with its counts (None clears the view and the lines); `words` is its
        `word_count()` if known, `normalization` a note on how the tokenizer changed the text ("" for none)."""
        self.view.set_tokenization(tokenization)
        self.normalization.setText(normalization)
        self.normalization.setVisible(bool(normalization) and tokenization is not None)
        if tokenization is None:
            self.counts.setText("")
            self.limit.setText("")
            self.note.hide()
            return
        self.counts.setText(counts_text(tokenization, words))
        limit, warning = limit_text(tokenization)
        if warning:
            color = "#f87171" if is_dark(self.palette()) else "#b91c1c"
            limit += f' · <span style="color:{color};">{escape(warning)}</span>'
        self.limit.setText(limit)
        shown = self.view.rendered_count()
        self.note.setVisible(shown < tokenization.num_tokens)
        self.note.setText(
            f"Showing the first {shown:,} of {tokenization.num_tokens:,} tokens (at most {MAX_PIECES:,} are "
            "drawn); the table below lists all of them."
        )

    def set_message(self, text: str) -> None:
        """Clear the view and show `text` in its place (no model yet, an error)."""
        self.set_tokenization(None)
        self.view.set_placeholder(text)
