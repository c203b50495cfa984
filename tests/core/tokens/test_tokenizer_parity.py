"""Parity of the tokenization view model with transformers' fast tokenizer on a real BERT checkpoint."""

from __future__ import annotations

import os
import random
from typing import Any

import pytest

from bertdesk.core.bundles.tokenizer import load_tokenizer
from bertdesk.core.tokens.tokenization import tokenize
from tests.conftest import SHARED

os.environ["HF_HUB_OFFLINE"] = "1"  # transformers is imported lazily, after this

FIXTURE = SHARED / "fixtures" / "minilm-l6-squad"

WORDS = [
    "The", "quick", "brown", "fox", "jumps", "over", "the", "lazy", "dog.", "Unbelievably,", "tokenization",
    "café", "naïve", "Ångström", "漢字かな交じり文", "中文", "👍🏽", "🇫🇷", "[MASK]", "don't", "e-mail",
    "3.14",
]  # fmt: skip

TEXTS = {
    "english": "The quick brown fox jumps over the lazy dog; unbelievably, it wasn't tokenized!",
    "accents": "Café naïve Ångström, résumé — e\u0301 (combining) and İstanbul straße.",
    "cjk": "漢字かな交じり文 と 中文 mixed with English.",
    "emoji": "Nice 👍🏽 from 🇫🇷 and 👨‍👩‍👧!",
    "long-word": "before " + "abcdefghij" * 30 + " after",
    "unknown": "☃ ⌘ 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 ｆｕｌｌｗｉｄｔｈ xyz\u200bzy \x00 [UNK]",
    "specials": "Fill the [MASK] and [mask], not [SEP] or [CLS].",
    "empty": "",
    "whitespace": " \t\n\u00a0 ",
    "10k-words": " ".join(random.Random(0).choices(WORDS, k=10_000)),
}

PAIRS = [
    ("english", "cjk"),
    ("emoji", "accents"),
    ("empty", "english"),
    ("english", "empty"),
    ("whitespace", "specials"),
    ("10k-words", "english"),
    ("english", "10k-words"),
    ("10k-words", "unknown"),
]


@pytest.fixture(scope="module")
def both() -> tuple[Any, Any]:
    """Our tokenizer and transformers' fast tokenizer for the same checkpoint."""
    if not SHARED.is_dir():
        pytest.skip(f"the shared fixtures folder {SHARED} is absent")
    from transformers import AutoTokenizer

    reference = AutoTokenizer.from_pretrained(FIXTURE, local_files_only=True)
    assert reference.is_fast
    return load_tokenizer(FIXTURE / "tokenizer.json"), reference


def reference_view(reference: Any, text: str, pair: str | None, max_length: int | None) -> dict[str, list]:
    encoding = reference(
        text,
        pair,
        truncation=max_length is not None,
        max_length=max_length,
        return_offsets_mapping=True,
        return_special_tokens_mask=True,
    )
    return {
        "tokens": encoding.tokens(),
        "input_ids": encoding["input_ids"],
        "offsets": [list(offset) for offset in encoding["offset_mapping"]],
        "type_ids": encoding["token_type_ids"],
        "attention_mask": encoding["attention_mask"],
        "special_tokens_mask": encoding["special_tokens_mask"],
        "segments": encoding.sequence_ids(),
        "words": encoding.word_ids(),
    }


MODEL_INPUTS = ("input_ids", "offsets", "type_ids", "attention_mask", "special_tokens_mask")


def our_view(tokenizer: Any, text: str, pair: str | None, max_length: int | None) -> dict[str, list]:
    result = tokenize(tokenizer, text, pair, max_length=max_length or 10**9)
    data = result.to_dict()
    visible = result.model_tokens()
    return {
        "tokens": [t.piece for t in visible],
        **{key: data[key] for key in MODEL_INPUTS},
        "segments": [t.segment for t in visible],
        "words": [t.word for t in visible],
    }


@pytest.mark.parametrize("max_length", [None, 512, 16])
@pytest.mark.parametrize("name", TEXTS)
def test_single_text_matches_transformers(both: tuple[Any, Any], name: str, max_length: int | None) -> None:
    ours, reference = both
    text = TEXTS[name]
    assert our_view(ours, text, None, max_length) == reference_view(reference, text, None, max_length)


@pytest.mark.parametrize("max_length", [None, 512, 16])
@pytest.mark.parametrize(("text", "pair"), PAIRS, ids=["+".join(p) for p in PAIRS])
def test_pair_matches_transformers(
    both: tuple[Any, Any], text: str, pair: str, max_length: int | None
) -> None:
    ours, reference = both
    assert our_view(ours, TEXTS[text], TEXTS[pair], max_length) == reference_view(
        reference, TEXTS[text], TEXTS[pair], max_length
    )


def test_the_corpus_exercises_unknowns_accents_and_truncation(both: tuple[Any, Any]) -> None:
    ours, _ = both
    unknown = tokenize(ours, TEXTS["unknown"])
    assert unknown.num_unknown >= 5 and not any(t.special for t in unknown.tokens if t.unknown)
    long_word = tokenize(ours, TEXTS["long-word"])
    assert [t.piece for t in long_word.tokens] == ["[CLS]", "before", "[UNK]", "after", "[SEP]"]
    assert "cafe" in [t.piece for t in tokenize(ours, TEXTS["accents"]).tokens]

    long_text = tokenize(ours, TEXTS["10k-words"])
    assert long_text.truncated and long_text.num_tokens > 10_000
    assert len(long_text.model_tokens()) == 512
    long_pair = tokenize(ours, TEXTS["10k-words"], TEXTS["english"])
    assert {t.segment for t in long_pair.tokens if t.truncated} == {0}
    both_cut = tokenize(ours, TEXTS["10k-words"], TEXTS["10k-words"])
    assert {t.segment for t in both_cut.tokens if t.truncated} == {0, 1}


def test_longest_first_truncation_grid_matches_transformers(both: tuple[Any, Any]) -> None:
    """Every split of the budget between two short segments, around every boundary of the Rust arithmetic."""
    ours, reference = both
    for text_words in range(9):
        for pair_words in range(1, 9):
            text = " ".join(["alpha"] * text_words)
            pair = " ".join(["unbelievably"] * pair_words)  # two tokens a word
            for max_length in range(3, 3 + text_words + 2 * pair_words + 2):
                assert our_view(ours, text, pair, max_length) == reference_view(
                    reference, text, pair, max_length
                )
    for max_length in range(2, 14):
        assert our_view(ours, "alpha " * 10, None, max_length) == reference_view(
            reference, "alpha " * 10, None, max_length
        )
