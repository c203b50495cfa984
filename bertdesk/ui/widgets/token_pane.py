"""A token view with its title, counts line, maximum-length line and the "showing first N of M" note."""

from __future__ import annotations

from html import escape

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QSizePolicy, QVBoxLayout, QWidget

from bertdesk.core.tokens import Tokenization
from bertdesk.ui.widgets.token_colors import is_dark
from bertdesk.ui.widgets.token_view import MAX_PIECES, TokenView

COUNTS_TOOLTIP = (
    "Characters and words of the input (words as the tokenizer's pre-tokenizer splits them), tokens "
    "including "
    "[CLS] and [SEP], input tokens per word, and how many pieces are [UNK]."
)
LIMIT_TOOLTIP = (
    "The model has one learned position embedding per position, so it reads at most this many tokens; "
    "the rest are cut off (truncated) and never reach it."
)


def counts_text(tokenization: Tokenization) -> str:
    """'312 characters · 54 words · 71 tokens · 1.24 tokens per word · 0 [UNK]'."""
    return (
        f"{tokenization.num_chars:,} characters · {tokenization.num_words:,} words · "
        f"{tokenization.num_tokens:,} tokens · {tokenization.tokens_per_word:.2f} tokens per word · "
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
        self.counts = QLabel(self)
        self.counts.setToolTip(COUNTS_TOOLTIP)
        self.counts.setWordWrap(True)
        self.counts.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.limit = QLabel(self)
        self.limit.setToolTip(LIMIT_TOOLTIP)
        self.limit.setWordWrap(True)
        self.limit.setTextFormat(Qt.TextFormat.RichText)
        self.view = TokenView(self)
        self.note = QLabel(self)
        self.note.setWordWrap(True)
        self.note.setToolTip(
            "Only the first chips are drawn to keep the window fast; the table lists every token."
        )
        self.note.hide()
        for label in (self.title, self.counts, self.limit, self.note):
            label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.title)
        layout.addWidget(self.counts)
        layout.addWidget(self.limit)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.note)

    def set_title(self, title: str) -> None:
        """The name above the view (the model's)."""
        self.title.setText(title)

    def set_tokenization(self, tokenization: Tokenization | None) -> None:
        """Show `tokenization` with its counts (None clears the view and the lines)."""
        self.view.set_tokenization(tokenization)
        if tokenization is None:
            self.counts.setText("")
            self.limit.setText("")
            self.note.hide()
            return
        self.counts.setText(counts_text(tokenization))
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
