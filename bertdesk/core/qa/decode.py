"""Logits of one window → candidate spans, and candidates of every window → ranked answers.

A line-for-line port of transformers 4.57.6 `pipelines/question_answering.py` (`select_starts_ends`, `decode_spans`,
`postprocess`), in the same numpy operations on the same float32 arrays, so ties and rounding fall the same way.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bertdesk.core.qa.answer_types import Answer
from bertdesk.core.qa.windows import Window

NO_NULL = 1000000.0  # the pipeline's starting "minimum null score": large and positive


@dataclass(frozen=True)
class WindowSpans:
    """What one window's logits say: the softmaxed start/end probabilities over the window and the best spans."""

    start_probs: np.ndarray  # (seq,), [CLS] included: its product is the null score
    end_probs: np.ndarray
    null_score: float
    starts: np.ndarray
    ends: np.ndarray
    scores: np.ndarray


def decode_spans(
    start: np.ndarray, end: np.ndarray, topk: int, max_answer_len: int, undesired_tokens: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The `topk` best (start, end) pairs by P(start) * P(end), end >= start, at most `max_answer_len` tokens.

    `undesired_tokens` (1, seq) is 1 where a token may be in an answer. As in the pipeline, the filter tests
    membership in `undesired_tokens.nonzero()` (row and column indices together), so position 0 always passes.
    """
    outer = np.matmul(np.expand_dims(start, -1), np.expand_dims(end, 1))
    # No span is longer than the window: a larger limit means the same and would overflow numpy's C long.
    candidates = np.tril(np.triu(outer), min(max_answer_len, start.shape[-1]) - 1)
    scores_flat = candidates.flatten()
    if topk == 1:
        idx_sort = [np.argmax(scores_flat)]
    elif len(scores_flat) < topk:
        idx_sort = np.argsort(-scores_flat)
    else:
        idx = np.argpartition(-scores_flat, topk)[0:topk]
        idx_sort = idx[np.argsort(-scores_flat[idx])]
    starts, ends = np.unravel_index(idx_sort, candidates.shape)[1:]
    allowed = undesired_tokens.nonzero()
    desired_spans = np.isin(starts, allowed) & np.isin(ends, allowed)
    starts = starts[desired_spans]
    ends = ends[desired_spans]
    return starts, ends, candidates[0, starts, ends]


def select_spans(
    start_logits: np.ndarray, end_logits: np.ndarray, p_mask: np.ndarray, topk: int, max_answer_len: int
) -> WindowSpans:
    """Mask what cannot be an answer, softmax over the whole window, take the null score, then `decode_spans`."""
    start = np.asarray(start_logits, np.float32)[None]
    end = np.asarray(end_logits, np.float32)[None]
    undesired_tokens = np.abs(np.asarray(p_mask, np.int64)[None] - 1)
    masked = undesired_tokens == 0.0
    start = np.where(masked, -10000.0, start)
    end = np.where(masked, -10000.0, end)
    start = np.exp(start - start.max(axis=-1, keepdims=True))
    start = start / start.sum()
    end = np.exp(end - end.max(axis=-1, keepdims=True))
    end = end / end.sum()
    null_score = (start[0, 0] * end[0, 0]).item()
    start_probs, end_probs = start[0].copy(), end[0].copy()
    start[0, 0] = end[0, 0] = 0.0
    starts, ends, scores = decode_spans(start, end, topk, max_answer_len, undesired_tokens)
    return WindowSpans(start_probs, end_probs, null_score, starts, ends, scores)


class AnswerMerger:
    """The pipeline's answer list, fed window by window: a span whose text (case-insensitively) is already there
    adds its score to that answer; the lowest null score over the windows is kept."""

    def __init__(self, context: str) -> None:
        self._context = context
        self._answers: list[dict] = []
        self._by_text: dict[str, dict] = {}
        self.min_null_score = NO_NULL
        self.min_null_window = 0

    def add(self, window: Window, spans: WindowSpans) -> None:
        """Merge one window's candidate spans, in their order."""
        if spans.null_score < self.min_null_score:
            self.min_null_score, self.min_null_window = spans.null_score, window.index
        for s, e, score in zip(spans.starts, spans.ends, spans.scores, strict=True):
            start, end = window.char_span(int(s), int(e))
            text = self._context[start:end]
            key = text.lower()
            found = self._by_text.get(key)
            if found is not None:
                found["score"] += score.item()
            else:
                answer = {"score": score.item(), "start": start, "end": end, "window": window.index}
                self._answers.append(answer)
                self._by_text[key] = answer

    def ranked(self, top_k: int, with_null: bool, null_threshold: float = 0.0) -> list[Answer]:
        """The best `top_k` answers. With `with_null`, the null answer ranks as if its score were
        `min_null_score - null_threshold` (0.0: exactly where the pipeline puts it, after equal scores)."""
        answers = [
            Answer(self._context[a["start"] : a["end"]], a["start"], a["end"], a["score"], a["window"])
            for a in self._answers
        ]
        keyed = [(a.score, a) for a in answers]
        if with_null:
            null = Answer("", 0, 0, self.min_null_score, self.min_null_window, is_null=True)
            keyed.append((self.min_null_score - null_threshold, null))
        return [a for _, a in sorted(keyed, key=lambda pair: pair[0], reverse=True)[:top_k]]
