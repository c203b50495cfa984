"""Text-like files: plain text and Markdown as they are, HTML reduced to its main text. One page each.

Encodings follow the app's one policy (core/text_files.py: a BOM, UTF-8, else the best 8-bit code page); an HTML
page's declared charset is tried first, as browsers do.
"""

from __future__ import annotations

import codecs
import re
from html.parser import HTMLParser

from bertdesk.core.errors import BertdeskError
from bertdesk.core.files.text import decode_text
from bertdesk.core.library.format_types import (
    ExtractedDocument,
    ExtractionError,
    display_title,
    is_binary_text,
    normalise_page_text,
)

_DECLARED_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?([A-Za-z0-9_.:-]+)""", re.IGNORECASE)
_ATX_HEADING = re.compile(r"^ {0,3}#{1,6}[ \t]+(?=\S)", re.MULTILINE)
_SETEXT_HEADING = re.compile(r"^ {0,3}(\S.*)\n {0,3}(?:=+|-+)[ \t]*$", re.MULTILINE)
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


def _one_page(text: str, title: str, kind: str) -> ExtractedDocument:
    if not text.strip():
        raise ExtractionError("empty file")
    return ExtractedDocument(title=title, kind=kind, pages=(text,), blank_pages=())


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
    return _one_page(text, display_title(title, stem), "markdown")


# Elements whose text is not the page's content (head's <title> is read separately).
_DROPPED = frozenset({"script", "style", "noscript", "template", "head", "nav", "footer", "aside", "svg", "iframe"})
_HEAD_CONTENT = frozenset({"head", "title", "meta", "link", "style", "script", "base", "noscript", "template"})
_LINE_BREAKS = frozenset({"br", "tr", "li", "dt", "dd", "option"})
_CELLS = frozenset({"td", "th"})
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
        self.parts.append(data if self.pre else re.sub(r"[ \t\n\r\f]+", " ", data))

    def text(self) -> str:
        """The collected text: lines stripped, at most one blank line in a row."""
        lines = (line.strip(" \t") for line in "".join(self.parts).split("\n"))
        text = "\n".join(lines)
        return re.sub(r"\n{3,}", "\n\n", text).strip("\n")


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
    text = normalise_page_text(parser.text())
    if not text.strip():
        raise ExtractionError("no text in the web page")
    return ExtractedDocument(title=title, kind="html", pages=(text,), blank_pages=())
