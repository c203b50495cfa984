"""split_passages: whole sentences, overlapping neighbours, exact offsets, bounded length, on any text."""

from __future__ import annotations

import time
from itertools import pairwise

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bertdesk.core.library.format_types import Heading
from bertdesk.core.library.passages import PassageSpan, guess_headings, split_passages

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


_HEADINGS = st.lists(st.tuples(st.integers(min_value=-5, max_value=700), st.integers(min_value=0, max_value=80),
                               st.integers(min_value=0, max_value=6)), max_size=6)


@given(text=st.one_of(st.text(max_size=600), _PROSE), target=st.integers(min_value=2, max_value=300),
       overlap=st.integers(min_value=0, max_value=3), marks=_HEADINGS)
def test_passage_properties_on_any_text(text, target, overlap, marks):
    headings = [Heading(start, start + length, level) for start, length, level in marks]
    spans = split_passages(text, headings=headings, target_chars=target, overlap_sentences=overlap)
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


_BODY = " ".join(f"Body sentence {n} explains the first topic in some detail." for n in range(9))


def test_a_heading_starts_the_passage_it_introduces():
    text = f"{_BODY}\nInstalling the tool\nRun the installer and accept the licence. Then restart the machine."
    start = text.index("Installing")
    heading = Heading(start, start + len("Installing the tool"), 2)
    passages = _texts(text, split_passages(text, headings=[heading], target_chars=700))
    assert passages[-1].startswith("Installing the tool\nRun the installer")
    assert not any("Installing" in passage for passage in passages[:-1])  # the body before holds no part of it


def test_without_the_heading_the_same_text_straddles_the_sections():
    text = f"{_BODY} Installing the tool is simple. Run the installer and accept the licence."
    passages = _texts(text, split_passages(text, target_chars=700))
    assert any("first topic" in passage and "Installing" in passage for passage in passages)


def test_an_faq_question_line_stays_with_its_answer():
    questions = [(f"How do I reset setting {n}?", f"Open the preferences and press reset {n}. It takes a second.")
                 for n in range(8)]
    text = "\n\n".join(f"{question}\n{answer}" for question, answer in questions)
    passages = _texts(text, split_passages(text, target_chars=200))
    for question, answer in questions:
        assert any(passage.startswith(question) and answer in passage for passage in passages), question
    assert not any(passage.rstrip().endswith("?") for passage in passages)


def test_a_question_heading_at_the_end_of_a_full_passage_moves_to_the_next():
    filler = " ".join(f"Filler sentence {n} is here." for n in range(6))
    text = f"{filler}\n\nWhy is the sky blue?\nLight scatters off the air more at short wavelengths."
    for target in range(80, 260, 7):  # from the question and its answer together (75 characters)
        passages = _texts(text, split_passages(text, target_chars=target))
        holding = [passage for passage in passages if "Why is the sky blue?" in passage]
        assert holding and all("Light scatters" in passage for passage in holding), target


def test_guessed_headings_are_short_lines_before_a_paragraph():
    text = ("Getting started\nThis chapter explains the first steps of the setup.\n"
            "a wrapped line of prose that goes on\nand ends here.\n\nWhat is new?\nEverything.\n"
            "A list:\nItem one\nItem two")
    guessed = [text[h.start:h.end] for h in guess_headings(text)]
    assert guessed == ["Getting started", "What is new?"]


def test_heading_offsets_past_the_page_are_clipped_and_everything_is_still_covered():
    text = "Title\nSome body text. More body text."
    spans = split_passages(text, headings=[Heading(0, 5, 1), Heading(30, 999, 2), Heading(-4, 2, 1)],
                           target_chars=20, overlap_sentences=0)
    covered = "".join(text[s.start:s.end] for s in spans)
    assert covered.replace(" ", "").replace("\n", "") == text.replace(" ", "").replace("\n", "")


def test_the_first_line_of_a_wrapped_pdf_paragraph_is_no_heading():
    text = ("The daemon reads its settings once at start.\n"
            "Changing the configuration file while it runs has no effect until the service is\n"
            "restarted by the administrator with the usual command on the host.")
    assert guess_headings(text) == []


@pytest.mark.parametrize("line", ["724 GNU Octave (version 7.3.0)", "[C, position, errmsg] = textscan (. . .)",
                                  "⇒ p =", "#! /bin/octave -qf", "Chapter 31: Signal Processing 851", "2 (GLP_ESING)"])
def test_code_formulas_and_running_headers_are_not_guessed_headings(line):
    text = f"A sentence ends here.\n{line}\nThe text that follows it runs on for a good while more."
    assert guess_headings(text) == []


@pytest.mark.parametrize("line", ["15.2.1.3 Two-dimensional Geometric Shapes", "Citing Octave in Publications",
                                  "Example 4: pcg with a function as preconditioner"])
def test_numbered_and_plain_titles_are_guessed_headings(line):
    text = f"A sentence ends here.\n{line}\nThe text that follows it runs on for a good while more, and more again."
    assert [text[h.start:h.end] for h in guess_headings(text)] == [line]


def test_with_the_extractors_headings_only_question_lines_are_guessed_besides():
    text = "Setup\nThe text that follows it runs on for a while.\n\nWhy is it slow?\nIt is not. Really."
    given = [Heading(0, 5, 1)]
    starts = [text[s.start:s.end].split("\n")[0] for s in split_passages(text, headings=given, target_chars=200)]
    assert starts == ["Setup", "Why is it slow?"]
