"""Cutting a page's text into passages for retrieval: whole sentences, neighbours sharing their edge sentences, and
exact character offsets back into the page text.

Sentences end at . ! ? … (with any closing quotes or brackets) before a space and something other than a lower-case
letter ("e.g. this" stays one sentence), at 。！？, and at a blank line (a paragraph). A single line break does not end
a sentence: in a PDF's text layer it is where the line wrapped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# The look-behind makes a failed match inside a run of stops ("....... 12" in a table of contents) end at once
# instead of backtracking through the rest of the run from every position of it (quadratic: 26 s for 20,000 dots).
_SENTENCE_END = re.compile(
    r"(?<![.!?…])[.!?…]+[\"'”’)\]»]*\s+(?=[^\sa-z])"  # Western: stops, closing marks, space, no lower-case word
    r"|[。！？]+[」』”’）)\]]*\s*"  # CJK: no space needed after the stop
    r"|\n[^\S\n]*\n\s*"  # a blank line
)


@dataclass(frozen=True)
class PassageSpan:
    """A passage of a page: `page_text[start:end]` is its text, exactly."""

    start: int
    end: int


def _sentences(text: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence: from its first non-space character to just after its last one."""
    spans = []
    start = 0
    for match in _SENTENCE_END.finditer(text):
        end = match.start() + len(match.group().rstrip())
        spans.append((start, end))
        start = match.end()
    spans.append((start, len(text)))
    trimmed = []
    for start, end in spans:
        piece = text[start:end]
        stripped = piece.strip()
        if stripped:
            first = start + (len(piece) - len(piece.lstrip()))
            trimmed.append((first, first + len(stripped)))
    return trimmed


def _cut_long(text: str, start: int, end: int, limit: int) -> list[tuple[int, int]]:
    """A sentence longer than `limit` characters as pieces of at most `limit`, cut at the last space of each window
    (in its second half), else mid-word when a window has no space there."""
    pieces = []
    while end - start > limit:
        cut = start + limit
        space = next((i for i in range(cut, start + limit // 2, -1) if text[i].isspace()), None)
        if space is not None:
            cut = space
        piece_end = cut
        while text[piece_end - 1].isspace():
            piece_end -= 1
        pieces.append((start, piece_end))
        start = cut
        while text[start].isspace():
            start += 1
    pieces.append((start, end))
    return pieces


def split_passages(page_text: str, *, target_chars: int = 700, overlap_sentences: int = 1) -> list[PassageSpan]:
    """The passages of `page_text`: runs of whole sentences of at most `target_chars` characters (a longer sentence
    is cut at word boundaries into pieces that count as sentences), each passage beginning with the last
    `overlap_sentences` sentences of the one before. Every non-space character is in some passage; a page of
    whitespace gives none."""
    if target_chars < 2:
        raise ValueError("target_chars must be at least 2")
    units: list[tuple[int, int]] = []
    for start, end in _sentences(page_text):
        units.extend(_cut_long(page_text, start, end, target_chars))
    passages = []
    first = 0
    while first < len(units):
        last = first
        while last + 1 < len(units) and units[last + 1][1] - units[first][0] <= target_chars:
            last += 1
        passages.append(PassageSpan(units[first][0], units[last][1]))
        if last == len(units) - 1:
            break
        first = max(last + 1 - overlap_sentences, first + 1)
        if units[last + 1][1] - units[first][0] > target_chars:
            first = last + 1  # the overlap leaves no room for a new sentence: a passage of it alone would repeat
    return passages
