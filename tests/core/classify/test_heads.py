"""Fine-tuned classifiers: probabilities equal transformers' text-classification pipeline (4.57.6, top_k=None)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

from bertdesk.core.bundles.bundle import Bundle  # noqa: E402
from bertdesk.core.classify.heads import classify, head_path  # noqa: E402
from bertdesk.core.conversion.convert import convert_checkpoint  # noqa: E402
from bertdesk.core.errors import BertdeskError  # noqa: E402
from tests.checkpoints import make_checkpoint, reference_model  # noqa: E402

TOLERANCE = 1e-5
TEXTS = ["the cat sat on the mat.", "what a great movie!", "a terrible, bad day at the bank of the river", "hello"]
PAIRS = ["who sat?", "was it good?", "where is the money?", "world"]


def sst2_sentences(shared_dir: Path, count: int) -> list[tuple[str, int]]:
    """The first `count` sentences of SST-2 dev with their gold labels."""
    with (shared_dir / "data" / "sst2-dev.tsv").open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE))
    return [(row["content"], int(row["label"])) for row in rows[:count]]


@pytest.fixture(scope="module")
def sst2_bundle(shared_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The SST-2 sentiment fixture converted with the project's converter."""
    return convert_checkpoint(shared_dir / "fixtures" / "minilm-l6-sst2", tmp_path_factory.mktemp("sst2") / "sst2")


def pipeline_scores(checkpoint: Path, texts: list[str], pairs: list[str] | None = None) -> list[dict[str, float]]:
    """transformers' text-classification pipeline, every label (top_k=None), as {label: probability} per text."""
    model = reference_model(checkpoint)
    tokenizer = transformers.AutoTokenizer.from_pretrained(checkpoint, local_files_only=True)
    classifier = transformers.pipeline("text-classification", model=model, tokenizer=tokenizer)
    inputs = texts if pairs is None else [{"text": t, "text_pair": p} for t, p in zip(texts, pairs, strict=True)]
    outputs = [classifier(item, top_k=None) for item in inputs]
    return [{d["label"]: d["score"] for d in out} for out in outputs]


def assert_matches_pipeline(result, reference: list[dict[str, float]]) -> float:
    """Same labels, same order, probabilities within TOLERANCE; returns the largest difference."""
    worst = 0.0
    for row, ref in zip(result.rows, reference, strict=True):
        ours = {s.label: s.probability for s in row.scores}
        assert set(ours) == set(ref)
        worst = max(worst, max(abs(ours[label] - ref[label]) for label in ref))
        probabilities = [s.probability for s in row.scores]
        assert probabilities == sorted(probabilities, reverse=True)
    assert worst <= TOLERANCE, f"max probability difference {worst:.2e}"
    return worst


@pytest.mark.slow
def test_sst2_fixture_matches_pipeline(sst2_bundle: Path, shared_dir: Path) -> None:
    sentences = [text for text, _ in sst2_sentences(shared_dir, 50)]
    result = classify(Bundle(sst2_bundle), sentences)
    assert_matches_pipeline(result, pipeline_scores(shared_dir / "fixtures" / "minilm-l6-sst2", sentences))
    assert result.path["function"] == "softmax" and result.path["labels"] == ["NEGATIVE", "POSITIVE"]
    assert [layer["shape"] for layer in result.path["layers"]] == [(384, 384), (2, 384)]
    assert result.path["layers"][0]["activation"] == "tanh" and result.path["width"] == 384
    assert result.cls_vectors.shape == (50, 384)
    json.dumps(result.to_dict())


@pytest.mark.slow
def test_sst2_fixture_pairs_match_pipeline(sst2_bundle: Path, shared_dir: Path) -> None:
    sentences = [text for text, _ in sst2_sentences(shared_dir, 20)]
    texts, pairs = sentences[:10], sentences[10:]
    result = classify(Bundle(sst2_bundle), texts, pairs)
    assert_matches_pipeline(result, pipeline_scores(shared_dir / "fixtures" / "minilm-l6-sst2", texts, pairs))


def random_head(root: Path, model_type: str, problem_type: str | None, num_labels: int) -> tuple[Path, Path]:
    """A random-weight classification checkpoint with `problem_type` set in its config, and its bundle."""
    checkpoint = make_checkpoint(root / "checkpoint", model_type, "classification", num_labels=num_labels, seed=3)
    config_path = checkpoint / "config.json"
    config = json.loads(config_path.read_text())
    if problem_type is None:
        config.pop("problem_type", None)
    else:
        config["problem_type"] = problem_type
    config_path.write_text(json.dumps(config))
    return checkpoint, convert_checkpoint(checkpoint, root / "bundle")


@pytest.mark.parametrize("model_type", ["bert", "distilbert"])
@pytest.mark.parametrize(
    ("problem_type", "num_labels", "function"),
    [
        ("single_label_classification", 3, "softmax"),
        ("multi_label_classification", 4, "sigmoid"),
        (None, 1, "sigmoid"),
        ("regression", 1, "none"),
    ],
)
def test_random_heads_match_pipeline(
    tmp_path: Path, model_type: str, problem_type: str | None, num_labels: int, function: str
) -> None:
    checkpoint, bundle_dir = random_head(tmp_path, model_type, problem_type, num_labels)
    bundle = Bundle(bundle_dir)
    pairs = PAIRS if model_type == "bert" else None
    result = classify(bundle, TEXTS, pairs)
    assert result.path["function"] == function
    assert_matches_pipeline(result, pipeline_scores(checkpoint, TEXTS, pairs))
    if function == "sigmoid" and num_labels > 1:  # each label on its own: they need not sum to 1
        assert any(abs(sum(s.probability for s in row.scores) - 1) > 0.05 for row in result.rows)
    pre = "pooler" if model_type == "bert" else "pre_classifier"
    assert [(layer.name, layer.shape) for layer in head_path(bundle).layers] == [(pre, (32, 32)),
                                                                                 ("classifier", (num_labels, 32))]


def test_labels_without_id2label_are_named_like_transformers(tmp_path: Path) -> None:
    checkpoint = make_checkpoint(tmp_path / "checkpoint", "bert", "classification", num_labels=2)
    config = json.loads((checkpoint / "config.json").read_text())
    del config["id2label"], config["label2id"]
    (checkpoint / "config.json").write_text(json.dumps(config))
    bundle = Bundle(convert_checkpoint(checkpoint, tmp_path / "bundle"))
    assert {s.label for s in classify(bundle, ["hello"]).rows[0].scores} == {"LABEL_0", "LABEL_1"}


def test_an_encoder_is_not_a_classifier(tiny_bundle: Path) -> None:
    with pytest.raises(BertdeskError, match="not a classifier"):
        classify(Bundle(tiny_bundle), ["hello"])


def test_bad_inputs_are_user_errors(tiny_classifier_bundle: Path) -> None:
    bundle = Bundle(tiny_classifier_bundle)
    with pytest.raises(BertdeskError, match="no text"):
        classify(bundle, [])
    with pytest.raises(BertdeskError, match="pair"):
        classify(bundle, ["a", "b"], ["c"])
    with pytest.raises(BertdeskError, match="text"):
        classify(bundle, ["a", 3])  # type: ignore[list-item]
    row = classify(bundle, ["the cat " * 200]).rows[0]  # longer than the model's 64 positions: truncated, classified
    assert row.truncated and row.num_tokens == 64
    assert np.isclose(sum(s.probability for s in row.scores), 1.0)
