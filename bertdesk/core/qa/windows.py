"""A question and a context of any length → overlapping model windows, exactly as transformers' QA pipeline cuts them.

The pipeline asks the fast tokenizer for `truncation="only_second"` with a stride and overflowing tokens. That is
question and context encoded on their own, the context cut into slices of the room the question leaves, each slice
starting `room - stride` tokens after the previous one until one reaches the end, and every slice put into the pair
template (`[CLS] question [SEP] slice [SEP]`). Doing it here from one encoding of the context keeps a 60,000-word text
to one tokenizer pass instead of one Encoding per window.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from tokenizers import Encoding, Tokenizer

from bertdesk.core.errors import BertdeskError, BundleError


@dataclass(frozen=True)
class PairTemplate:
    """The special tokens the tokenizer's post-processor puts around and between a pair, with segment ids."""

    prefix: tuple[tuple[int, int], ...]  # (id, type id) before the question
    middle: tuple[tuple[int, int], ...]  # between question and context
    suffix: tuple[tuple[int, int], ...]  # after the context
    question_type: int
    context_type: int

    @property
    def num_special(self) -> int:
        """How many special tokens a pair gets."""
        return len(self.prefix) + len(self.middle) + len(self.suffix)


def pair_template(tokenizer: Tokenizer) -> PairTemplate:
    """Read the pair template off the tokenizer by encoding a probe pair."""
    probe = tokenizer.encode_batch([("a", "b")])[0]
    sequence_ids = probe.sequence_ids
    first = [i for i, s in enumerate(sequence_ids) if s == 0]
    second = [i for i, s in enumerate(sequence_ids) if s == 1]
    if not first or not second or first[-1] >= second[0]:
        raise BundleError("the tokenizer does not put a text pair in question-then-context order")
    specials = [(probe.ids[i], probe.type_ids[i]) for i in range(len(probe.ids))]
    return PairTemplate(
        prefix=tuple(specials[: first[0]]),
        middle=tuple(specials[first[-1] + 1 : second[0]]),
        suffix=tuple(specials[second[-1] + 1 :]),
        question_type=probe.type_ids[first[0]],
        context_type=probe.type_ids[second[0]],
    )


@dataclass(frozen=True)
class TokenizedText:
    """One text's tokens without special tokens: ids, character offsets, and word indices (-1: none)."""

    ids: np.ndarray
    offsets: np.ndarray  # (n, 2)
    words: np.ndarray

    @classmethod
    def from_encoding(cls, encoding: Encoding, limit: int | None = None) -> TokenizedText:
        """The first `limit` tokens (all if None) of an encoding made without special tokens."""
        n = len(encoding.ids) if limit is None else min(limit, len(encoding.ids))
        words = [-1 if w is None else w for w in encoding.word_ids[:n]]
        return cls(
            np.asarray(encoding.ids[:n], np.int64),
            np.asarray(encoding.offsets[:n], np.int64).reshape(n, 2),
            np.asarray(words, np.int64),
        )

    def __len__(self) -> int:
        return len(self.ids)


@dataclass(frozen=True)
class Window:
    """One model input: the template around the question and context tokens `token_start..token_end-1`."""

    index: int
    token_start: int
    token_end: int
    input_ids: np.ndarray
    token_type_ids: np.ndarray
    p_mask: np.ndarray  # 1 where a token cannot be in the answer, as the pipeline's p_mask
    question_position: int
    context_position: int
    question: TokenizedText
    context: TokenizedText

    def __len__(self) -> int:
        return len(self.input_ids)

    def char_span(self, start: int, end: int) -> tuple[int, int]:
        """The pipeline's `get_indices` with word alignment for window positions `start`..`end` (inclusive): the
        whole words they fall in, or, where a position has no word in the context, the tokens' own offsets."""
        start_word, end_word = self._word(start), self._word(end)
        words = self.context.words[self.token_start : self.token_end]
        start_hits = np.flatnonzero(words == start_word) if start_word >= 0 else ()
        end_hits = np.flatnonzero(words == end_word) if end_word >= 0 else ()
        if len(start_hits) and len(end_hits):
            offsets = self.context.offsets[self.token_start : self.token_end]
            return int(offsets[start_hits[0], 0]), int(offsets[end_hits[-1], 1])
        return int(self._offsets(start)[0]), int(self._offsets(end)[1])

    def _locate(self, position: int) -> tuple[TokenizedText | None, int]:
        if self.question_position <= position < self.question_position + len(self.question):
            return self.question, position - self.question_position
        if self.context_position <= position < self.context_position + self.token_end - self.token_start:
            return self.context, self.token_start + position - self.context_position
        return None, 0

    def _word(self, position: int) -> int:
        text, index = self._locate(position)
        return -1 if text is None else int(text.words[index])

    def _offsets(self, position: int) -> tuple[int, int]:
        text, index = self._locate(position)
        return (0, 0) if text is None else (int(text.offsets[index, 0]), int(text.offsets[index, 1]))


def context_slices(context_tokens: int, room: int, stride: int) -> list[tuple[int, int]]:
    """[start, stop) token ranges of the context per window: the tokenizer's overflow with stride."""
    if context_tokens <= room:
        return [(0, context_tokens)]
    step = room - stride
    slices = []
    for start in range(0, context_tokens, step):
        stop = min(start + room, context_tokens)
        slices.append((start, stop))
        if stop == context_tokens:
            break
    return slices


def make_windows(
    template: PairTemplate,
    question: TokenizedText,
    context: TokenizedText,
    *,
    max_seq_len: int,
    doc_stride: int,
    cls_id: int | None,
) -> list[Window]:
    """Every window of a question over a context, in context order."""
    room = max_seq_len - template.num_special - len(question)
    fits = len(question) + len(context) + template.num_special <= max_seq_len
    if not fits and room <= 0:
        raise BertdeskError(
            f"the question ({len(question)} tokens) leaves no room for the context in a window of {max_seq_len} "
            "tokens: shorten the question or raise max_seq_len"
        )
    if not fits and doc_stride >= room:
        raise BertdeskError(
            f"doc_stride {doc_stride} must be smaller than the {room} context tokens a window holds beside this "
            f"question (max_seq_len {max_seq_len})"
        )
    prefix_ids = [i for i, _ in template.prefix]
    middle_ids = [i for i, _ in template.middle]
    suffix_ids = [i for i, _ in template.suffix]
    question_position = len(prefix_ids)
    context_position = question_position + len(question) + len(middle_ids)
    windows = []
    for index, (start, stop) in enumerate(context_slices(len(context), max(room, 1), doc_stride)):
        ids = np.concatenate([prefix_ids, question.ids, middle_ids, context.ids[start:stop], suffix_ids])
        types = np.concatenate([
            [t for _, t in template.prefix], np.full(len(question), template.question_type),
            [t for _, t in template.middle], np.full(stop - start, template.context_type),
            [t for _, t in template.suffix],
        ])
        p_mask = np.ones(len(ids), np.int64)
        p_mask[context_position : context_position + stop - start] = 0
        if cls_id is not None:
            p_mask[ids == cls_id] = 0  # the pipeline keeps [CLS] selectable: it stands for "no answer"
        windows.append(Window(
            index, start, stop, ids.astype(np.int64), types.astype(np.int64), p_mask, question_position,
            context_position, question, context,
        ))
    return windows
