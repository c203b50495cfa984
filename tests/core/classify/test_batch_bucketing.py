"""Classifying many rows runs them in length buckets under a token budget (`core.batching`): every row's scores
equal its own one-row run within 1e-5, and the rows come back in the caller's order."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from bertdesk.core.bundles.bundle import Bundle
from bertdesk.core.classify.batch import TextRow, classify_stream, scorer_for
from bertdesk.core.classify.scoring import Classification, Scorer
from bertdesk.core.classify.single import classify_one
from bertdesk.core.engine.embed import EncodedBatch
from bertdesk.core.jobs import JobHandle

WORDS = "the a cat dog sat on mat bank river money good bad movie great terrible paris france".split()
BUDGET, MAX_ROWS = 96, 6


def rows(count: int, pairs: bool) -> list[TextRow]:
    """Rows of 1 to 30 words in no length order, numbered out of sequence (as a file's skipped lines leave them)."""
    rng = np.random.default_rng(3)
    return [
        TextRow(
            3 * i + 1,
            " ".join(rng.choice(WORDS, size=int(rng.integers(1, 31)))),
            " ".join(rng.choice(WORDS, size=int(rng.integers(1, 8)))) if pairs else None,
        )
        for i in range(count)
    ]


class RecordingScorer:
    """The real scorer, with the shape of every padded batch it is asked to score written down."""

    def __init__(self, scorer: Scorer) -> None:
        self.inner = scorer
        self.bundle, self.labels, self.method = scorer.bundle, scorer.labels, scorer.method
        self.shapes: list[tuple[int, int]] = []

    def score(self, batch: EncodedBatch, handle: JobHandle | None = None) -> tuple[np.ndarray, np.ndarray]:
        self.shapes.append(batch.input_ids.shape)
        return self.inner.score(batch, handle)


def raw_and_probabilities(row: Classification) -> np.ndarray:
    return np.array([[s.raw, s.probability] for s in sorted(row.scores, key=lambda s: s.index)])


def check_against_one_by_one(scorer: Scorer, inputs: list[TextRow]) -> None:
    recording = RecordingScorer(scorer)
    results = list(classify_stream(recording, inputs, chunk_rows=40, batch_rows=MAX_ROWS, batch_tokens=BUDGET))
    assert [r.index for r in results] == [row.number for row in inputs]
    assert [(r.text, r.pair) for r in results] == [(row.text, row.pair) for row in inputs]
    # Rows of several lengths shared runs, each run within the budget (a row longer than it runs alone).
    assert len(recording.shapes) < len(inputs)
    assert all(n <= MAX_ROWS and (n == 1 or n * width <= BUDGET) for n, width in recording.shapes)
    assert any(n > 1 for n, _ in recording.shapes)
    for result, row in zip(results, inputs, strict=True):
        alone = classify_one(scorer, row.text, row.pair, why=False).row
        assert result.num_tokens == alone.num_tokens
        np.testing.assert_allclose(raw_and_probabilities(result), raw_and_probabilities(alone), atol=1e-5, rtol=0)


@pytest.mark.parametrize("pairs", [False, True])
def test_head_classifier_buckets_equal_one_row_runs_in_order(tiny_classifier_bundle: Path, pairs: bool) -> None:
    scorer = scorer_for(Bundle(tiny_classifier_bundle))
    check_against_one_by_one(scorer, rows(90, pairs))


def test_zero_shot_buckets_equal_one_row_runs_in_order(tiny_bundle: Path) -> None:
    scorer = scorer_for(Bundle(tiny_bundle), ["money", "river", "film"])
    check_against_one_by_one(scorer, rows(60, pairs=False))
