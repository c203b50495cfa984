"""A text's sentences with their character offsets: what the Similarity tab compares and what sentence retrieval
(Ask without a question-answering model, the library's answers) ranks."""

from __future__ import annotations

import re
from dataclasses import dataclass

# A sentence: from a non-space character to the end of its line, or to . ! ? … (and closing quotes or brackets)
# followed by a space and something other than a lower-case letter ("e.g. this" stays one sentence).
_SENTENCE = re.compile(r"\S(?:[^\n]*?(?:[.!?…]+[\"'”’)\]]*(?=\s+[^\sa-z]|\s*\Z)|(?=\s*\n)|\Z)|[^\n]*)")


@dataclass(frozen=True)
class Sentence:
    """A sentence of a text: `text[start:end]` is the sentence."""

    text: str
    start: int
    end: int


def split_sentences(text: str) -> list[Sentence]:
    """The sentences of `text` in order, with character offsets: a line break always ends one; every non-space
    character is in one of them."""
    sentences = []
    for match in _SENTENCE.finditer(text):
        chunk = match.group().rstrip()
        if chunk:
            sentences.append(Sentence(chunk, match.start(), match.start() + len(chunk)))
    return sentences
