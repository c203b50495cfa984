"""Views of an extractive QA result for the "why this answer" panel: one window as the model sees it, the start/end
probability curves over a few windows, and where a character or an answer falls among the context tokens.

Qt-free: the Ask tab draws what these functions return.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from tokenizers import Tokenizer

from bertdesk.core.qa.answer import window_batches
from bertdesk.core.qa.answer_types import QAResult, WindowDetail
from bertdesk.core.qa.windows import pair_template
from bertdesk.core.tokens.tokenization import Token, Tokenization

#: At most this many windows are drawn in the curves at once (about 1,500 tokens at max_seq_len 384).
MAX_CURVE_WINDOWS = 4


def window_tokenization(
    tokenizer: Tokenizer, question: str, context: str, detail: WindowDetail,
    context_offsets: np.ndarray | Sequence[tuple[int, int]], pad_to: int | None = None,
) -> Tokenization:
    """Window `detail` as a `Tokenization` of the pair (question, context): `[CLS] question [SEP] slice [SEP]`, each
    token with its type id, position and attention mask; `pad_to` adds [PAD] tokens (attention mask 0) up to that
    length, as when the window shares a batch with longer ones.

    Question tokens are segment 0 with offsets into `question`; context tokens segment 1 with offsets into `context`.
    """
    template = pair_template(tokenizer)
    question_position = len(template.prefix)
    question_count = detail.context_position - question_position - len(template.middle)
    question_offsets = tokenizer.encode_batch([question], add_special_tokens=False)[0].offsets[:question_count]
    context_count = detail.token_end - detail.token_start
    unk_id = tokenizer.token_to_id("[UNK]")
    tokens = []
    ids, types = np.asarray(detail.input_ids).tolist(), np.asarray(detail.token_type_ids).tolist()
    for position, (token_id, type_id) in enumerate(zip(ids, types, strict=True)):
        piece = tokenizer.id_to_token(token_id) or f"<{token_id}>"
        if question_position <= position < question_position + question_count:
            segment = 0
            start, end = question_offsets[position - question_position]
        elif detail.context_position <= position < detail.context_position + context_count:
            segment = 1
            start, end = context_offsets[detail.token_start + position - detail.context_position]
        else:
            segment, start, end = None, 0, 0
        tokens.append(_token(position, piece, token_id, start, end, segment, type_id, 1, token_id == unk_id))
    pad_id = tokenizer.token_to_id("[PAD]")
    pad_id = 0 if pad_id is None else pad_id
    for position in range(len(tokens), pad_to or 0):
        tokens.append(_token(position, "[PAD]", pad_id, 0, 0, None, 0, 0, False))
    words = sum(1 for t in tokens if t.segment is not None and not t.continuation)
    pieces = sum(1 for t in tokens if t.segment is not None)
    return Tokenization(
        text=question,
        pair=context,
        tokens=tokens,
        max_length=len(tokens),
        truncated=False,
        num_chars=len(question) + detail.char_end - detail.char_start,
        num_words=words,
        num_tokens=len(tokens),
        num_unknown=sum(t.unknown for t in tokens),
        tokens_per_word=pieces / words if words else 0.0,
    )


def _token(
    position: int, piece: str, token_id: int, start: int, end: int, segment: int | None, type_id: int, mask: int,
    unknown: bool,
) -> Token:
    return Token(
        index=position, piece=piece, id=int(token_id), start=int(start), end=int(end), segment=segment,
        type_id=int(type_id), position=position, attention_mask=mask, special=segment is None and not unknown,
        unknown=unknown, continuation=segment is not None and piece.startswith("##"), word=None, truncated=False,
    )


def batch_widths(lengths: Sequence[int], batch_tokens: int, lanes: int = 1) -> list[int]:
    """The padded width of the batch each window runs in, when one question's windows of these `lengths` are
    batched under `batch_tokens` padded tokens in `lanes`, as the QA core batches them (`window_batches`)."""
    widths = [0] * len(lengths)
    for group in window_batches(list(lengths), batch_tokens, lanes):
        width = max(lengths[i] for i in group)
        for i in group:
            widths[i] = width
    return widths


def windows_around(total: int, index: int, limit: int = MAX_CURVE_WINDOWS) -> range:
    """At most `limit` consecutive window indices out of `total`, centred on `index` where possible."""
    if total <= limit:
        return range(total)
    first = min(max(index - (limit - 1) // 2, 0), total - limit)
    return range(first, first + limit)


@dataclass(frozen=True)
class CurveView:
    """Start/end probabilities over the context tokens of some windows, concatenated window after window.

    Windows overlap (by doc_stride tokens), so a token in two windows appears twice: once with each window's
    probabilities. `tokens[i]` is the context token index plotted at x = i; `boundaries` are the x where a window
    begins (all but the first shown); `span` is the (first, last) x of the chosen answer, if it is in view.
    """

    windows: range
    labels: list[str]
    tokens: np.ndarray
    start_probs: np.ndarray
    end_probs: np.ndarray
    boundaries: list[int]
    span: tuple[int, int] | None

    def x_of(self, window: int) -> int:
        """The x where window `window` (one of `windows`) begins."""
        return ([0, *self.boundaries])[window - self.windows.start]


def curve_view(
    tokenizer: Tokenizer, result: QAResult, windows: range, answer: tuple[int, int, int] | None = None
) -> CurveView:
    """The curves of `windows` (indices into `result.windows`); `answer` is (window, char start, char end) to shade."""
    labels: list[str] = []
    tokens, starts, ends, boundaries = [], [], [], []
    span = None
    x = 0
    for index in windows:
        detail = result.windows[index]
        if x:
            boundaries.append(x)
        count = detail.token_end - detail.token_start
        ids = detail.input_ids[detail.context_position : detail.context_position + count].tolist()
        labels += [tokenizer.id_to_token(i) or f"<{i}>" for i in ids]
        tokens.append(np.arange(detail.token_start, detail.token_end))
        starts.append(detail.start_probs)
        ends.append(detail.end_probs)
        if answer is not None and answer[0] == index:
            local = answer_tokens(detail, result.context_offsets, answer[1], answer[2])
            if local is not None:
                span = (x + local[0], x + local[1])
        x += count
    empty = np.zeros(0)
    return CurveView(
        windows=windows,
        labels=labels,
        tokens=np.concatenate(tokens) if tokens else empty.astype(np.int64),
        start_probs=np.concatenate(starts) if starts else empty,
        end_probs=np.concatenate(ends) if ends else empty,
        boundaries=boundaries,
        span=span,
    )


def answer_tokens(
    detail: WindowDetail, context_offsets: np.ndarray | Sequence[tuple[int, int]], start: int, end: int
) -> tuple[int, int] | None:
    """The (first, last) tokens of window `detail`, counted from its first context token, that overlap characters
    [start, end) of the context; None if none do."""
    offsets = np.asarray(context_offsets).reshape(-1, 2)[detail.token_start : detail.token_end]
    hits = np.flatnonzero((offsets[:, 0] < end) & (offsets[:, 1] > start))
    return (int(hits[0]), int(hits[-1])) if len(hits) else None


class CharToToken:
    """Which context token holds a character of the context (tokens' offsets are sorted by start)."""

    def __init__(self, context_offsets: np.ndarray | Sequence[tuple[int, int]]) -> None:
        self._offsets = np.asarray(context_offsets).reshape(-1, 2)

    def token_at(self, char: int) -> int | None:
        """The index of the token covering character `char`, or None (a space, or outside the context)."""
        i = int(np.searchsorted(self._offsets[:, 0], char, side="right")) - 1
        if i >= 0 and self._offsets[i, 0] <= char < self._offsets[i, 1]:
            return i
        return None


def windows_holding(result: QAResult, token: int) -> list[int]:
    """The windows of `result` whose context slice holds context token `token`, in order."""
    return [w.index for w in result.windows if w.token_start <= token < w.token_end]
