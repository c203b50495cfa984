"""The fast paths every caller now takes — the lean session, length-bucketed batches, streaming — give the numbers of
the full path (the graph with every layer's outputs, each text run alone) within 1e-5, in the caller's order."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from bertdesk.core.bundles.bundle import Bundle
from bertdesk.core.bundles.graph import INTERNAL_PREFIXES
from bertdesk.core.bundles.names import ATTENTION_BIAS
from bertdesk.core.engine.embed import embed_stream, embed_texts, pool
from bertdesk.core.jobs import JobHandle

TEXTS = [
    "ok",
    "A thoughtful, funny and moving film that stays with you long after the credits roll.",
    "The service was slow.",
    "Neither the plot nor the acting could save this dull, overlong mess of a movie, sadly.",
    "",
    "Water boils at 100 degrees Celsius at sea level.",
    "word " * 600,  # truncated to the model's window
    "Prices rose 3.2% in March.",
] * 5


def _one_by_one(bundle: Bundle, texts: list[str], layer: int, how: str) -> np.ndarray:
    """Each text alone through the full session (internals=True), no padding anywhere."""
    rows = []
    for text in texts:
        ids = np.array([bundle.model_tokenizer.encode(text).ids])
        out = bundle.run(ids, np.ones_like(ids), internals=True)["hidden_states"][layer]
        rows.append(pool(out, np.ones_like(ids), how)[0])
    return np.stack(rows)


def test_plain_runs_use_the_lean_session_and_internals_the_full_one(tiny_bundle: Path) -> None:
    bundle = Bundle(tiny_bundle, threads=1)
    ids = np.array([[2, 10, 11, 3]])
    plain = bundle.run(ids)
    lean = bundle.session()
    assert not any(o.name.startswith(INTERNAL_PREFIXES) for o in lean.get_outputs())
    assert ATTENTION_BIAS not in {i.name for i in lean.get_inputs()}
    assert bundle._internals_session is None  # nothing built for what was not asked
    full = bundle.run(ids, internals=True)
    assert bundle._internals_session is not None and bundle._internals_session is not lean
    np.testing.assert_allclose(plain["last_hidden_state"], full["last_hidden_state"], atol=1e-5)
    assert full["attentions"].shape[0] == bundle.info.num_layers


def test_attention_bias_runs_on_the_full_session(tiny_bundle: Path) -> None:
    bundle = Bundle(tiny_bundle, threads=1)
    ids = np.array([[2, 10, 11, 12, 3]])
    plain = bundle.run(ids)["last_hidden_state"]
    zeros = bundle.run(ids, attention_bias=np.zeros((1, 1, 5, 5), np.float32))["last_hidden_state"]
    np.testing.assert_allclose(zeros, plain, atol=1e-5)
    causal = np.triu(np.full((5, 5), -1e9, np.float32), 1)[None, None]
    biased = bundle.run(ids, attention_bias=causal)["last_hidden_state"]
    assert np.abs(biased - plain).max() > 1e-3  # the mask reached the model
    # under a causal mask the first token sees only itself: as if it were the whole text
    np.testing.assert_allclose(biased[:, 0], bundle.run(ids[:, :1])["last_hidden_state"][:, 0], atol=1e-5)


@pytest.mark.parametrize(("which", "layer", "how"), [("tiny", -1, "mean"), ("tiny", 1, "cls"),
                                                     ("default", -1, "mean"), ("default", 3, "mean")])
def test_embed_texts_matches_the_full_path_in_order(which: str, layer: int, how: str, tiny_bundle: Path,
                                                    default_bundle_dir: Path) -> None:
    bundle = Bundle(tiny_bundle if which == "tiny" else default_bundle_dir, threads=1)
    index = layer % (bundle.info.num_layers + 1)
    expected = _one_by_one(bundle, TEXTS, index, how)
    reports: list[float] = []
    got = embed_texts(bundle, TEXTS, layer=layer, pooling=how, normalize=False, token_budget=600,
                      handle=JobHandle(lambda fraction, _: reports.append(fraction)))
    np.testing.assert_allclose(got, expected, atol=1e-5)
    assert len(reports) > 3 and reports == sorted(reports) and reports[-1] == 1.0


def test_embed_stream_matches_embed_texts_chunk_by_chunk(tiny_bundle: Path) -> None:
    bundle = Bundle(tiny_bundle, threads=1)
    pulled: list[int] = []

    def lines():
        for i, text in enumerate(TEXTS):
            pulled.append(i)
            yield text

    streamed = []
    for vector in embed_stream(bundle, lines(), normalize=True, chunk=7, token_budget=300):
        streamed.append(vector)
        assert len(pulled) <= -(-len(streamed) // 7) * 7  # never read beyond the chunk being written
    np.testing.assert_allclose(np.stack(streamed), embed_texts(bundle, TEXTS, normalize=True), atol=1e-6)
    np.testing.assert_allclose(np.linalg.norm(streamed, axis=1), 1.0, atol=1e-5)
    assert list(embed_stream(bundle, iter([]))) == []


def test_embed_texts_stops_when_cancelled(tiny_bundle: Path) -> None:
    from bertdesk.core.errors import JobCancelled

    handle = JobHandle(lambda fraction, _: handle.cancel() if fraction > 0 else None)
    with pytest.raises(JobCancelled):
        embed_texts(Bundle(tiny_bundle, threads=1), TEXTS, token_budget=200, handle=handle)
