"""The one sentence splitter: sentence ends, line ends and the offsets sentence retrieval highlights."""

from __future__ import annotations

from bertdesk.core.qa import sentence_ranking
from bertdesk.core.similarity.sentences import split_sentences


def test_sentences_keep_their_offsets() -> None:
    text = "Dr. Smith went home. He slept!  \"Why?\" she asked. See e.g. this one\nA line without a stop\n\n  last"
    sentences = split_sentences(text)
    assert [s.text for s in sentences] == [
        "Dr.", "Smith went home.", "He slept!", "\"Why?\" she asked.", "See e.g. this one", "A line without a stop",
        "last",
    ]
    assert all(text[s.start : s.end] == s.text for s in sentences)
    assert split_sentences(" \n ") == []


def test_a_line_break_or_a_sentence_end_ends_a_sentence() -> None:
    """One sentence a line, as the Similarity tab asks, or several on one line; a stop before a lower-case word
    ("Three! four") ends none, however many lines there are."""
    texts = [s.text for s in split_sentences("a cat.\n\n  a dog \nthe end")]
    assert texts == ["a cat.", "a dog", "the end"]
    assert [s.text for s in split_sentences("One. Two?  Three! four")] == ["One.", "Two?", "Three! four"]
    assert [s.text for s in split_sentences("One. Two.\nThree… Four")] == ["One.", "Two.", "Three…", "Four"]
    assert split_sentences("  \n") == []


def test_question_answering_splits_with_the_same_function() -> None:
    assert sentence_ranking.split_sentences is split_sentences
