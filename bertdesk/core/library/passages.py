"""Cutting a page's text into passages for retrieval: whole sentences, neighbours sharing their edge sentences, a
section's heading at the start of the passage it introduces, and exact character offsets back into the page text.

Sentences end at . ! ? … (with any closing quotes or brackets) before a space and something other than a lower-case
letter ("e.g. this" stays one sentence), at 。！？, and at a blank line (a paragraph). A single line break does not end
a sentence: in a PDF's text layer it is where the line wrapped. A heading is a sentence of its own, whatever follows
it: the extractor's headings, and lines that look like one (`guess_headings`).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from dataclasses import dataclass

from bertdesk.core.library.format_types import Heading

# The look-behind makes a failed match inside a run of stops ("....... 12" in a table of contents) end at once
# instead of backtracking through the rest of the run from every position of it (quadratic: 26 s for 20,000 dots).
_SENTENCE_END = re.compile(
    r"(?<![.!?…])[.!?…]+[\"'”’)\]»]*\s+(?=[^\sa-z])"  # Western: stops, closing marks, space, no lower-case word
    r"|[。！？]+[」』”’）)\]]*\s*"  # CJK: no space needed after the stop
    r"|\n[^\S\n]*\n\s*"  # a blank line
)
#: The longest line taken for a heading when guessing: a title, a question, not a sentence of prose.
MAX_GUESSED_HEADING_CHARS = 100
# What a guessed heading may not end with: a stop or clause mark (a question mark is fine: an FAQ's question), or a
# hyphen (a word wrapped onto the next line).
_NOT_A_HEADING_END = tuple(".,;:!…-–—")
# A guessed heading is at most this fraction of the line after it (unless it asks a question or is short and its
# paragraph one line): the first line of a paragraph in a PDF, as wide as the next, is no heading.
_SHORTER = 0.6
_TITLE_LIKE = re.compile(r"(?:\d{1,2}(?:\.\d{1,3})*\.?\s+)?[^\W\d_][^=<>{}\[\]|#;$\\/@*_~^`⇒→]*")
_TRAILING_NUMBER = re.compile(r"\s\d+$")
#: The most characters of marks before a heading on its line ("###### ", an indented "* ").
_MAX_MARKER_CHARS = 12
_SENTENCE_DONE = tuple(".!?…\"'”’)")


@dataclass(frozen=True)
class PassageSpan:
    """A passage of a page: `page_text[start:end]` is its text, exactly."""

    start: int
    end: int


def _reads_as_title(line: str) -> bool:
    """Whether `line` is worded like a title: words (after an optional section number such as "2.1"), none of the
    marks of code or formulas, mostly letters, and no page number at its end (a running header)."""
    if not _TITLE_LIKE.fullmatch(line) or _TRAILING_NUMBER.search(line):
        return False
    letters = sum(char.isalpha() for char in line)
    return letters >= 0.6 * (len(line) - line.count(" "))


def guess_headings(page_text: str) -> list[Heading]:
    """The lines of `page_text` that read as headings though nothing marks them: a short line (at most
    `MAX_GUESSED_HEADING_CHARS`), worded like a title (no code, no formula, no running header ending in a page
    number), that does not start with a lower-case letter or end with a stop or comma, standing
    after a blank line, the start of the page or a line that ends a sentence, and followed by a line of text: one
    clearly longer, or one that ends a sentence after a line of at most half that length, or any when the line asks
    a question ("How do I reset it?"). Guessed headings have level 0."""
    lines = []
    offset = 0
    for line in page_text.split("\n"):
        stripped = line.strip()
        first = offset + (len(line) - len(line.lstrip()))
        lines.append((stripped, first))
        offset += len(line) + 1
    following = [""] * len(lines)  # the next line with text after each line
    for index in range(len(lines) - 2, -1, -1):
        following[index] = lines[index + 1][0] or following[index + 1]
    headings = []
    previous = ""
    for (line, start), after in zip(lines, following, strict=True):
        if (line and len(line) <= MAX_GUESSED_HEADING_CHARS and not line[0].islower() and _reads_as_title(line)
                and not line.endswith(_NOT_A_HEADING_END) and (not previous or previous.endswith(_SENTENCE_DONE))
                and after and (line.endswith("?") or len(line) <= _SHORTER * len(after)
                               or (len(line) <= MAX_GUESSED_HEADING_CHARS // 2 and after.endswith(_SENTENCE_DONE)))):
            headings.append(Heading(start, start + len(line), 0))
        previous = line
    return headings


def _sentences(text: str, start: int, stop: int) -> list[tuple[int, int]]:
    """(start, end) of each sentence of `text[start:stop]`: from its first non-space character to just after its
    last one."""
    spans = []
    for match in _SENTENCE_END.finditer(text, start, stop):
        end = match.start() + len(match.group().rstrip())
        spans.append((start, end))
        start = match.end()
    spans.append((start, stop))
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


def _with_marker(page_text: str, heading: Heading) -> Heading:
    """`heading` from the start of its line when only marks stand before it there ("## Title", "* Title")."""
    start = max(heading.start, 0)
    line_start = page_text.rfind("\n", max(start - _MAX_MARKER_CHARS, 0), start) + 1
    if line_start == 0 and start > _MAX_MARKER_CHARS:
        return heading
    before = page_text[line_start:start]
    if before and not any(char.isalnum() for char in before):
        return Heading(line_start, heading.end, heading.level)
    return heading


def _units(page_text: str, headings: Sequence[Heading], limit: int) -> tuple[list[tuple[int, int]], list[bool]]:
    """The page's sentences (over-long ones cut into pieces), each heading (with the marks before it on its line)
    one of them, and which are headings."""
    headings = [_with_marker(page_text, heading) for heading in headings]
    bounds = sorted({0, len(page_text)} | {min(max(point, 0), len(page_text))
                                           for heading in headings for point in (heading.start, heading.end)})
    starts = sorted({min(max(heading.start, 0), len(page_text)) for heading in headings if heading.end > heading.start})
    units: list[tuple[int, int]] = []
    is_heading: list[bool] = []
    next_start = 0
    for segment_start, segment_end in itertools.pairwise(bounds):
        while next_start < len(starts) and starts[next_start] < segment_start:
            next_start += 1
        heading = next_start < len(starts) and starts[next_start] == segment_start
        for start, end in _sentences(page_text, segment_start, segment_end):
            pieces = _cut_long(page_text, start, end, limit)
            units.extend(pieces)
            is_heading.extend([heading] * len(pieces))
            heading = False  # a segment holds one heading at most, at its start
    return units, is_heading


def split_passages(page_text: str, *, headings: Sequence[Heading] = (), target_chars: int = 700,
                   overlap_sentences: int = 1) -> list[PassageSpan]:
    """The passages of `page_text`: runs of whole sentences of at most `target_chars` characters (a longer sentence
    is cut at word boundaries into pieces that count as sentences), each passage beginning with the last
    `overlap_sentences` sentences of the one before. `headings` (spans of `page_text`, the extractor's) and the
    lines `guess_headings` finds (only those that ask a question when `headings` are given) are sections' headings:
    a passage ends before a heading (no passage holds the end of one section and the start of the next, nor
    overlaps into the previous section) and a heading is never the last sentence of a passage whose text goes on in
    the next one; one that cannot share a passage with what follows (over `target_chars` together) is a passage
    alone. Every non-space character is in some passage; a page of whitespace gives none."""
    if target_chars < 2:
        raise ValueError("target_chars must be at least 2")
    guessed = guess_headings(page_text)
    if headings:  # where the extractor found the headings, only a question line it could not know of is added
        guessed = [heading for heading in guessed if page_text[heading.end - 1] == "?"]
    units, is_heading = _units(page_text, [*headings, *guessed], target_chars)
    passages = []
    first = 0
    while first < len(units):
        last = first
        body = not is_heading[first]
        while (last + 1 < len(units) and units[last + 1][1] - units[first][0] <= target_chars
               and not (body and is_heading[last + 1])):
            last += 1
            body = body or not is_heading[last]
        passages.append(PassageSpan(units[first][0], units[last][1]))
        if last == len(units) - 1:
            break
        if is_heading[last + 1]:
            first = last + 1
            continue
        first = max(last + 1 - overlap_sentences, first + 1)
        if units[last + 1][1] - units[first][0] > target_chars:
            first = last + 1  # the overlap leaves no room for a new sentence: a passage of it alone would repeat
    return passages
