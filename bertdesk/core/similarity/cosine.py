"""Cosine similarity between token vectors of one text and between sentence vectors."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bertdesk.core.bundles.bundle import Bundle
from bertdesk.core.engine.embed import embed_texts, resolve_layer, token_vectors
from bertdesk.core.errors import BertdeskError
from bertdesk.core.jobs import JobHandle
from bertdesk.core.similarity.attention import Forward, attention_map, attention_scores, run_forward


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
    bundle: Bundle, text: str, *, layer: int | None = None, causal: bool = False, handle: JobHandle | None = None
) -> SimilarityMatrix:
    """Token x token cosine similarity of one text's pieces after `layer`; `causal` runs the same weights with a
    causal mask (`similarity --tokens TEXT --causal`)."""
    if causal:
        index = resolve_layer(bundle, layer)
        forward = run_forward(bundle, text, causal=True, handle=handle)
        return SimilarityMatrix(forward.pieces, layer_cosine(forward, index)[1], index)
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


def layer_cosine(forward: Forward, layer: int, hide_special: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """(kept token indices, their cosine matrix) after hidden state `layer` of a forward pass; `hide_special`
    leaves out [CLS], [SEP] and the like (all of them kept when nothing else is left)."""
    kept = np.arange(len(forward.pieces))
    if hide_special and not forward.special.all():
        kept = np.flatnonzero(~forward.special)
    return kept, cosine_matrix(forward.vectors(layer)[kept])


def cosine_by_layer(forward: Forward, first: int, second: int) -> np.ndarray:
    """The cosine of tokens `first` and `second` after every hidden state 0..N: how context moves them."""
    unit = forward.hidden_states / np.maximum(np.linalg.norm(forward.hidden_states, axis=-1, keepdims=True), 1e-12)
    return np.clip((unit[:, first] * unit[:, second]).sum(axis=-1), -1.0, 1.0)


def cls_cosine_by_layer(forward: Forward) -> np.ndarray:
    """(layers + 1, seq): the cosine of token 0 ([CLS]) to every token after each hidden state."""
    unit = forward.hidden_states / np.maximum(np.linalg.norm(forward.hidden_states, axis=-1, keepdims=True), 1e-12)
    return np.clip(np.einsum("lh,lsh->ls", unit[:, 0], unit), -1.0, 1.0)


def nearest_rows(
    table: np.ndarray, query: np.ndarray, count: int, exclude: int | None = None
) -> list[tuple[int, float]]:
    """(row, cosine) of the `count` rows of `table` closest to `query` by cosine, best first."""
    norms = np.linalg.norm(table, axis=1) * max(float(np.linalg.norm(query)), 1e-12)
    scores = (table @ query) / np.maximum(norms, 1e-12)
    if exclude is not None:
        scores[exclude] = -np.inf
    count = min(count, int(np.isfinite(scores).sum()))
    best = np.argpartition(-scores, count - 1)[:count] if count else np.zeros(0, int)
    best = best[np.argsort(-scores[best], kind="stable")]
    return [(int(i), float(scores[i])) for i in best]


def vocabulary_neighbours(bundle: Bundle, token: str, count: int = 10) -> list[tuple[str, float]]:
    """The `count` vocabulary entries whose input embeddings are closest (cosine) to `token`'s."""
    from bertdesk.core.similarity.graph_weights import graph_weights

    token_id = bundle.tokenizer.token_to_id(token)
    if token_id is None:
        raise BertdeskError(f"{token!r} is not an entry of {bundle.info.name}'s vocabulary (try a WordPiece piece)")
    table = graph_weights(bundle).word_embeddings
    if table is None:
        raise BertdeskError(f"{bundle.info.name}'s graph has no word embedding table bertdesk can find")
    if not isinstance(count, int) or count < 1:
        raise BertdeskError(f"the number of neighbours must be a positive whole number, not {count!r}")
    return [(bundle.tokenizer.id_to_token(i) or f"#{i}", score)
            for i, score in nearest_rows(table, table[token_id], count, exclude=token_id)]


def contextual_neighbours(forward: Forward, layer: int, index: int, count: int = 10) -> list[tuple[int, float]]:
    """(token index, cosine) of the `count` tokens of the input nearest to token `index` after hidden state `layer`
    (the token itself left out), best first."""
    vectors = forward.vectors(layer)
    if not 0 <= index < len(vectors):
        raise BertdeskError(f"token {index} does not exist: the input has tokens 0 to {len(vectors) - 1}")
    return nearest_rows(vectors, vectors[index], count, exclude=index)


def cls_attention_by_layer(forward: Forward) -> np.ndarray:
    """(layers, seq): how much [CLS] (row 0) attends to each token in each layer, averaged over the heads."""
    if not forward.has_internals:
        raise BertdeskError(f"this model's attention cannot be shown: {forward.missing}")
    return forward.attentions[:, :, 0, :].mean(axis=1)


def order_by_similarity(matrix: np.ndarray) -> np.ndarray:
    """An order of the rows that puts similar rows together: by the leading eigenvector of the (symmetric) matrix."""
    if len(matrix) < 3:
        return np.arange(len(matrix))
    _, vectors = np.linalg.eigh((matrix + matrix.T) / 2)
    leading = vectors[:, -1] * np.sign(vectors[:, -1].sum() or 1.0)
    return np.argsort(-leading, kind="stable")


def most_similar_pairs(labels: list[str], matrix: np.ndarray, count: int = 5) -> list[tuple[str, str, float]]:
    """The `count` most similar pairs (i < j), best first."""
    rows, cols = np.triu_indices(len(labels), 1)
    order = np.argsort(-matrix[rows, cols], kind="stable")[:count]
    return [(labels[rows[k]], labels[cols[k]], float(matrix[rows[k], cols[k]])) for k in order]


def attention_report(
    bundle: Bundle,
    text: str,
    *,
    layer: int,
    head: int | None = None,
    causal: bool = False,
    pair: str | None = None,
    handle: JobHandle | None = None,
) -> dict:
    """JSON for `similarity --attention --layer L [--head H] [--causal]`: the layer's (head's, or mean over heads)
    attention probabilities, and for one head the scores before the softmax with the mask added (−∞ as null)."""
    forward = run_forward(bundle, text, pair, causal=causal, handle=handle)
    _, _, probabilities = attention_map(forward, layer, head)
    report = {
        "model": bundle.info.name,
        "labels": forward.pieces,
        "layer": layer,
        "head": head,
        "mask": "causal" if causal else "bidirectional",
        "attention": np.round(probabilities, 6).tolist(),
    }
    if head is not None:
        scores = attention_scores(bundle, forward, layer, head)
        report["scores"] = [[round(float(v), 6) if np.isfinite(v) else None for v in row] for row in scores]
    return report


def neighbours_report(bundle: Bundle, token: str, count: int = 10) -> dict:
    """JSON for `similarity --neighbours TOKEN`: the nearest vocabulary entries by input-embedding cosine."""
    return {
        "model": bundle.info.name,
        "token": token,
        "neighbours": [{"token": t, "cosine": round(c, 6)} for t, c in vocabulary_neighbours(bundle, token, count)],
    }
