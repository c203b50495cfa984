"""What the CLI's `classify` and `train-head` print: JSON-ready dicts from core functions, files streamed in order."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from bertdesk.core.bundles.bundle import Bundle, open_model
from bertdesk.core.classify.few_shot import FewShotScorer, train_head
from bertdesk.core.classify.label_reports import (
    classify_command,
    classify_file_command,
    split_labels,
    train_head_command,
)
from bertdesk.core.classify.scoring import encode_items, pad_encodings
from bertdesk.core.engine.embed import embed_texts
from bertdesk.core.errors import BertdeskError, StorageError
from tests.core.classify.test_few_shot import TOY, UNSEEN


@pytest.fixture(scope="module")
def default_model(default_bundle_dir: Path) -> Bundle:
    return open_model(default_bundle_dir)


def test_split_labels() -> None:
    assert split_labels(" sports, politics,,cooking ,") == ["sports", "politics", "cooking"]


def test_classify_with_the_head_and_a_pair(tiny_classifier_bundle: Path) -> None:
    out = classify_command(Bundle(tiny_classifier_bundle), ["a cat", "a dog"], pair="who sat?")
    json.dumps(out)
    assert [row["pair"] for row in out["results"]] == ["who sat?", "who sat?"]
    for row in out["results"]:
        assert len(row["labels"]) == 3 and abs(sum(x["probability"] for x in row["labels"]) - 1) < 1e-6
        assert row["label"] == row["labels"][0]["label"]
    assert out["path"]["function"] == "softmax"


def test_classify_zero_shot_with_labels(default_model: Bundle) -> None:
    out = classify_command(default_model, ["The striker scored a goal."], labels=split_labels("cooking,sports"))
    assert out["results"][0]["label"] == "sports" and "cosines" in out["results"][0]
    with pytest.raises(BertdeskError, match="drop --pair"):
        classify_command(default_model, ["text"], pair="b", labels=["a", "b"])
    with pytest.raises(BertdeskError, match="not a classifier"):
        classify_command(default_model, ["text"])


def test_classify_file_streams_one_dict_per_row_in_order(tiny_classifier_bundle: Path, tmp_path: Path) -> None:
    path = tmp_path / "rows.csv"
    path.write_text("text,text_pair\nfirst,one\n,skipped\nthird,three\n", encoding="utf-8")
    stream = classify_file_command(Bundle(tiny_classifier_bundle), path)
    first = next(stream)
    assert (first["index"], first["text"], first["pair"]) == (1, "first", "one")
    rest = list(stream)
    assert [(r["index"], r["text"]) for r in rest] == [(3, "third")]
    json.dumps(rest)
    with pytest.raises(StorageError):
        next(classify_file_command(Bundle(tiny_classifier_bundle), tmp_path / "missing.txt"))


def test_train_head_command_saves_a_bundle(default_model: Bundle, tmp_path: Path) -> None:
    examples = tmp_path / "examples.csv"
    examples.write_text("text,label\n" + "".join(f'"{t}",{label}\n' for t, label in TOY), encoding="utf-8")
    report = train_head_command(default_model, examples, tmp_path / "head")
    json.dumps(report)
    assert report["cross_validation"]["accuracy"] == 1.0 and report["labels"] == ["sport", "cooking", "finance"]
    saved = open_model(report["out"])
    assert saved.info.task == "sequence-classification"
    assert classify_command(saved, [UNSEEN[0]])["results"][0]["label"] == "cooking"


def test_the_unsaved_head_scores_like_the_numpy_head(default_model: Bundle) -> None:
    head = train_head(default_model, TOY)
    scorer = FewShotScorer(default_model, head)
    items = [(i, text, None) for i, text in enumerate(UNSEEN)]
    _, probabilities = scorer.score(pad_encodings(encode_items(scorer, items)))
    reference = head.probabilities(embed_texts(default_model, UNSEEN, pooling="mean", normalize=True))
    assert np.abs(probabilities - reference).max() < 1e-6
    assert scorer.path["layers"][0]["shape"] == (3, 384) and scorer.path["input"] == "mean"
