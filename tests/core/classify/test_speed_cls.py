"""[CLS]-only runs: a run that wants only the classifier's logits (or the [CLS] vector) computes the last layer for
the [CLS] row alone, and gives the full path's numbers within 1e-5 (fp32), in the caller's order."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest

from bertdesk.core.bundles.bundle import Bundle
from bertdesk.core.bundles.graph import CLS_STATE, cls_graph, lean_graph, load_skeleton
from bertdesk.core.classify.heads import classify
from bertdesk.core.classify.scoring import pooled_vectors
from bertdesk.core.engine.embed import encode
from tests.core.engine.test_speed_paths import TEXTS

PAIRS = ["who?", "", "a much longer second segment of the pair, long enough to pad the others", "why"] * 10


def _full(bundle: Bundle, texts: list[str], pairs: list[str] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(logits, [CLS] rows of last_hidden_state) of each text run alone through the full session."""
    logits, cls = [], []
    for k, text in enumerate(texts):
        encoding = bundle.model_tokenizer.encode(text, None if pairs is None else pairs[k])
        ids, types = np.array([encoding.ids]), np.array([encoding.type_ids])
        out = bundle.run(ids, np.ones_like(ids), types, internals=True)
        logits.append(out["logits"][0])
        cls.append(out["hidden_states"][-1][0, 0])
    return np.stack(logits), np.stack(cls)


@pytest.fixture(scope="module")
def sst2_bundle(shared_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The SST-2 sentiment fixture converted with the project's converter."""
    from bertdesk.core.conversion.convert import convert_checkpoint

    return convert_checkpoint(shared_dir / "fixtures" / "minilm-l6-sst2", tmp_path_factory.mktemp("sst2") / "sst2")


def _sst2(shared_dir: Path, count: int) -> list[str]:
    with (shared_dir / "data" / "sst2-dev.tsv").open(encoding="utf-8", newline="") as f:
        return [row["content"] for row in csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE)][:count]


def test_the_cls_graph_computes_only_the_cls_row_of_the_last_layer(tiny_classifier_bundle: Path) -> None:
    bundle = Bundle(tiny_classifier_bundle, threads=1)
    model = cls_graph(lean_graph(load_skeleton(bundle.graph_path)))
    assert model is not None
    assert [o.name for o in model.graph.output] == ["logits", CLS_STATE]
    last = bundle.info.num_layers - 1
    query = next(n for n in model.graph.node if f"layer.{last}.query.weight_t" in n.input)
    key = next(n for n in model.graph.node if f"layer.{last}.key.weight_t" in n.input)
    assert query.input[0] == f"hidden_states.{last}.cls" and key.input[0] == f"hidden_states.{last}"


def test_logits_only_runs_take_the_cls_session_and_match_the_full_graph(tiny_classifier_bundle: Path) -> None:
    bundle = Bundle(tiny_classifier_bundle, threads=1)
    rng = np.random.default_rng(0)
    ids = rng.integers(5, bundle.info.vocab_size, (5, 23))
    mask = np.ones_like(ids)
    mask[1, 7:], mask[3, 2:] = 0, 0
    types = np.zeros_like(ids)
    types[:, 12:] = 1
    got = bundle.run(ids, mask, types, outputs=("logits", CLS_STATE))
    assert set(got) == {"logits", CLS_STATE}
    assert isinstance(bundle._cls_session, ort.InferenceSession) and bundle._session is None
    full = bundle.run(ids, mask, types, internals=True)
    np.testing.assert_allclose(got["logits"], full["logits"], atol=1e-5)
    np.testing.assert_allclose(got[CLS_STATE], full["last_hidden_state"][:, 0], atol=1e-5)
    assert np.abs(got["logits"]).max() > 1e-2  # not a degenerate comparison
    assert set(bundle.run(ids, mask, types, outputs=("last_hidden_state",))) == {"last_hidden_state"}


def test_classify_in_buckets_matches_each_text_alone_in_order(tiny_classifier_bundle: Path) -> None:
    bundle = Bundle(tiny_classifier_bundle, threads=1)
    logits, cls = _full(bundle, TEXTS, PAIRS)
    shapes: list[tuple[int, int]] = []
    run = bundle.run

    def recording_run(ids: np.ndarray, *args, **kwargs) -> dict[str, np.ndarray]:
        shapes.append(ids.shape)
        return run(ids, *args, **kwargs)

    bundle.run = recording_run  # type: ignore[method-assign]
    result = classify(bundle, TEXTS, PAIRS, batch_size=4, token_budget=120)
    assert all(rows <= 4 and (rows * width <= 120 or rows == 1) for rows, width in shapes)
    assert sum(rows for rows, _ in shapes) == len(TEXTS) and len({width for _, width in shapes}) > 3
    assert [row.index for row in result.rows] == list(range(len(TEXTS)))
    got = np.array([row.raw_in_label_order() for row in result.rows])
    np.testing.assert_allclose(got, logits, atol=1e-5)
    np.testing.assert_allclose(result.cls_vectors, cls, atol=1e-5)


@pytest.mark.slow
def test_sst2_fixture_classify_matches_the_full_path(sst2_bundle: Path, shared_dir: Path) -> None:
    bundle = Bundle(sst2_bundle, threads=1)
    sentences = _sst2(shared_dir, 48)[::-1]
    logits, cls = _full(bundle, sentences)
    result = classify(bundle, sentences)
    assert isinstance(bundle._cls_session, ort.InferenceSession)
    np.testing.assert_allclose(np.array([row.raw_in_label_order() for row in result.rows]), logits, atol=1e-5)
    np.testing.assert_allclose(result.cls_vectors, cls, atol=1e-5)


def test_cls_pooling_runs_the_cls_session_with_the_full_numbers(tiny_bundle: Path) -> None:
    bundle = Bundle(tiny_bundle, threads=1)
    batch = encode(bundle, TEXTS[:8])
    got = pooled_vectors(bundle, batch, "cls")
    assert isinstance(bundle._cls_session, ort.InferenceSession)
    full = bundle.run(batch.input_ids, batch.attention_mask, batch.token_type_ids, internals=True)
    np.testing.assert_allclose(got, full["last_hidden_state"][:, 0], atol=1e-5)
    np.testing.assert_allclose(pooled_vectors(bundle, batch, "mean"),
                               (full["last_hidden_state"] * batch.attention_mask[..., None]).sum(1)
                               / batch.attention_mask.sum(1, keepdims=True), atol=1e-5)


def test_an_imported_export_falls_back_to_the_lean_session(tmp_path: Path) -> None:
    pytest.importorskip("torch")
    from tests.checkpoints import save_tokenizer
    from tests.onnx_exports import example_inputs, export, tiny_model

    model = tiny_model("distilbert-cls")
    folder = tmp_path / "exported"
    (folder / "onnx").mkdir(parents=True)
    export(model, folder / "onnx" / "model.onnx", "legacy-17")
    model.config.architectures = ["DistilBertForSequenceClassification"]
    model.config.save_pretrained(folder)
    save_tokenizer(folder, size=model.config.vocab_size)
    bundle = Bundle(folder, threads=1)
    assert cls_graph(lean_graph(load_skeleton(bundle.graph_path))) is None
    inputs = example_inputs(model)
    got = bundle.run(inputs["input_ids"], inputs["attention_mask"], outputs=("logits", CLS_STATE))
    assert bundle.cls_session() is bundle.session()
    full = bundle.run(inputs["input_ids"], inputs["attention_mask"])
    np.testing.assert_allclose(got["logits"], full["logits"], atol=1e-5)
    assert set(got) == {"logits"}


@pytest.mark.parametrize("pooling", ["cls", "mean"])
def test_a_few_shot_head_reading_last_hidden_state_keeps_the_lean_session(tiny_bundle: Path, tmp_path: Path,
                                                                          pooling: str) -> None:
    from bertdesk.core.classify.few_shot import export_head, train_head

    encoder = Bundle(tiny_bundle, threads=1)
    texts = [text for text in TEXTS[:8] if text]
    examples = [(text, label) for text, label in zip(texts, "ababbaab", strict=False)]
    saved = Bundle(export_head(encoder, train_head(encoder, examples, pooling=pooling, folds=2), tmp_path / "head"),
                   threads=1)
    assert cls_graph(lean_graph(load_skeleton(saved.graph_path))) is None
    batch = encode(saved, texts)
    got = saved.run(batch.input_ids, batch.attention_mask, batch.token_type_ids, outputs=("logits",))
    assert saved.cls_session() is saved.session() and set(got) == {"logits"}
    lean = saved.run(batch.input_ids, batch.attention_mask, batch.token_type_ids)
    np.testing.assert_allclose(got["logits"], lean["logits"], atol=1e-5)
