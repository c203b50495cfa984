"""Few-shot heads: logistic regression in numpy, k-fold checks, and the head saved with its encoder as a bundle."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from bertdesk.core.bundles.bundle import Bundle, describe_bundle, open_model
from bertdesk.core.classify.few_shot import (
    Example,
    _folds,
    _softmax_cross_entropy,
    cross_validate,
    export_head,
    fit_logistic_regression,
    read_examples,
    train_head,
)
from bertdesk.core.classify.heads import classify
from bertdesk.core.engine.embed import embed_texts
from bertdesk.core.errors import BertdeskError, StorageError

TOY = [
    ("The striker scored a goal in the football match.", "sport"),
    ("The team won the tennis final in straight sets.", "sport"),
    ("Our runners broke the marathon record.", "sport"),
    ("The goalkeeper saved a penalty in extra time.", "sport"),
    ("Bake the bread in a hot oven for forty minutes.", "cooking"),
    ("Chop the onions and fry them gently in butter.", "cooking"),
    ("Season the soup with salt and black pepper.", "cooking"),
    ("Whisk the eggs with sugar for the sponge cake.", "cooking"),
    ("The central bank raised interest rates again.", "finance"),
    ("Shares fell sharply on the stock market today.", "finance"),
    ("Investors bought government bonds and gold.", "finance"),
    ("The company reported higher quarterly profits.", "finance"),
]
UNSEEN = ["A recipe for chocolate pudding with cream.", "The cyclists raced up the mountain stage.",
          "Inflation pushed the currency to a record low."]


def test_gradient_matches_finite_differences() -> None:
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(20, 5)), rng.integers(0, 3, size=20)
    objective = _softmax_cross_entropy(x, y, 3, 0.1)
    params = rng.normal(size=5 * 3 + 3)
    _, gradient = objective(params)
    eps = 1e-6
    numeric = [(objective(params + eps * e)[0] - objective(params - eps * e)[0]) / (2 * eps) for e in np.eye(18)]
    assert np.allclose(gradient, numeric, atol=1e-6)


def test_logistic_regression_separates_and_is_deterministic() -> None:
    rng = np.random.default_rng(1)
    centres = rng.normal(size=(3, 16)) * 4
    targets = np.repeat(np.arange(3), 30)
    vectors = centres[targets] + rng.normal(size=(90, 16))
    weight, bias = fit_logistic_regression(vectors, targets, 3)
    assert (np.argmax(vectors @ weight.T + bias, axis=1) == targets).all()
    again = fit_logistic_regression(vectors, targets, 3)
    assert np.array_equal(weight, again[0]) and np.array_equal(bias, again[1])


def test_folds_are_stratified_and_the_confusion_counts_every_example() -> None:
    targets = np.array([0] * 7 + [1] * 5 + [2] * 3)
    assignment = _folds(targets, 3)
    for fold in range(3):
        assert set(targets[assignment == fold]) == {0, 1, 2}
    rng = np.random.default_rng(2)
    vectors = rng.normal(size=(15, 4))
    cv = cross_validate(vectors, targets, ["a", "b", "c"], folds=5)
    assert cv.folds == 3 and np.asarray(cv.confusion).sum() == 15
    assert np.asarray(cv.confusion).sum(axis=1).tolist() == [7, 5, 3]
    assert cross_validate(vectors[:8], np.array([0] * 7 + [1]), ["a", "b"]) is None  # one example of "b"


@pytest.fixture(scope="module")
def default_model(default_bundle_dir: Path) -> Bundle:
    return open_model(default_bundle_dir)


@pytest.mark.slow
@pytest.mark.parametrize("pooling", ["mean", "cls"])
def test_toy_head_is_perfect_and_its_bundle_gives_the_same_probabilities(
    default_model: Bundle, tmp_path: Path, pooling: str
) -> None:
    head = train_head(default_model, TOY, pooling=pooling)
    assert head.labels == ["sport", "cooking", "finance"]
    assert head.training_accuracy == 1.0
    assert head.cross_validation.accuracy == 1.0 and head.cross_validation.folds == 4
    assert head.cross_validation.confusion == [[4, 0, 0], [0, 4, 0], [0, 0, 4]]
    json.dumps(head.to_dict())

    out = export_head(default_model, head, tmp_path / "toy-head")
    info = describe_bundle(out)
    assert info.task == "sequence-classification" and info.labels == head.labels
    saved = open_model(out)
    texts = [text for text, _ in TOY] + UNSEEN
    result = classify(saved, texts)
    ours = np.array([[{s.label: s.probability for s in row.scores}[label] for label in head.labels]
                     for row in result.rows])
    reference = head.probabilities(embed_texts(default_model, texts, pooling=pooling, normalize=True))
    assert np.abs(ours - reference).max() <= 1e-5
    assert [row.top.label for row in result.rows[:12]] == [label for _, label in TOY]
    assert [row.top.label for row in result.rows[12:]] == ["cooking", "sport", "finance"]
    assert result.path["layers"] == [{"name": "head", "shape": (3, 384), "activation": None}]
    assert result.path["input"] == ("mean" if pooling == "mean" else "[CLS]")


def test_export_never_overwrites(default_model: Bundle, tmp_path: Path) -> None:
    head = train_head(default_model, TOY[:2] + TOY[4:6])
    existing = tmp_path / "mine"
    existing.mkdir()
    (existing / "notes.txt").write_text("keep me")
    with pytest.raises(StorageError, match="already exists"):
        export_head(default_model, head, existing)
    assert (existing / "notes.txt").read_text() == "keep me"
    assert [p.name for p in tmp_path.iterdir()] == ["mine"]  # no staging folder left behind


def test_a_head_needs_an_encoder(tiny_classifier_bundle: Path, default_model: Bundle, tmp_path: Path) -> None:
    head = train_head(default_model, TOY[:2] + TOY[4:6])
    with pytest.raises(BertdeskError, match="encoder"):
        export_head(Bundle(tiny_classifier_bundle), head, tmp_path / "out")


def test_examples_from_csv(tmp_path: Path) -> None:
    with_header = tmp_path / "examples.csv"
    with_header.write_text('label,text\nsport,"The team won, again."\ncooking,Fry the onions.\n\n', encoding="utf-8")
    expected = [Example("The team won, again.", "sport"), Example("Fry the onions.", "cooking")]
    assert read_examples(with_header) == expected
    plain = tmp_path / "plain.csv"
    plain.write_text("The team won.,sport\nFry the onions., cooking\n", encoding="utf-8")
    assert read_examples(plain)[1] == Example("Fry the onions.", "cooking")
    ragged = tmp_path / "ragged.csv"
    ragged.write_text("a,b,c\nd\n", encoding="utf-8")
    with pytest.raises(BertdeskError, match="two columns"):
        read_examples(ragged)


def test_bad_examples_are_user_errors(default_model: Bundle) -> None:
    with pytest.raises(BertdeskError, match="two labels"):
        train_head(default_model, [("a", "x"), ("b", "x")])
    with pytest.raises(BertdeskError, match="no text"):
        train_head(default_model, [(" ", "x"), ("b", "y")])
    with pytest.raises(BertdeskError, match="pooling"):
        train_head(default_model, TOY, pooling="max")
