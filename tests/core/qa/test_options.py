"""QAOptions: the one definition of the QA settings, their defaults and limits, and the one way to build them
from what a user set (the command line's arguments, the Ask tab's boxes and its saved settings)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from bertdesk.core.errors import BertdeskError
from bertdesk.core.qa import QAOptions


def test_the_defaults_are_the_pipeline_s() -> None:
    options = QAOptions()
    assert (options.top_k, options.max_seq_len, options.doc_stride, options.max_answer_len) == (1, 384, 128, 15)
    assert (options.max_question_len, options.with_null) == (64, False)


@pytest.mark.parametrize(("values", "message"), [
    ({"top_k": 0}, "top_k must be a whole number of at least 1, got 0"),
    ({"max_seq_len": True}, "max_seq_len must be a whole number of at least 1, got True"),
    ({"max_answer_len": 2.5}, "max_answer_len must be a whole number of at least 1, got 2.5"),
    ({"doc_stride": -1}, "doc_stride must be a whole number of at least 0, got -1"),
    ({"null_threshold": math.nan}, "null_threshold must be a finite number, got nan"),
    ({"null_threshold": "0.5"}, "null_threshold must be a finite number, got '0.5'"),
    ({"handle_impossible_answer": 1}, "handle_impossible_answer must be True or False, got 1"),
])
def test_a_bad_value_is_an_error_naming_the_setting(values: dict, message: str) -> None:
    with pytest.raises(BertdeskError) as raised:
        QAOptions.from_user(values)
    assert str(raised.value) == message
    with pytest.raises(BertdeskError):
        QAOptions(**values)


def test_from_user_reads_the_fields_by_name_and_a_threshold_lets_no_answer_compete() -> None:
    given = {"top_k": 3, "doc_stride": 0, "null_threshold": None, "question": "ignored", "model": None}
    assert QAOptions.from_user(given) == QAOptions(top_k=3, doc_stride=0)
    with_null = QAOptions.from_user({"null_threshold": np.float32(-0.25)})
    assert with_null.with_null and with_null.null_threshold == -0.25


def test_with_defaults_a_bad_or_missing_value_keeps_its_default() -> None:
    defaults = QAOptions(top_k=3, null_threshold=0.0)
    saved = {"top_k": "many", "doc_stride": True, "max_seq_len": 0, "max_answer_len": 30, "null_threshold": math.inf}
    assert QAOptions.from_user(saved, defaults) == QAOptions(top_k=3, max_answer_len=30, null_threshold=0.0)
    assert QAOptions.from_user({}, defaults) == defaults


def test_a_window_is_capped_at_the_model_s_positions() -> None:
    assert QAOptions(max_seq_len=384).window_len(128) == 128
    assert QAOptions(max_seq_len=64).window_len(512) == 64
