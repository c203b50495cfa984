"""Learned position and segment (token type) embeddings, read from the graph, compared by cosine.

These vectors belong to positions and segments, not to tokens: the first token of every input gets position
vector 0, whatever the token is; every token of segment A gets segment vector 0.
"""

from __future__ import annotations

import numpy as np

from bertdesk.core.bundles.bundle import Bundle
from bertdesk.core.errors import BertdeskError
from bertdesk.core.similarity.cosine import SimilarityMatrix, cosine_matrix
from bertdesk.core.similarity.graph_weights import graph_weights


def position_similarity(bundle: Bundle, count: int) -> SimilarityMatrix:
    """Cosine of the first `count` position vectors of the learned position table (labels "0", "1", ...)."""
    table = graph_weights(bundle).position_embeddings
    if table is None:
        raise BertdeskError(f"{bundle.info.name}'s graph has no position embedding table bertdesk can find")
    if not isinstance(count, int) or not 2 <= count <= len(table):
        raise BertdeskError(f"the number of positions must be 2 to {len(table)}, not {count!r}")
    return SimilarityMatrix([str(i) for i in range(count)], cosine_matrix(table[:count]), 0)


def segment_similarity(bundle: Bundle) -> SimilarityMatrix:
    """Cosine of the segment (token type) vectors: "A (type 0)", "B (type 1)", ...; empty if the model has none
    (DistilBERT)."""
    table = graph_weights(bundle).token_type_embeddings
    if table is None:
        return SimilarityMatrix([], np.zeros((0, 0), np.float32), 0)
    names = [f"{chr(ord('A') + i)} (type {i})" if i < 26 else f"type {i}" for i in range(len(table))]
    return SimilarityMatrix(names, cosine_matrix(table), 0)


def positions_report(bundle: Bundle, count: int) -> dict:
    """JSON for `similarity --positions N`: the position and the segment cosine matrices with their labels."""
    positions = position_similarity(bundle, count)
    segments = segment_similarity(bundle)
    return {
        "model": bundle.info.name,
        "positions": {"labels": positions.labels, "matrix": positions.to_dict()["matrix"]},
        "segments": {"labels": segments.labels, "matrix": segments.to_dict()["matrix"]},
    }
