"""Every task that runs batches in lanes gives, with three lanes, what it gives with one: classification (heads,
streamed files, zero-shot, occlusion), question answering (one question's partial results, many questions) and
long-text embedding. CI machines have two cores, where the default is one lane, so the lanes are asked for here."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bertdesk.core.bundles.bundle import Bundle
from bertdesk.core.classify.batch import classify_stream, scorer_for
from bertdesk.core.classify.heads import classify
from bertdesk.core.classify.occlusion import explain
from bertdesk.core.classify.zero_shot import zero_shot
from bertdesk.core.conversion.convert import convert_checkpoint
from bertdesk.core.qa import answer_questions, iter_answer_question
from tests.checkpoints import WORDS, make_checkpoint

TEXTS = [" ".join(WORDS[(i * 7) % len(WORDS):][: 1 + i % 29]) or "word" for i in range(120)]


def close(a: Any, b: Any, path: str = "") -> None:
    """a == b, floats within 1e-5 (batches of other shapes may round differently)."""
    if isinstance(a, dict):
        assert isinstance(b, dict) and a.keys() == b.keys(), path
        for key in a:
            close(a[key], b[key], f"{path}.{key}")
    elif isinstance(a, list | tuple):
        assert isinstance(b, list | tuple) and len(a) == len(b), path
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            close(x, y, f"{path}[{i}]")
    elif isinstance(a, float):
        assert b == pytest.approx(a, abs=1e-5), path
    else:
        assert a == b, path


def one_and_three(folder: Path) -> tuple[Bundle, Bundle]:
    return Bundle(folder, threads=1), Bundle(folder, threads=3)


def test_classification_in_lanes(tiny_classifier_bundle: Path) -> None:
    one, three = one_and_three(tiny_classifier_bundle)
    a, b = classify(one, TEXTS), classify(three, TEXTS)
    close(b.to_dict(), a.to_dict())
    assert abs(b.cls_vectors - a.cls_vectors).max() < 1e-5
    streamed = [r.to_dict() for r in classify_stream(scorer_for(three), TEXTS * 3, chunk_rows=50)]
    close(streamed, [r.to_dict() for r in classify_stream(scorer_for(one), TEXTS * 3, chunk_rows=50)])
    close(explain(scorer_for(three), TEXTS[40]).to_dict(), explain(scorer_for(one), TEXTS[40]).to_dict())


def test_zero_shot_in_lanes(tiny_bundle: Path) -> None:
    one, three = one_and_three(tiny_bundle)
    labels = ["money", "river", "film"]
    close(zero_shot(three, TEXTS, labels).to_dict(), zero_shot(one, TEXTS, labels).to_dict())


def test_question_answering_in_lanes(tmp_path: Path) -> None:
    checkpoint = make_checkpoint(tmp_path / "checkpoint", "bert", "qa", seed=5)
    one, three = one_and_three(convert_checkpoint(checkpoint, tmp_path / "bundle"))
    context = " ".join(WORDS[i % len(WORDS)] for i in range(400))
    settings = {"top_k": 3, "max_seq_len": 40, "doc_stride": 10}
    partial_one = list(iter_answer_question(one, "who?", context, batch_tokens=160, **settings))
    partial_three = list(iter_answer_question(three, "who?", context, batch_tokens=160, **settings))
    assert len(partial_three) > len(partial_one) > 1  # each lane runs its share of the 160 tokens
    close(partial_three[-1].to_dict(details=True), partial_one[-1].to_dict(details=True))
    pairs = [(f"what is {word}?", context[: 200 + 37 * i]) for i, word in enumerate(WORDS[:12])]
    close([r.to_dict() for r in answer_questions(three, pairs, **settings)],
          [r.to_dict() for r in answer_questions(one, pairs, **settings)])
