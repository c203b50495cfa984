"""The tokenization view model, on a tiny BERT-style WordPiece tokenizer built in the test."""

from __future__ import annotations

import json
import time

import pytest
from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors

from bertdesk.core.errors import BertdeskError
from bertdesk.core.tokens.tokenization import Tokenization, tokenize

SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
VOCAB = [*SPECIALS, "the", "cat", "play", "##ing", "##s", "un", "##play", "##able", "game", ",", "."]


@pytest.fixture(scope="module")
def tiny() -> Tokenizer:
    """An uncased BERT tokenizer (normalizer, pre-tokenizer, WordPiece, [CLS]/[SEP] template) over VOCAB."""
    vocab = {piece: i for i, piece in enumerate(VOCAB)}
    tokenizer = Tokenizer(models.WordPiece(vocab, unk_token="[UNK]"))
    tokenizer.normalizer = normalizers.BertNormalizer(lowercase=True)
    tokenizer.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tokenizer.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]",
        pair="[CLS] $A [SEP] $B:1 [SEP]:1",
        special_tokens=[("[CLS]", vocab["[CLS]"]), ("[SEP]", vocab["[SEP]"])],
    )
    tokenizer.add_special_tokens(SPECIALS)
    return tokenizer


def pieces(result: Tokenization, *, model: bool = False) -> list[str]:
    return [t.piece for t in (result.model_tokens() if model else result.tokens)]


def test_pieces_continuations_and_words(tiny: Tokenizer) -> None:
    text = "The cat PLAYING unplayable games."
    result = tokenize(tiny, text)

    assert pieces(result) == [
        "[CLS]", "the", "cat", "play", "##ing", "un", "##play", "##able", "game", "##s", ".", "[SEP]",
    ]  # fmt: skip
    assert [t.continuation for t in result.tokens] == [p.startswith("##") for p in pieces(result)]
    assert [t.word for t in result.tokens] == [None, 0, 1, 2, 2, 3, 3, 3, 4, 4, 5, None]
    for token in result.tokens[1:-1]:
        assert text[token.start : token.end].lower() == token.piece.removeprefix("##")
        assert (token.segment, token.type_id, token.special, token.unknown) == (0, 0, False, False)
    assert [t.index for t in result.tokens] == list(range(12))
    assert [t.position for t in result.tokens] == list(range(12))
    assert all(t.attention_mask == 1 and not t.truncated for t in result.tokens)


def test_special_and_unknown_tokens(tiny: Tokenizer) -> None:
    text = "the [MASK] xyzing [UNK] cat"
    result = tokenize(tiny, text)

    assert pieces(result) == ["[CLS]", "the", "[MASK]", "[UNK]", "[UNK]", "cat", "[SEP]"]
    cls, sep = result.tokens[0], result.tokens[-1]
    for inserted in (cls, sep):
        assert inserted.special and not inserted.unknown
        assert (inserted.segment, inserted.start, inserted.end, inserted.word) == (None, 0, 0, None)
    mask = result.tokens[2]
    assert mask.special and mask.segment == 0 and text[mask.start : mask.end] == "[MASK]"
    for unknown, source in zip(result.tokens[3:5], ["xyzing", "[UNK]"], strict=True):
        assert unknown.unknown and not unknown.special and not unknown.continuation
        assert text[unknown.start : unknown.end] == source
    assert result.num_unknown == 2


def test_pair_segments_type_ids_and_offsets(tiny: Tokenizer) -> None:
    result = tokenize(tiny, "the cat", "Cat games")

    assert pieces(result) == ["[CLS]", "the", "cat", "[SEP]", "cat", "game", "##s", "[SEP]"]
    assert [t.type_id for t in result.tokens] == [0, 0, 0, 0, 1, 1, 1, 1]
    assert [t.segment for t in result.tokens] == [None, 0, 0, None, 1, 1, 1, None]
    assert [t.word for t in result.tokens] == [None, 0, 1, None, 0, 1, 1, None]
    assert [(t.start, t.end) for t in result.tokens[4:7]] == [(0, 3), (4, 8), (8, 9)]
    assert [t.continuation for t in result.tokens] == [False] * 6 + [True, False]
    assert result.num_words == 4


def test_single_truncation_marks_the_tail(tiny: Tokenizer) -> None:
    result = tokenize(tiny, "the cat plays games", max_length=5)

    assert pieces(result) == ["[CLS]", "the", "cat", "play", "##s", "game", "##s", "[SEP]"]
    assert [t.truncated for t in result.tokens] == [False] * 4 + [True] * 3 + [False]
    assert pieces(result, model=True) == ["[CLS]", "the", "cat", "play", "[SEP]"]
    assert [t.position for t in result.model_tokens()] == list(range(5))
    assert all(t.position == t.index for t in result.tokens if t.truncated)
    assert result.truncated and result.num_tokens == 8
    assert not tokenize(tiny, "the cat plays games", max_length=8).truncated
    assert tokenize(tiny, "the cat plays games", max_length=7).tokens[6].truncated


def test_pair_truncation_is_longest_first(tiny: Tokenizer) -> None:
    # A has 6 tokens; B's 1 token fits in half the budget of 4, so only A is cut.
    result = tokenize(tiny, "the cat plays games", "cat", max_length=7)
    assert pieces(result, model=True) == ["[CLS]", "the", "cat", "play", "[SEP]", "cat", "[SEP]"]

    # A has 6 tokens, B has 4, the budget is 5: both are cut, the odd token going to the longer A.
    result = tokenize(tiny, "the cat plays games", "the cats play", max_length=8)
    assert pieces(result, model=True) == ["[CLS]", "the", "cat", "play", "[SEP]", "the", "cat", "[SEP]"]
    truncated = [(t.segment, t.piece) for t in result.tokens if t.truncated]
    assert truncated == [(0, "##s"), (0, "game"), (0, "##s"), (1, "##s"), (1, "play")]
    assert [t.position for t in result.model_tokens()] == list(range(8))


@pytest.mark.parametrize("pair_words", [None, 1, 2, 3, 5])
def test_truncation_matches_the_rust_tokenizer(tiny: Tokenizer, pair_words: int | None) -> None:
    reference = Tokenizer.from_str(tiny.to_str())
    for text_words in range(6):
        text = " ".join(["cat", "games"] * text_words)
        pair = None if pair_words is None else " ".join(["games"] * pair_words)
        for max_length in range(3, 20):
            reference.enable_truncation(max_length)
            expected = reference.encode(text, pair)
            visible = tokenize(tiny, text, pair, max_length=max_length).model_tokens()
            assert [t.id for t in visible] == expected.ids
            assert [(t.start, t.end) for t in visible] == expected.offsets
            assert [t.type_id for t in visible] == expected.type_ids


def test_counts(tiny: Tokenizer) -> None:
    result = tokenize(tiny, "The cat, xyz playing.")
    assert (result.num_chars, result.num_words, result.num_tokens, result.num_unknown) == (21, 6, 9, 1)
    assert result.tokens_per_word == pytest.approx(7 / 6)

    result = tokenize(tiny, "cat", "unplayable games")
    assert (result.num_chars, result.num_words, result.num_tokens) == (19, 3, 9)
    assert result.tokens_per_word == pytest.approx(6 / 3)


@pytest.mark.parametrize("text", ["", "   \t\n "])
def test_empty_and_whitespace_text(tiny: Tokenizer, text: str) -> None:
    result = tokenize(tiny, text)
    assert pieces(result) == pieces(result, model=True) == ["[CLS]", "[SEP]"]
    assert (result.num_chars, result.num_words, result.num_tokens, result.num_unknown) == (len(text), 0, 2, 0)
    assert result.tokens_per_word == 0.0 and not result.truncated


def test_empty_pair_is_no_pair_but_a_blank_one_is(tiny: Tokenizer) -> None:
    result = tokenize(tiny, "cat", "")
    assert result.pair is None and pieces(result) == ["[CLS]", "cat", "[SEP]"]
    result = tokenize(tiny, "cat", "  ")
    assert pieces(result) == ["[CLS]", "cat", "[SEP]", "[SEP]"]
    assert [t.type_id for t in result.tokens] == [0, 0, 0, 1]


def test_to_dict_is_json_ready(tiny: Tokenizer) -> None:
    result = tokenize(tiny, "the cat plays games", "the cats play", max_length=8)
    data = result.to_dict()

    assert json.loads(json.dumps(data)) == data
    assert data["text"] == result.text and data["pair"] == result.pair and data["truncated"] is True
    assert len(data["tokens"]) == result.num_tokens == 13
    assert data["tokens"][4] == {
        "index": 4, "piece": "##s", "id": VOCAB.index("##s"), "start": 12, "end": 13, "segment": 0,
        "type_id": 0, "position": 4, "attention_mask": 1, "special": False, "unknown": False,
        "continuation": True, "word": 2, "truncated": True,
    }  # fmt: skip
    visible = result.model_tokens()
    assert data["input_ids"] == [t.id for t in visible]
    assert data["type_ids"] == [0] * 5 + [1] * 3
    assert data["attention_mask"] == [1] * 8
    assert data["special_tokens_mask"] == [1, 0, 0, 0, 1, 0, 0, 1]
    assert data["offsets"] == [[t.start, t.end] for t in visible]


@pytest.mark.parametrize(
    ("text", "pair", "max_length", "message"),
    [
        (None, None, 512, "must be a string, not NoneType"),
        (b"cat", None, 512, "must be a string, not bytes"),
        ("cat", ["cat"], 512, "must be a string, not list"),
        ("cat", None, 1, "at least 2"),
        ("cat", "cat", 2, "at least 3"),
        ("cat", None, "512", "whole number"),
    ],
)
def test_bad_input_is_a_user_error(tiny: Tokenizer, text, pair, max_length, message: str) -> None:
    with pytest.raises(BertdeskError, match=message):
        tokenize(tiny, text, pair, max_length=max_length)


def test_a_truncating_tokenizer_is_refused(tiny: Tokenizer) -> None:
    truncating = Tokenizer.from_str(tiny.to_str())
    truncating.enable_truncation(8)
    with pytest.raises(ValueError, match="truncation off"):
        tokenize(truncating, "cat")


def test_long_text_is_fast_and_complete(tiny: Tokenizer) -> None:
    text = " ".join(["The cat, playing unplayable games, plays."] * 10_000)  # 60,000 words
    started = time.perf_counter()
    result = tokenize(tiny, text)
    elapsed = time.perf_counter() - started

    assert result.num_words == 90_000  # the pre-tokenizer splits "," and "." off as words
    assert result.num_tokens == len(tiny.encode(text).ids) == 2 + 140_000
    assert len(result.model_tokens()) == 512 and result.model_tokens()[-1].piece == "[SEP]"
    assert result.model_tokens()[-1].position == 511 and result.tokens[-1].index == 140_001
    assert elapsed < 30, f"tokenizing 60,000 words took {elapsed:.1f} s"  # a hang guard (~1 s here), not a target


def test_a_cancelled_handle_stops_tokenizing_and_progress_rises(tiny: Tokenizer) -> None:
    from bertdesk.core.errors import JobCancelled
    from bertdesk.core.jobs import JobHandle

    text = "hello world " * 10_000
    seen: list[float] = []
    tokenize(tiny, text, handle=JobHandle(lambda f, _t: seen.append(f)))
    assert len(seen) > 3 and seen == sorted(seen)

    calls = []

    def cancel_midway(fraction: float, _text: str) -> None:
        calls.append(fraction)
        if fraction > 0.2:
            handle.cancel()

    handle = JobHandle(cancel_midway)
    with pytest.raises(JobCancelled):
        tokenize(tiny, text, handle=handle)
    assert max(calls) < 0.5, "it must stop soon after the cancel, not finish the text"
