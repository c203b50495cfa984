"""Zero-shot classification with the default embedding model, and occlusion explanations."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from bertdesk.core.bundles.bundle import Bundle, open_model
from bertdesk.core.classify.heads import HeadClassifier
from bertdesk.core.classify.occlusion import explain
from bertdesk.core.classify.zero_shot import (
    ZeroShotClassifier,
    ZeroShotLabel,
    label_sentence,
    softmax_at,
    zero_shot,
)
from bertdesk.core.engine.embed import embed_texts
from bertdesk.core.errors import BertdeskError, JobCancelled
from bertdesk.core.jobs import JobHandle

LABELS = ["sports", "politics", "cooking", "technology"]
TOPICAL = {
    "The striker scored twice in the final minutes of the match.": "sports",
    "Parliament passed the new budget after a long debate between the parties.": "politics",
    "Simmer the onions in butter, then add the garlic and a pinch of salt.": "cooking",
    "The new smartphone has a faster processor and more memory.": "technology",
    "The goalkeeper was injured during the championship game.": "sports",
    "The senator announced she will run for president next year.": "politics",
}


@pytest.fixture(scope="module")
def default_model(default_bundle_dir: Path) -> Bundle:
    return open_model(default_bundle_dir)


def test_topical_sentences_get_their_label(default_model: Bundle) -> None:
    result = zero_shot(default_model, list(TOPICAL), LABELS)
    assert [row.top.label for row in result.rows] == list(TOPICAL.values())
    assert result.path["label_sentences"][0] == "This text is about sports."


def test_cosines_and_probabilities(default_model: Bundle) -> None:
    text = "The striker scored twice in the final minutes of the match."
    row = zero_shot(default_model, [text], LABELS, temperature=0.1).rows[0]
    vectors = embed_texts(default_model, [text] + [f"This text is about {label}." for label in LABELS])
    cosines = vectors[1:] @ vectors[0] / np.linalg.norm(vectors[1:], axis=1) / np.linalg.norm(vectors[0])
    assert np.allclose(row.raw_in_label_order(), cosines, atol=1e-6)
    probabilities = {s.label: s.probability for s in row.scores}
    assert np.allclose([probabilities[label] for label in LABELS], softmax_at(cosines, 0.1), atol=1e-9)
    # A lower temperature sharpens the same ranking.
    sharp = zero_shot(default_model, [text], LABELS, temperature=0.01).rows[0]
    assert [s.label for s in sharp.scores] == [s.label for s in row.scores]
    assert sharp.top.probability > row.top.probability


def test_descriptions_and_templates(default_model: Bundle) -> None:
    assert label_sentence(ZeroShotLabel("bank", "money, loans"), "About {label}.") == "About bank. money, loans"
    labels = [("finance", "money, loans, interest rates"), ("nature", "rivers, trees, landscapes")]
    result = zero_shot(default_model, ["We walked along the river bank under the trees."], labels,
                       template="A sentence on {label}.")
    assert result.rows[0].top.label == "nature"
    assert result.path["label_sentences"][1] == "A sentence on nature. rivers, trees, landscapes"


@pytest.mark.parametrize(
    ("labels", "template", "temperature", "message"),
    [
        (["only"], "{label}", 0.05, "at least two"),
        (["a", "a"], "{label}", 0.05, "repeat"),
        (["a", " "], "{label}", 0.05, "empty"),
        (["a", "b"], "no placeholder", 0.05, "must contain"),
        (["a", "b"], "{label}", 0.0, "temperature"),
    ],
)
def test_bad_zero_shot_settings(default_model: Bundle, labels, template, temperature, message) -> None:
    with pytest.raises(BertdeskError, match=message):
        ZeroShotClassifier(default_model, labels, template=template, temperature=temperature)


@pytest.mark.slow
def test_occlusion_on_the_sentiment_fixture(shared_dir: Path, tmp_path: Path) -> None:
    from bertdesk.core.conversion.convert import convert_checkpoint

    bundle = Bundle(convert_checkpoint(shared_dir / "fixtures" / "minilm-l6-sst2", tmp_path / "sst2"))
    scorer = HeadClassifier(bundle)
    text = "An honest, gripping and beautifully acted film."
    explanation = explain(scorer, text)
    assert explanation.label == "POSITIVE"
    assert [w.word for w in explanation.words] == ["An", "honest", ",", "gripping", "and", "beautifully", "acted",
                                                    "film", "."]
    for word in explanation.words:
        assert text[word.start:word.end] == word.word
    # Each importance is exactly the probability drop of that word masked on its own.
    tokens = bundle.model_tokenizer.encode(text)
    mask_id = bundle.tokenizer.token_to_id("[MASK]")
    for word in explanation.words:
        inside = [tokens.word_ids[i] is not None and word.start <= start and end <= word.end
                  for i, (start, end) in enumerate(tokens.offsets)]
        ids = [mask_id if masked else token for token, masked in zip(tokens.ids, inside, strict=True)]
        out = bundle.run(np.array([ids]))["logits"][0]
        probability = float(np.exp(out[1]) / np.exp(out).sum())
        assert abs(word.masked_probability - probability) < 1e-5
        assert abs(word.importance - (explanation.probability - probability)) < 1e-5
    explained = {w.word: w.importance for w in explanation.words}
    assert max(explained, key=explained.get) in {"honest", "gripping", "beautifully"}

    negative = explain(scorer, "a good movie", "terrible?", label="NEGATIVE")
    assert negative.label == "NEGATIVE" and [w.segment for w in negative.words] == [0, 0, 0, 1, 1]
    assert max(negative.words, key=lambda w: w.importance).word == "terrible"


def test_occlusion_with_zero_shot_and_cancel(default_model: Bundle) -> None:
    scorer = ZeroShotClassifier(default_model, ["cooking", "sports"])
    explanation = explain(scorer, "The chef fried the onions before the football game.", label="cooking")
    top = max(explanation.words, key=lambda w: w.importance).word
    assert top in {"chef", "fried", "onions"}
    handle = JobHandle()
    handle.cancel()
    with pytest.raises(JobCancelled):
        explain(scorer, "anything at all", handle=handle)
    with pytest.raises(BertdeskError, match="no label"):
        explain(scorer, "text", label="finance")
