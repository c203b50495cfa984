"""Without a question-answering model: the context's sentences ranked by cosine similarity to the question.

This is sentence retrieval, not span QA: the "answer" is a whole sentence the embedding model finds closest in
meaning to the question, never a span the model points at.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bertdesk.core.bundles.bundle import Bundle
from bertdesk.core.engine.embed import embed_texts
from bertdesk.core.errors import BertdeskError
from bertdesk.core.jobs import JobHandle, ensure_handle
from bertdesk.core.qa.options import check_setting
from bertdesk.core.similarity.sentences import Sentence, split_sentences

# The splitter lives in similarity (the Similarity tab splits with it too); its names stay importable from here.
__all__ = [
    "KIND_SENTENCE_RETRIEVAL", "RETRIEVAL_NOTE", "RetrievalResult", "Sentence", "SentenceHit", "retrieve_sentences",
    "split_sentences",
]

KIND_SENTENCE_RETRIEVAL = "sentence_retrieval"
RETRIEVAL_NOTE = (
    "sentence retrieval, not span QA: sentences ranked by cosine similarity to the question; "
    "convert or install a question-answering model for answer spans"
)


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
    check_setting("top_k", top_k)
    sentences = split_sentences(context)
    vectors = embed_texts(bundle, [question] + [s.text for s in sentences], handle=handle)
    vectors = vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
    scores = vectors[1:] @ vectors[0]
    order = np.argsort(-scores, kind="stable")[:top_k]
    hits = [
        SentenceHit(sentences[i].text, sentences[i].start, sentences[i].end, float(scores[i]), int(i)) for i in order
    ]
    return RetrievalResult(question, hits, len(sentences))
