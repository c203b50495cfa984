"""Text-like files: plain text and Markdown as they are, HTML reduced to its main text. One page each, with the
headings of Markdown (ATX and setext) and HTML (h1-h6) as spans of it.

Encodings follow the app's one policy (core/text_files.py: a BOM, UTF-8, else the best 8-bit code page); an HTML
page's declared charset is tried first, as browsers do.
"""

from __future__ import annotations

import bisect
import codecs
import re
from html.parser import HTMLParser

from bertdesk.core.errors import BertdeskError
from bertdesk.core.files.text import decode_text
from bertdesk.core.library.format_types import (
    ExtractedDocument,
    ExtractionError,
    Heading,
    display_title,
    is_binary_text,
    normalise_page_text,
)

_DECLARED_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?([A-Za-z0-9_.:-]+)""", re.IGNORECASE)
_ATX_HEADING = re.compile(r"^ {0,3}(#{1,6})[ \t]+(?=\S)", re.MULTILINE)
_SETEXT_HEADING = re.compile(r"^ {0,3}(\S.*)\n {0,3}(=+|-+)[ \t]*$", re.MULTILINE)
_CODE_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})", re.MULTILINE)
_FRONT_MATTER = re.compile(r"\A---[ \t]*\n(.*?\n)?(?:---|\.\.\.)[ \t]*(?:\n|\Z)", re.DOTALL)
_FRONT_MATTER_TITLE = re.compile(r"^title:[ \t]*(.+?)[ \t]*$", re.MULTILINE)


def _decode(data: bytes, *, declared: str | None = None) -> str:
    """`data` as text, normalised; "binary file, not text" for data no text encoding explains."""
    text = None
    if declared is not None and not data.startswith((codecs.BOM_UTF8, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            codec = codecs.lookup(declared).name
            # A page whose ASCII markup declares UTF-16/32 is not in it (browsers ignore that declaration too).
            text = None if codec.startswith(("utf-16", "utf-32")) else data.decode(codec)
        except (LookupError, UnicodeDecodeError):
            text = None
    if text is None:
        try:
            text, _ = decode_text(data, "the file")
        except BertdeskError as exc:
            raise ExtractionError("binary file, not text") from exc
    if is_binary_text(text):
        raise ExtractionError("binary file, not text")
    return normalise_page_text(text)


def _one_page(text: str, title: str, kind: str, headings: tuple[Heading, ...] = ()) -> ExtractedDocument:
    if not text.strip():
        raise ExtractionError("empty file")
    return ExtractedDocument(title=title, kind=kind, pages=(text,), blank_pages=(),
                             headings=(headings,) if headings else ())


def extract_text(data: bytes, stem: str) -> ExtractedDocument:
    """A plain-text file: its whole text is its one page; titled by the file name."""
    return _one_page(_decode(data), display_title(stem), "text")


def _atx_text(text: str, start: int) -> str:
    """The text of the "# heading" whose words start at `start`, without an optional closing run of "#"s. Done
    without a regular expression: one that takes the closing run off backtracks quadratically on long lines."""
    end = text.find("\n", start)
    line = text[start:end if end >= 0 else len(text)].rstrip()
    unclosed = line.rstrip("#")
    return unclosed.rstrip() if unclosed != line and unclosed[-1:] in (" ", "\t") else line


def _fenced_code(text: str) -> list[tuple[int, int]]:
    """(start, end) of each fenced code block (``` or ~~~ up to the same fence, or the end of the text)."""
    blocks = []
    position = 0
    while opening := _CODE_FENCE.search(text, position):
        fence = opening.group(1)
        closing = re.compile(rf"^ {{0,3}}{re.escape(fence[0])}{{{len(fence)},}}[ \t]*$", re.MULTILINE)
        line_end = text.find("\n", opening.end())
        found = closing.search(text, line_end) if line_end >= 0 else None
        end = found.end() if found else len(text)
        blocks.append((opening.start(), end))
        position = max(end, opening.end())
    return blocks


def markdown_headings(text: str, body: int = 0) -> tuple[Heading, ...]:
    """The ATX ("## Title", level = number of #) and setext (underlined with = for 1, - for 2) headings of the
    Markdown `text` from offset `body` on, outside fenced code (a shell comment is no heading), in order."""
    code = _fenced_code(text)
    code_starts = [start for start, _ in code]

    def in_code(offset: int) -> bool:
        index = bisect.bisect_right(code_starts, offset) - 1
        return index >= 0 and offset < code[index][1]

    found = []
    for match in _ATX_HEADING.finditer(text, body):
        if not in_code(match.start()):
            found.append(Heading(match.end(), match.end() + len(_atx_text(text, match.end())), len(match.group(1))))
    for match in _SETEXT_HEADING.finditer(text, body):
        words = match.group(1).rstrip()
        if not in_code(match.start()) and not _ATX_HEADING.match(words) and words.lstrip()[:1] not in ("-", "*", "+"):
            found.append(Heading(match.start(1), match.start(1) + len(words), 1 if match.group(2)[0] == "=" else 2))
    return tuple(sorted(found, key=lambda heading: heading.start))


def extract_markdown(data: bytes, stem: str) -> ExtractedDocument:
    """A Markdown file kept as written (offsets point into what the user sees in an editor); titled by its first
    heading, else the file name; a YAML front matter's `title:` comes first."""
    text = _decode(data)
    front = _FRONT_MATTER.match(text)
    declared = _FRONT_MATTER_TITLE.search(front.group(1) or "") if front else None
    body = front.end() if front else 0
    atx, setext = _ATX_HEADING.search(text, body), _SETEXT_HEADING.search(text, body)
    if declared:
        title = declared.group(1).strip("'\"")
    elif atx and not (setext and setext.start() < atx.start()):
        title = _atx_text(text, atx.end())
    elif setext:
        title = setext.group(1).strip()
    else:
        title = stem
    return _one_page(text, display_title(title, stem), "markdown", markdown_headings(text, body))


# Elements whose text is not the page's content (head's <title> is read separately).
_DROPPED = frozenset({"script", "style", "noscript", "template", "head", "nav", "footer", "aside", "svg", "iframe"})
_HEAD_CONTENT = frozenset({"head", "title", "meta", "link", "style", "script", "base", "noscript", "template"})
_LINE_BREAKS = frozenset({"br", "tr", "li", "dt", "dd", "option"})
_CELLS = frozenset({"td", "th"})
_HEADING_LEVELS = {f"h{level}": level for level in range(1, 7)}
# Where a heading starts (U+FDD1-U+FDD6 for levels 1-6) and ends (U+FDD0) in the collected text, taken out once the
# text is final so that the offsets are those of the page text. Noncharacters: a page's own are replaced on input.
_HEADING_END = "\ufdd0"
_HEADING_MARKS = re.compile("[\ufdd0-\ufdd6]")
# Marks are moved past the white space at a heading's ends, so that they take no part in how lines are stripped and
# blank lines collapsed.
_SPACE_AFTER_START = re.compile("([\ufdd1-\ufdd6])(\\s+)")
_SPACE_BEFORE_END = re.compile("(\\s+)(\ufdd0)")
_EMPTY_HEADING = re.compile("[\ufdd1-\ufdd6]\ufdd0")
_BLOCKS = frozenset({
    "p", "div", "section", "article", "main", "header", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "dl",
    "table", "thead", "tbody", "tfoot", "blockquote", "pre", "hr", "figure", "figcaption", "address", "form",
    "fieldset", "legend", "details", "summary", "body", "caption",
})


class _MainText(HTMLParser):
    """Collects the text outside dropped elements, with blocks as paragraphs and <br>/<li>/<tr> as lines."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.dropped: dict[str, int] = {}
        self.pre = 0
        self.in_title = False
        self.in_h1 = False
        self.title: list[str] = []
        self.h1: list[str] = []
        self.heading: str | None = None

    def _skipping(self) -> bool:
        return any(self.dropped.values())

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag not in _HEAD_CONTENT:
            self.dropped.pop("head", None)  # a page that never closed its <head>: its body has begun
        if tag in _DROPPED:
            self.dropped[tag] = self.dropped.get(tag, 0) + 1
        elif tag == "title":
            self.in_title = True
        elif tag == "h1" and not "".join(self.h1).strip():
            self.in_h1 = True
        self._boundary(tag)
        if tag in _HEADING_LEVELS and self.heading is None and not self._skipping():
            self.heading = tag
            self.parts.append(chr(0xFDD0 + _HEADING_LEVELS[tag]))
        if tag == "pre":
            self.pre += 1

    def handle_startendtag(self, tag: str, attrs: list) -> None:
        if tag not in _DROPPED:
            self._boundary(tag)

    def handle_endtag(self, tag: str) -> None:
        if self.dropped.get(tag):
            self.dropped[tag] -= 1
        elif tag == "title":
            self.in_title = False
        elif tag == "h1":
            self.in_h1 = False
        if tag == "pre" and self.pre:
            self.pre -= 1
        if tag == self.heading:
            self.heading = None
            self.parts.append(_HEADING_END)
        if tag not in _LINE_BREAKS:
            self._boundary(tag)

    def _boundary(self, tag: str) -> None:
        if self._skipping():
            return
        if tag in _BLOCKS:
            self.parts.append("\n\n")
        elif tag in _LINE_BREAKS:
            self.parts.append("\n")
        elif tag in _CELLS:
            self.parts.append("\t")

    def handle_data(self, data: str) -> None:
        if self.in_title:
            self.title.append(data)
        if self._skipping():
            return
        if self.in_h1:
            self.h1.append(data)
        data = _HEADING_MARKS.sub("\ufffd", data)
        self.parts.append(data if self.pre else re.sub(r"[ \t\n\r\f]+", " ", data))

    def text(self) -> tuple[str, tuple[Heading, ...]]:
        """The collected text (lines stripped, at most one blank line in a row, normalised) and its headings."""
        if self.heading is not None:  # a heading the page never closed ends where the page does
            self.parts.append(_HEADING_END)
            self.heading = None
        joined = _SPACE_BEFORE_END.sub(r"\2\1", _SPACE_AFTER_START.sub(r"\2\1", "".join(self.parts)))
        joined = _EMPTY_HEADING.sub("", joined)
        lines = (line.strip(" \t") for line in joined.split("\n"))
        marked = normalise_page_text(re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip("\n"))
        pieces = []
        headings = []
        offset = 0
        position = 0
        start, level = 0, 0
        for mark in _HEADING_MARKS.finditer(marked):
            pieces.append(marked[position:mark.start()])
            offset += mark.start() - position
            position = mark.end()
            if mark.group() != _HEADING_END:
                start, level = offset, ord(mark.group()) - 0xFDD0
            elif level:
                headings.append((start, offset, level))
                level = 0
        pieces.append(marked[position:])
        text = "".join(pieces)
        return text, tuple(_trimmed(text, *heading) for heading in headings if text[heading[0]:heading[1]].strip())


def _trimmed(text: str, start: int, end: int, level: int) -> Heading:
    """The heading text[start:end] without the white space at its ends (a line break inside it stays)."""
    piece = text[start:end]
    first = start + len(piece) - len(piece.lstrip())
    return Heading(first, first + len(piece.strip()), level)


def extract_html(data: bytes, stem: str) -> ExtractedDocument:
    """A saved web page's main text (scripts, styles, navigation, footers and asides dropped), titled by <title>,
    else the first <h1>, else the file name."""
    declared = _DECLARED_CHARSET.search(data[:4096])
    source = _decode(data, declared=declared.group(1).decode("ascii") if declared else None)
    # html.parser rescans from every "<" of a tag left open at the end of the page to the end of the page (quadratic:
    # 220 s for 20,000 "<a "); no "<" after the last ">" can open a tag, so those are text from the start.
    last_close = source.rfind(">") + 1
    source = source[:last_close] + source[last_close:].replace("<", "&lt;")
    parser = _MainText()
    try:
        parser.feed(source)
        parser.close()
    # html.parser is lenient, but a few malformed constructs (e.g. an unknown marked section) still raise.
    except (AssertionError, ValueError) as exc:
        raise ExtractionError("damaged HTML: the markup cannot be read") from exc
    title = display_title("".join(parser.title), "".join(parser.h1), stem)
    text, headings = parser.text()
    if not text.strip():
        raise ExtractionError("no text in the web page")
    return ExtractedDocument(title=title, kind="html", pages=(text,), blank_pages=(),
                             headings=(headings,) if headings else ())
