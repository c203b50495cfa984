"""The Similarity tab's later views in core: sentences, [CLS]'s attention, contextual neighbours and the PCA
projection, each checked against a numpy recomputation from the model's own outputs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from bertdesk.core.bundles.bundle import Bundle
from bertdesk.core.engine.embed import embed_texts
from bertdesk.core.errors import BertdeskError
from bertdesk.core.similarity.attention import run_forward
from bertdesk.core.similarity.cosine import (
    cls_attention_by_layer,
    contextual_neighbours,
    sentence_similarity,
)
from bertdesk.core.similarity.projection import pca_2d

TEXT = "the bank of the river flooded, so the bank raised its rates."


@pytest.fixture(scope="module")
def tiny(tiny_bundle: Path) -> Bundle:
    return Bundle(tiny_bundle)


@pytest.mark.parametrize("pooling", ["mean", "cls"])
def test_sentence_matrix_is_the_cosine_of_the_pooled_hidden_states(tiny: Bundle, pooling: str) -> None:
    sentences = ["the cat sat.", "a dog ran far away.", "the cat sat down."]
    result = sentence_similarity(tiny, sentences, pooling=pooling)
    rows = []
    for sentence in sentences:
        vectors = run_forward(tiny, sentence).hidden_states[-1]
        rows.append(vectors.mean(axis=0) if pooling == "mean" else vectors[0])
    rows = np.array(rows)
    unit = rows / np.linalg.norm(rows, axis=1, keepdims=True)
    np.testing.assert_allclose(result.matrix, unit @ unit.T, atol=1e-5)
    np.testing.assert_allclose(embed_texts(tiny, sentences, pooling=pooling, normalize=False), rows, atol=1e-5)


def test_cls_attention_and_contextual_neighbours(tiny: Bundle) -> None:
    forward = run_forward(tiny, TEXT)
    np.testing.assert_allclose(cls_attention_by_layer(forward), forward.attentions[:, :, 0, :].mean(axis=1))
    assert np.allclose(cls_attention_by_layer(forward).sum(axis=1), 1.0, atol=1e-5)
    for layer in (0, tiny.info.num_layers):
        vectors = forward.vectors(layer)
        unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
        scores = unit @ unit[2]
        scores[2] = -np.inf
        expected = np.argsort(-scores, kind="stable")[:4]
        found = contextual_neighbours(forward, layer, 2, 4)
        assert [i for i, _ in found] == expected.tolist()
        np.testing.assert_allclose([c for _, c in found], scores[expected], atol=1e-5)
    assert len(contextual_neighbours(forward, 1, 0, 1000)) == len(forward.pieces) - 1
    with pytest.raises(BertdeskError, match="tokens 0 to"):
        contextual_neighbours(forward, 1, 99)


def test_pca_equals_a_numpy_recomputation(tiny: Bundle) -> None:
    vectors = run_forward(tiny, TEXT).vectors(tiny.info.num_layers)
    projection = pca_2d(vectors)
    centred = vectors - vectors.mean(axis=0)
    covariance = np.cov(centred.T.astype(np.float64), bias=True)
    values, directions = np.linalg.eigh(covariance)
    leading = directions[:, ::-1][:, :2]
    expected = centred @ leading
    for axis in range(2):  # an eigenvector's sign is arbitrary
        sign = np.sign(expected[:, axis] @ projection.points[:, axis])
        np.testing.assert_allclose(projection.points[:, axis], sign * expected[:, axis], atol=1e-4)
    np.testing.assert_allclose(projection.explained, values[::-1][:2] / values.sum(), atol=1e-6)
    assert projection.explained[0] >= projection.explained[1]
    labels = [str(i) for i in range(len(vectors))]
    assert len(projection.to_dict(labels)["points"]) == len(vectors)
    flat = pca_2d(np.array([[1.0, 2.0], [1.0, 2.0], [1.0, 2.0]]))
    assert (flat.points == 0).all() and flat.explained == (0.0, 0.0)
    with pytest.raises(BertdeskError, match="at least two"):
        pca_2d(vectors[:1])


def test_attention_grid_places_every_head(tiny: Bundle) -> None:
    from bertdesk.core.similarity.attention import attention_grid, grid_cell

    forward = run_forward(tiny, "the cat sat on the mat")
    layers, heads, seq, _ = forward.attentions.shape
    grid = attention_grid(forward)
    assert grid.shape == (layers * (seq + 1) - 1, heads * (seq + 1) - 1)
    for layer in range(layers):
        for head in range(heads):
            top, left = layer * (seq + 1), head * (seq + 1)
            np.testing.assert_array_equal(grid[top:top + seq, left:left + seq], forward.attentions[layer, head])
            assert grid_cell(forward, top + seq - 0.5, left + 0.2) == (layer + 1, head)
    assert np.isnan(grid[seq]).all() and np.isnan(grid[:, seq]).all()
    assert grid_cell(forward, seq + 0.5, 0) is None and grid_cell(forward, -1, 0) is None
    assert grid_cell(forward, 0, heads * (seq + 1)) is None
