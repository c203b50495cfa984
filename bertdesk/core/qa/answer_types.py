"""What extractive QA returns: answers, each window's view of the context, and the whole result, JSON-ready."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

KIND_SPAN_QA = "span_qa"


@dataclass(frozen=True)
class Answer:
    """An answer span: `context[start:end] == text`; `score` sums the probabilities of every span with this text.

    The null answer (no answer in the context) has empty text, start = end = 0 and `is_null` set.
    """

    text: str
    start: int
    end: int
    score: float
    window: int  # the window where this text was first found (for the null answer: the window of the lowest null)
    is_null: bool = False

    def to_dict(self) -> dict:
        """JSON-ready fields."""
        return {
            "text": self.text, "start": self.start, "end": self.end, "score": self.score, "window": self.window,
            "is_null": self.is_null,
        }


@dataclass(frozen=True)
class WindowDetail:
    """One window as the model saw it, and what it said: for the "why this answer" view.

    The window's input is `[CLS] question [SEP] context tokens token_start..token_end-1 [SEP]`; the context tokens
    begin at position `context_position` of the window. `start_probs`/`end_probs` (float32) are the softmax over the
    whole window (question and special tokens masked out, [CLS] kept) restricted to its context tokens. Everything
    per token is a numpy array: a 60,000-word context has thousands of windows.
    """

    index: int
    token_start: int
    token_end: int
    char_start: int
    char_end: int
    context_position: int
    input_ids: np.ndarray  # int32
    token_type_ids: np.ndarray  # int8
    null_score: float  # P(start = [CLS]) * P(end = [CLS]) in this window
    start_probs: np.ndarray
    end_probs: np.ndarray

    def to_dict(self) -> dict:
        """JSON-ready fields; the attention mask is all ones (a window is never padded)."""
        return {
            "index": self.index, "token_start": self.token_start, "token_end": self.token_end,
            "char_start": self.char_start, "char_end": self.char_end, "context_position": self.context_position,
            "input_ids": self.input_ids.tolist(), "token_type_ids": self.token_type_ids.tolist(),
            "attention_mask": [1] * len(self.input_ids), "null_score": self.null_score,
            "start_probs": self.start_probs.tolist(), "end_probs": self.end_probs.tolist(),
        }


@dataclass(frozen=True)
class QAResult:
    """Answers to one question over one context, best first, with every window's details.

    A partial result (`complete` False) covers the first `windows_done` of `windows_total` windows: exactly what the
    final ranking would be if the context ended there.
    """

    question: str
    answers: list[Answer]
    windows: list[WindowDetail]
    windows_done: int
    windows_total: int
    context_offsets: np.ndarray = field(repr=False)  # (tokens, 2): the character span of every context token
    complete: bool = True
    kind: str = KIND_SPAN_QA

    @property
    def best(self) -> Answer | None:
        """The top answer, if any."""
        return self.answers[0] if self.answers else None

    def to_dict(self, details: bool = False) -> dict:
        """JSON-ready answers; with `details`, also every window's probabilities and the context tokens' offsets."""
        data = {
            "kind": self.kind,
            "question": self.question,
            "answers": [a.to_dict() for a in self.answers],
            "windows_done": self.windows_done,
            "windows_total": self.windows_total,
            "complete": self.complete,
        }
        if details:
            data["windows"] = [w.to_dict() for w in self.windows]
            data["context_offsets"] = np.asarray(self.context_offsets).reshape(-1, 2).tolist()
        return data
