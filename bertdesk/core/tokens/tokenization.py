"""The tokenization view model: every token of a text (or text pair) and what the model does with it.

The full, untruncated token list is kept so a view can show what falls beyond the model's maximum length; the
tokens the model actually sees are the same ones transformers' fast tokenizer gives with `truncation=True`.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from tokenizers import Tokenizer

from bertdesk.core.bundles.tokenizer import encode_one
from bertdesk.core.errors import BertdeskError
from bertdesk.core.jobs import JobHandle, ensure_handle


@dataclass(frozen=True, slots=True)
class Token:
    """One token of the full (untruncated) sequence."""

    index: int  # position in the full (untruncated) sequence
    piece: str  # e.g. "[CLS]", "play", "##ing"
    id: int
    start: int  # character offsets into the segment the token comes from; 0, 0 for inserted special tokens
    end: int
    segment: int | None  # 0 = text (segment A), 1 = pair (segment B), None for inserted special tokens
    type_id: int  # token_type_id as the model sees it
    # The position id the model gives the token; a truncated token, which the model never sees, keeps the one
    # it would have without truncation (== index).
    position: int
    attention_mask: int
    special: bool  # a special token of the vocabulary but [UNK]: [CLS], [SEP], [PAD], [MASK]
    unknown: bool
    continuation: bool  # a piece joined to the previous one of the same word ("##ing")
    word: int | None  # the pre-tokenizer word index within its segment
    truncated: bool  # beyond the model's maximum length: the model never sees it


_TOKEN_FIELDS = tuple(f.name for f in fields(Token))
_CHECK_EVERY = 4096  # tokens between cancellation checks: ~20 ms of the loop below


@dataclass(frozen=True)
class Tokenization:
    """A text (and optional pair) cut into tokens, with counts for display."""

    text: str
    pair: str | None
    tokens: list[Token]  # all tokens, untruncated, in model order: [CLS] A [SEP] (B [SEP])
    max_length: int
    truncated: bool  # anything was cut at max_length
    num_chars: int  # characters of text and pair together
    num_words: int  # distinct pre-tokenizer words across segments
    num_tokens: int  # all tokens, untruncated, special tokens included
    num_unknown: int
    tokens_per_word: float  # tokens from the input (no inserted special tokens) per word; 0.0 without words

    def model_tokens(self) -> list[Token]:
        """The tokens the model sees after truncation, the inserted special tokens included."""
        return [token for token in self.tokens if not token.truncated]

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict: every field, each token as a dict, and the model inputs as parallel lists."""
        visible = self.model_tokens()
        return {
            "text": self.text,
            "pair": self.pair,
            "max_length": self.max_length,
            "truncated": self.truncated,
            "num_chars": self.num_chars,
            "num_words": self.num_words,
            "num_tokens": self.num_tokens,
            "num_unknown": self.num_unknown,
            "tokens_per_word": self.tokens_per_word,
            "tokens": [{name: getattr(token, name) for name in _TOKEN_FIELDS} for token in self.tokens],
            "input_ids": [token.id for token in visible],
            "type_ids": [token.type_id for token in visible],
            "attention_mask": [token.attention_mask for token in visible],
            "special_tokens_mask": [int(token.segment is None) for token in visible],
            "offsets": [[token.start, token.end] for token in visible],
        }


def tokenize(
    tokenizer: Tokenizer,
    text: str,
    pair: str | None = None,
    *,
    max_length: int = 512,
    handle: JobHandle | None = None,
) -> Tokenization:
    """Tokenize `text` (and `pair`) without truncation, marking the tokens beyond `max_length`.

    `tokenizer` must have padding and truncation off, as `load_tokenizer` returns it. As in transformers, an
    empty `pair` means no pair, and truncation is transformers' default: a plain cut for one text,
    "longest_first" for a pair. With a `handle`, progress is reported and a cancelled job stops between tokens.
    """
    handle = ensure_handle(handle)
    if not isinstance(text, str):
        raise BertdeskError(f"The text to tokenize must be a string, not {type(text).__name__}.")
    if pair is not None and not isinstance(pair, str):
        raise BertdeskError(f"The second text of a pair must be a string, not {type(pair).__name__}.")
    pair = pair or None
    num_special = tokenizer.num_special_tokens_to_add(pair is not None)
    if isinstance(max_length, bool) or not isinstance(max_length, int) or max_length < num_special:
        raise BertdeskError(
            f"The maximum length must be a whole number of at least {num_special}, not {max_length!r}."
        )
    if tokenizer.truncation is not None or tokenizer.padding is not None:
        raise ValueError("tokenize() needs a tokenizer with padding and truncation off (see load_tokenizer)")

    handle.progress(0.0, "tokenizing")
    encoding = encode_one(tokenizer, text, pair)
    handle.check()
    segments = encoding.sequence_ids
    kept = _kept_lengths(segments.count(0), segments.count(1), max_length - num_special)
    unk_id = tokenizer.token_to_id(getattr(tokenizer.model, "unk_token", None) or "[UNK]")
    special_ids = {i for i, added in tokenizer.get_added_tokens_decoder().items() if added.special} - {unk_id}

    tokens: list[Token] = []
    append = tokens.append
    total = len(segments)
    seen = [0, 0]  # tokens of each segment so far
    position = 0
    num_unknown = 0
    previous: tuple[int | None, int | None] = (None, None)
    for index, piece, id_, (start, end), segment, word, type_id, mask in zip(
        range(total),
        encoding.tokens,
        encoding.ids,
        encoding.offsets,
        segments,
        encoding.word_ids,
        encoding.type_ids,
        encoding.attention_mask,
        strict=True,
    ):
        if index % _CHECK_EVERY == 0 and index:
            handle.check()
            handle.progress(index / total, f"{index:,} of {total:,} tokens")
        truncated = False
        if segment is not None:
            truncated = seen[segment] >= kept[segment]
            seen[segment] += 1
        unknown = id_ == unk_id
        num_unknown += unknown
        current = (segment, word)
        # Positional, in the order Token declares its fields: twice as fast as keywords on 200,000 tokens.
        append(Token(index, piece, id_, start, end, segment, type_id, index if truncated else position, mask,
                     id_ in special_ids, unknown, word is not None and current == previous, word, truncated))
        position += not truncated
        previous = current

    num_words = len({(t.segment, t.word) for t in tokens if t.word is not None})
    return Tokenization(
        text=text,
        pair=pair,
        tokens=tokens,
        max_length=max_length,
        truncated=position < len(tokens),
        num_chars=len(text) + len(pair or ""),
        num_words=num_words,
        num_tokens=len(tokens),
        num_unknown=num_unknown,
        tokens_per_word=sum(seen) / num_words if num_words else 0.0,
    )


def _kept_lengths(len_a: int, len_b: int, budget: int) -> tuple[int, int]:
    """How many tokens of segments A and B survive truncation to `budget` (special tokens already taken off).

    Mirrors the Rust `tokenizers` "longest_first" strategy that transformers' fast tokenizers run: the
    shorter segment keeps everything if it fits in half the budget, otherwise both get half, the odd token
    going to the longer one (to B when they tie). A single segment (len_b == 0) comes out cut plainly.
    """
    if len_a + len_b <= budget:
        return len_a, len_b
    short = min(len_a, len_b)
    short, long_ = (short, budget - short) if 2 * short <= budget else (budget // 2, budget - budget // 2)
    return (long_, short) if len_a > len_b else (short, long_)
