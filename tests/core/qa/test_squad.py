"""The fine-tuned QA fixture (MiniLM-L6 on SQuAD, converted by our converter) against transformers' QA pipeline on the
same weights: 60 SQuAD v1.1 dev questions, single paragraphs and whole articles cut into several windows."""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

import pytest

torch = pytest.importorskip("torch")

from bertdesk.core.bundles.bundle import Bundle  # noqa: E402
from bertdesk.core.conversion.convert import convert_checkpoint  # noqa: E402
from bertdesk.core.qa import answer_question, answer_questions  # noqa: E402

# one_torch_thread is an autouse fixture: imported, it keeps the reference on one thread here too.
from tests.core.qa.test_answer import assert_same_answers, one_torch_thread, reference_pipeline  # noqa: E402, F401

pytestmark = pytest.mark.slow


def squad_cases(shared_dir: Path) -> list[tuple[str, str]]:
    """40 questions on their own paragraph (2 per paragraph, across articles) and 20 on the first six paragraphs
    of an article joined (10 on each of two articles), which need several windows."""
    articles = json.loads((shared_dir / "data" / "squad-v1.1-dev-half-a.json").read_text(encoding="utf-8"))["data"]
    cases = []
    for article in articles[2:12]:
        for paragraph in article["paragraphs"][:2]:
            cases += [(qa["question"], paragraph["context"]) for qa in paragraph["qas"][:2]]
    for article in articles[:2]:
        joined = "\n".join(p["context"] for p in article["paragraphs"][:6])
        questions = [qa["question"] for p in article["paragraphs"][:6] for qa in p["qas"][:2]]
        cases += [(q, joined) for q in questions[:10]]
    return cases


@pytest.fixture(scope="module")
def squad(shared_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Bundle, Any, list[tuple[str, str]]]:
    """Our bundle, the pipeline's answers (remembered: each is asked once), and the 60 cases."""
    checkpoint = shared_dir / "fixtures" / "minilm-l6-squad"
    bundle = Bundle(convert_checkpoint(checkpoint, tmp_path_factory.mktemp("squad") / "minilm-l6-squad"))
    pipe = reference_pipeline(checkpoint)
    return bundle, functools.cache(lambda question, context, null: pipe(
        question=question, context=context, top_k=3, handle_impossible_answer=null
    )), squad_cases(shared_dir)


@pytest.mark.parametrize("null", [False, True], ids=["top3", "top3-impossible"])
def test_squad_answers_match_the_pipeline(squad: tuple[Bundle, Any, list[tuple[str, str]]], null: bool) -> None:
    bundle, reference, cases = squad
    assert len(cases) == 60
    multi_window = 0
    for question, context in cases:
        ours = answer_question(bundle, question, context, top_k=3, handle_impossible_answer=null)
        assert_same_answers(ours, reference(question, context, null), question)
        multi_window += ours.windows_total > 1
        assert any(a.is_null for a in ours.answers) or not null or len(ours.answers) == 3
    assert multi_window == 20


def test_squad_batch_matches_the_pipeline(squad: tuple[Bundle, Any, list[tuple[str, str]]]) -> None:
    """All 60 at once, windows batched across questions."""
    bundle, reference, cases = squad
    for (question, context), ours in zip(cases, answer_questions(bundle, cases, top_k=3), strict=True):
        assert_same_answers(ours, reference(question, context, False), question)
