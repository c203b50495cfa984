"""split_passages: whole sentences, overlapping neighbours, exact offsets, bounded length, on any text."""

from __future__ import annotations

import time
from itertools import pairwise

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bertdesk.core.library.passages import PassageSpan, split_passages

#: A hang guard, not a speed target: the quadratic versions took 26–220 s, the linear ones take milliseconds.
HANG_GUARD_S = 20.0


def _texts(text: str, spans: list[PassageSpan]) -> list[str]:
    return [text[span.start:span.end] for span in spans]


def test_sentences_are_never_cut_and_neighbours_share_one():
    sentences = [f"Sentence number {n} says something about item {n}." for n in range(12)]
    text = " ".join(sentences)
    spans = split_passages(text, target_chars=150)
    passages = _texts(text, spans)
    assert len(passages) > 3
    for passage in passages:
        assert passage.startswith("Sentence number ") and passage.endswith(".")
        assert len(passage) <= 150
    for before, after in pairwise(passages):
        last_sentence = "Sentence" + before.rsplit("Sentence", 1)[1]
        assert after.startswith(last_sentence)
    assert passages[-1].endswith(sentences[-1])


def test_no_overlap_when_asked():
    text = " ".join(f"Short sentence {n}." for n in range(20))
    spans = split_passages(text, target_chars=60, overlap_sentences=0)
    assert all(a.end < b.start for a, b in pairwise(spans))


def test_a_stop_before_a_lower_case_word_does_not_end_a_sentence():
    text = "See e.g. the table or vs. the chart. It was fine."
    spans = split_passages(text, target_chars=40, overlap_sentences=0)
    assert _texts(text, spans) == ["See e.g. the table or vs. the chart.", "It was fine."]


def test_a_blank_line_ends_a_sentence_and_a_line_wrap_does_not():
    text = "A heading without a stop\n\nA sentence that wraps\nonto the next line. Then another."
    spans = split_passages(text, target_chars=45, overlap_sentences=0)
    assert _texts(text, spans) == ["A heading without a stop", "A sentence that wraps\nonto the next line.",
                                   "Then another."]


def test_an_over_long_sentence_is_cut_at_word_boundaries():
    words = [f"word{n:03d}" for n in range(300)]
    text = " ".join(words)
    spans = split_passages(text, target_chars=100)
    for passage in _texts(text, spans):
        assert len(passage) <= 100
        assert all(piece in words for piece in passage.split())
    covered = {word for passage in _texts(text, spans) for word in passage.split()}
    assert covered == set(words)


def test_text_without_spaces_is_cut_anyway():
    text = "字" * 1000 + "。" + "x" * 500
    spans = split_passages(text, target_chars=100)
    assert all(1 <= span.end - span.start <= 100 for span in spans)
    assert "".join(text[s.start:s.end] for s in split_passages(text, target_chars=100, overlap_sentences=0)) == text


def test_cjk_stops_end_sentences():
    text = "今日は晴れです。明日は雨です。"
    spans = split_passages(text, target_chars=8, overlap_sentences=0)
    assert _texts(text, spans) == ["今日は晴れです。", "明日は雨です。"]


@pytest.mark.parametrize("text", ["." * 50_000 + " a", "!" * 30_000 + '"' * 30_000 + " a", "Contents" + " ." * 50_000])
def test_long_runs_of_stops_split_in_linear_time(text):
    started = time.perf_counter()
    spans = split_passages(text)
    assert time.perf_counter() - started < HANG_GUARD_S
    assert spans and spans[-1].end == len(text)


@pytest.mark.parametrize("text", ["", " ", "\n\n \t\u3000\u2028 "])
def test_whitespace_pages_give_no_passages(text):
    assert split_passages(text) == []


def test_target_must_allow_a_character():
    with pytest.raises(ValueError):
        split_passages("text", target_chars=1)


_PROSE = st.lists(st.sampled_from(["The", "cat", "sat.", "e.g.", "Why?", "“Yes!”", "\n", "\n\n", "  ", "a", "Zoë",
                                   "…", "。", "東京", "x" * 40, "\t", "(see)."]), max_size=120).map(" ".join)


@given(text=st.one_of(st.text(max_size=600), _PROSE), target=st.integers(min_value=2, max_value=300),
       overlap=st.integers(min_value=0, max_value=3))
def test_passage_properties_on_any_text(text, target, overlap):
    spans = split_passages(text, target_chars=target, overlap_sentences=overlap)
    covered = [False] * len(text)
    for span in spans:
        assert 0 <= span.start < span.end <= len(text)
        passage = text[span.start:span.end]
        assert passage.strip() and passage == passage.strip()
        assert len(passage) <= 2 * target
        for index in range(span.start, span.end):
            covered[index] = True
    assert all(a.start < b.start and a.end < b.end for a, b in pairwise(spans))
    assert all(covered[index] for index, char in enumerate(text) if not char.isspace())
    if overlap == 0:
        assert all(a.end <= b.start for a, b in pairwise(spans))
