"""Cosine similarity between token vectors of one text and between sentence vectors."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bertdesk.core.bundle import Bundle
from bertdesk.core.embed import embed_texts, resolve_layer, token_vectors
from bertdesk.core.errors import BertdeskError
from bertdesk.core.jobs import JobHandle


@dataclass(frozen=True)
class SimilarityMatrix:
    """Row/column labels and their cosine similarities."""

    labels: list[str]
    matrix: np.ndarray
    layer: int

    def to_dict(self) -> dict:
        """JSON-ready: labels, layer and the matrix as nested lists."""
        return {"labels": self.labels, "layer": self.layer, "matrix": np.round(self.matrix, 6).tolist()}


def cosine_matrix(vectors: np.ndarray) -> np.ndarray:
    """Pairwise cosine similarity of the rows of `vectors` (a zero row is similar to nothing)."""
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    unit = vectors / np.where(norms == 0, 1, norms)
    return np.clip(unit @ unit.T, -1.0, 1.0)


def token_similarity(
    bundle: Bundle, text: str, *, layer: int | None = None, handle: JobHandle | None = None
) -> SimilarityMatrix:
    """Token x token cosine similarity of one text's pieces after `layer`."""
    pieces, vectors = token_vectors(bundle, text, layer=layer, handle=handle)
    return SimilarityMatrix(pieces, cosine_matrix(vectors), resolve_layer(bundle, layer))


def sentence_similarity(
    bundle: Bundle,
    sentences: list[str],
    *,
    layer: int | None = None,
    pooling: str | None = None,
    handle: JobHandle | None = None,
) -> SimilarityMatrix:
    """Sentence x sentence cosine similarity of pooled vectors after `layer`."""
    if len(sentences) < 2:
        raise BertdeskError("give at least two sentences to compare")
    vectors = embed_texts(bundle, sentences, layer=layer, pooling=pooling, handle=handle)
    return SimilarityMatrix(list(sentences), cosine_matrix(vectors), resolve_layer(bundle, layer))
