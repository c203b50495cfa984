"""Length bucketing: every text in exactly one batch under the budget, results back in the caller's order and equal
to running each text alone through the full graph."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest

from bertdesk.core.bundles.bundle import Bundle
from bertdesk.core.bundles.graph import lean_session
from bertdesk.core.engine.batching import bucket_texts, plan_batches, run_in_order, stream_buckets
from bertdesk.core.engine.embed import pool

TEXTS = [
    "ok",
    "A thoughtful, funny and moving film that stays with you long after the credits roll.",
    "The service was slow.",
    "Neither the plot nor the acting could save this dull, overlong mess of a movie, sadly.",
    "Water boils at 100 degrees Celsius at sea level.",
    "hi there",
    "word " * 300,  # truncated to the model's window
    "Prices rose 3.2% in March.",
] * 3


def test_plan_batches_covers_every_row_once_within_the_budget() -> None:
    lengths = [5, 120, 7, 64, 64, 3, 512, 9, 33, 1] * 7
    batches = plan_batches(lengths, token_budget=256, max_rows=8)
    assert sorted(i for b in batches for i in b) == list(range(len(lengths)))
    for batch in batches:
        assert len(batch) <= 8
        assert len(batch) == 1 or len(batch) * max(lengths[i] for i in batch) <= 256


def _unbatched(bundle: Bundle, texts: list[str]) -> np.ndarray:
    rows = []
    for text in texts:
        ids = np.array([bundle.model_tokenizer.encode(text).ids])
        out = bundle.run(ids, np.ones_like(ids))["last_hidden_state"]
        rows.append(pool(out, np.ones_like(ids), "mean")[0])
    return np.stack(rows)


def _bucketed_runner(bundle: Bundle):
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    session = lean_session(bundle.graph_path, options)
    inputs = {i.name for i in session.get_inputs()}

    def run(bucket) -> np.ndarray:
        feed = {"input_ids": bucket.input_ids, "attention_mask": bucket.attention_mask,
                "token_type_ids": bucket.token_type_ids}
        out = session.run(["last_hidden_state"], {k: v for k, v in feed.items() if k in inputs})[0]
        return pool(out, bucket.attention_mask, "mean")

    return run


@pytest.mark.parametrize("which", ["tiny", "default"])
def test_bucketed_results_come_back_in_order_equal_to_the_full_path(
    which: str, tiny_bundle: Path, default_bundle_dir: Path
) -> None:
    bundle = Bundle(tiny_bundle if which == "tiny" else default_bundle_dir, threads=1)
    expected = _unbatched(bundle, TEXTS)
    buckets = list(bucket_texts(bundle.model_tokenizer, TEXTS, token_budget=300, max_rows=4))
    assert len(buckets) > 3  # really several batches, of different widths
    assert len({b.input_ids.shape[1] for b in buckets}) > 1
    got = run_in_order(buckets, len(TEXTS), _bucketed_runner(bundle))
    np.testing.assert_allclose(got, expected, atol=1e-5)


def test_streaming_holds_one_chunk_at_a_time_and_keeps_the_order(tiny_bundle: Path) -> None:
    bundle = Bundle(tiny_bundle, threads=1)
    expected = _unbatched(bundle, TEXTS)
    pulled = []

    def lines():
        for i, text in enumerate(TEXTS):
            pulled.append(i)
            yield text

    run = _bucketed_runner(bundle)
    parts = []
    for start, count, buckets in stream_buckets(bundle.model_tokenizer, lines(), chunk=5, token_budget=300):
        assert len(pulled) <= start + count  # the iterator was read no further than this chunk
        parts.append(run_in_order(buckets, count, run, start))
    assert [len(p) for p in parts] == [5, 5, 5, 5, 4]
    np.testing.assert_allclose(np.concatenate(parts), expected, atol=1e-5)


def test_pairs_are_tokenized_as_segment_b(tiny_bundle: Path) -> None:
    bundle = Bundle(tiny_bundle, threads=1)
    buckets = list(bucket_texts(bundle.model_tokenizer, ["a question?", "another"], ["some context", "more"]))
    assert all(b.token_type_ids.max() == 1 for b in buckets)
