"""What every format extractor returns or raises, and the one page-text normalisation they all apply."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from bertdesk.core.errors import LibraryError


@dataclass(frozen=True)
class Heading:
    """A heading of a page: `page_text[start:end]` is its text; `level` 1 is the largest (a title or chapter)."""

    start: int
    end: int
    level: int


@dataclass(frozen=True)
class ExtractedDocument:
    """A file's text as the library stores it: page number = index in `pages` + 1. `page_labels[i]` is the label
    printed on page i + 1 ("iv", "52") where the file says (empty: no labels, or a page without one); `headings[i]`
    are the headings found on page i + 1, in order (empty: the format or the file gives none)."""

    title: str
    kind: str
    pages: tuple[str, ...]
    blank_pages: tuple[int, ...]
    page_labels: tuple[str, ...] = ()
    headings: tuple[tuple[Heading, ...], ...] = ()


class ExtractionError(LibraryError):
    """A file the library cannot import; the message is the one-line reason shown in the import log."""


# Line separators become "\n" and other control characters (bar tab and newline; the C1 ones U+0080-U+009F too,
# such as the terminal's CSI U+009B) spaces; lone surrogates, which SQLite cannot store as UTF-8, become U+FFFD.
# One character for one, so offsets do not move.
_SPACE_FOR = {code: " " for code in (*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), *range(0x7F, 0xA0))}
_SPACE_FOR.update({0x0D: "\n", 0x85: "\n", 0x2028: "\n", 0x2029: "\n"})
_SURROGATE = re.compile("[\ud800-\udfff]")


def normalise_characters(text: str) -> str:
    """`text` with line separators as "\\n", other control characters as spaces and lone surrogates as U+FFFD:
    character i stays character i."""
    return _SURROGATE.sub("\ufffd", text.translate(_SPACE_FOR))


def normalise_page_text(text: str) -> str:
    """`text` with "\\r\\n" as "\\n", then `normalise_characters`."""
    return normalise_characters(text.replace("\r\n", "\n"))


#: The most page text one document may have, all pages together: a 1,000-page book is some 3 million characters,
#: and one of 20 million would be 30,000 passages to embed.
MAX_TEXT_CHARS = 20_000_000


def check_text_size(chars: int) -> None:
    """ExtractionError for a document whose page text (`chars` so far) is more than MAX_TEXT_CHARS."""
    if chars > MAX_TEXT_CHARS:
        raise ExtractionError(f"more than {MAX_TEXT_CHARS:,} characters of text, more than a document may have")


def size_text(size: int) -> str:
    """`size` bytes as people read it: "1.0 GB", "200 MB", "12 kB"."""
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if size >= scale:
            value = size / scale
            return f"{value:.1f} {unit}" if value < 10 and unit != "kB" else f"{value:.0f} {unit}"
    return f"{size} bytes"


#: Longer titles (an unclosed <title>, a runaway heading) are cut at a word with "…".
MAX_TITLE_CHARS = 200


def display_title(*candidates: str) -> str:
    """The first candidate with any text, its whitespace collapsed to single spaces, control characters dropped and
    at most `MAX_TITLE_CHARS` long; "" when none has text."""
    for candidate in candidates:
        title = " ".join(normalise_page_text(candidate).split())
        if len(title) > MAX_TITLE_CHARS:
            title = title[:MAX_TITLE_CHARS].rsplit(" ", 1)[0][:MAX_TITLE_CHARS - 1] + "…"
        if title:
            return title
    return ""


def is_binary_text(text: str) -> bool:
    """Whether decoded `text` is really binary data read as some 8-bit code page: more than 1 in 100 characters are
    control, unassigned or private-use characters (text files have none besides tabs and line breaks)."""
    if not text:
        return False
    sample = text[:200_000]
    odd = sum(1 for char in sample if char not in "\t\n\r\f" and unicodedata.category(char) in ("Cc", "Cn", "Co"))
    return odd > len(sample) / 100
