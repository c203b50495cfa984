"""Without a question-answering model: the context's sentences ranked by cosine similarity to the question.

This is sentence retrieval, not span QA: the "answer" is a whole sentence the embedding model finds closest in
meaning to the question, never a span the model points at.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from bertdesk.core.bundles.bundle import Bundle
from bertdesk.core.engine.embed import embed_texts
from bertdesk.core.errors import BertdeskError
from bertdesk.core.jobs import JobHandle, ensure_handle

KIND_SENTENCE_RETRIEVAL = "sentence_retrieval"
RETRIEVAL_NOTE = (
    "sentence retrieval, not span QA: sentences ranked by cosine similarity to the question; "
    "convert or install a question-answering model for answer spans"
)

# A sentence: from a non-space character to the end of its line, or to . ! ? … (and closing quotes or brackets)
# followed by a space and something other than a lower-case letter ("e.g. this" stays one sentence).
_SENTENCE = re.compile(r"\S(?:[^\n]*?(?:[.!?…]+[\"'”’)\]]*(?=\s+[^\sa-z]|\s*\Z)|(?=\s*\n)|\Z)|[^\n]*)")


@dataclass(frozen=True)
class Sentence:
    """A sentence of the context: `context[start:end] == text`."""

    text: str
    start: int
    end: int


def split_sentences(text: str) -> list[Sentence]:
    """The sentences of `text` in order, with character offsets; every non-space character is in one of them."""
    sentences = []
    for match in _SENTENCE.finditer(text):
        chunk = match.group().rstrip()
        if chunk:
            sentences.append(Sentence(chunk, match.start(), match.start() + len(chunk)))
    return sentences


@dataclass(frozen=True)
class SentenceHit:
    """A ranked sentence: its text and offsets in the context, cosine to the question, and its place in the text."""

    text: str
    start: int
    end: int
    score: float
    index: int

    def to_dict(self) -> dict:
        """JSON-ready fields."""
        return {"text": self.text, "start": self.start, "end": self.end, "score": self.score, "index": self.index}


@dataclass(frozen=True)
class RetrievalResult:
    """The best sentences for a question, best first."""

    question: str
    sentences: list[SentenceHit]
    num_sentences: int
    kind: str = KIND_SENTENCE_RETRIEVAL
    note: str = RETRIEVAL_NOTE

    def to_dict(self) -> dict:
        """JSON-ready fields."""
        return {
            "kind": self.kind, "note": self.note, "question": self.question, "num_sentences": self.num_sentences,
            "sentences": [s.to_dict() for s in self.sentences],
        }


def retrieve_sentences(
    bundle: Bundle, question: str, context: str, top_k: int = 3, *, handle: JobHandle | None = None
) -> RetrievalResult:
    """Rank the sentences of `context` by cosine similarity to `question`, each embedded with the bundle's native
    pooling; the `top_k` best, best first (ties in text order)."""
    handle = ensure_handle(handle)
    for value, what in ((question, "question"), (context, "context")):
        if not isinstance(value, str):
            raise BertdeskError(f"the {what} must be text")
        if not value.strip():
            raise BertdeskError(f"the {what} is empty")
    if isinstance(top_k, bool) or not isinstance(top_k, int) or top_k < 1:
        raise BertdeskError(f"top_k must be a whole number of at least 1, got {top_k!r}")
    sentences = split_sentences(context)
    vectors = embed_texts(bundle, [question] + [s.text for s in sentences], handle=handle)
    vectors = vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
    scores = vectors[1:] @ vectors[0]
    order = np.argsort(-scores, kind="stable")[:top_k]
    hits = [
        SentenceHit(sentences[i].text, sentences[i].start, sentences[i].end, float(scores[i]), int(i)) for i in order
    ]
    return RetrievalResult(question, hits, len(sentences))
