"""qa_mode: span QA with a question-answering model, sentence retrieval with any other."""

from __future__ import annotations

from pathlib import Path

import pytest

from bertdesk.core.bundles.bundle import Bundle
from bertdesk.core.conversion.convert import convert_checkpoint
from bertdesk.core.qa import qa_mode
from tests.checkpoints import make_checkpoint


@pytest.fixture(scope="module")
def tiny_qa_bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("tiny-qa-mode")
    return convert_checkpoint(make_checkpoint(root / "ckpt", "bert", "qa"), root / "tiny-qa")


def test_a_question_answering_model_answers_with_spans(tiny_qa_bundle: Path) -> None:
    assert qa_mode(Bundle(tiny_qa_bundle)) == "span"


def test_an_embedding_model_retrieves_sentences(tiny_bundle: Path) -> None:
    assert qa_mode(Bundle(tiny_bundle)) == "sentences"
