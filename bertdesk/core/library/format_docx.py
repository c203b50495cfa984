"""Word documents (.docx): the body's paragraphs in order with python-docx, split into pages at explicit page breaks
and at section breaks that start a new page, with the headings (Title and Heading n styles) as spans of the page
text and the page numbers printed where a section restarts them.

The body is walked in document order rather than through `Document.paragraphs` so that paragraphs inside tables and
text boxes are kept, a page break inside a paragraph splits it where it is, and the fallback copy of a text box
(mc:Fallback, written beside the mc:Choice one) is not read twice.
"""

from __future__ import annotations

import zipfile
import zlib
from pathlib import Path, PurePosixPath
from typing import Any

import docx
from docx.oxml.ns import qn

from bertdesk.core.library.format_types import (
    ExtractedDocument,
    ExtractionError,
    Heading,
    display_title,
    normalise_page_text,
    size_text,
)

#: A .docx that unpacks to more than this is refused before python-docx inflates it (a zip bomb, not a document).
MAX_UNPACKED_BYTES = 1_000_000_000
#: python-docx parses every XML part whole into an lxml tree. A generated 1,000-page book with formatted runs has a
#: 14 MB word/document.xml of 522,000 elements (1.2 s, 400 MB peak); 300 MB of "<w:p/>" took python-docx past 6 GB.
#: Limits at about four times that book: the largest XML part, and the elements of all of them (at the limit, empty
#: paragraphs cost some 300 MB and 3 s).
MAX_PART_BYTES = 50_000_000
MAX_ELEMENTS = 2_000_000
_XML_SUFFIXES = (".xml", ".rels")
_CHUNK = 1 << 20

_P, _T, _TAB, _BR, _CR = qn("w:p"), qn("w:t"), qn("w:tab"), qn("w:br"), qn("w:cr")
_PAGE_BREAK_BEFORE, _TYPE, _VAL = qn("w:pageBreakBefore"), qn("w:type"), qn("w:val")
_NO_BREAK_HYPHEN, _PPR, _PSTYLE = qn("w:noBreakHyphen"), qn("w:pPr"), qn("w:pStyle")
_FALLBACK = "{http://schemas.openxmlformats.org/markup-compatibility/2006}Fallback"
_TITLE_STYLES = ("Title", "Heading 1", "Heading1")
_SECT_PR, _PG_NUM_TYPE, _START, _FMT = qn("w:sectPr"), qn("w:pgNumType"), qn("w:start"), qn("w:fmt")
#: Section starts that begin a new page (a w:type-less section starts on the next page).
_NEW_PAGE_STARTS = ("nextPage", "oddPage", "evenPage")
# A heading paragraph's level n is marked by U+FDE0 + n at its start while the text is gathered, and taken out by
# _tidy (noncharacters: a document's own become U+FFFD).
_HEADING_MARK = 0xFDE0
_MARKS = {code: "\ufffd" for code in range(_HEADING_MARK, _HEADING_MARK + 10)}
_ROMAN = ((1000, "m"), (900, "cm"), (500, "d"), (400, "cd"), (100, "c"), (90, "xc"), (50, "l"), (40, "xl"),
          (10, "x"), (9, "ix"), (5, "v"), (4, "iv"), (1, "i"))


def _damaged(exc: BaseException) -> ExtractionError:
    detail = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else type(exc).__name__
    return ExtractionError(f"damaged Word document: {detail}")


def _starts_new_page(section: Any) -> bool:
    start = section.find(_TYPE)
    return (start.get(_VAL, "nextPage") if start is not None else "nextPage") in _NEW_PAGE_STARTS


class _Page:
    """A page being gathered: its text parts and the numbering of the section it starts (None: it goes on)."""

    def __init__(self, numbering: Any | None = None) -> None:
        self.parts: list[str] = []
        self.numbering = numbering


def _body_pages(body, heading_levels: dict[str, int]) -> list[_Page]:
    """The body's pages: paragraphs separated by blank lines, "\n" for line breaks, a heading paragraph starting
    with its mark; a page break, a paragraph that asks for one, and a section break whose next section starts on a
    new page each start one."""
    sections = list(body.iter(_SECT_PR))
    following = {id(section): sections[index + 1] for index, section in enumerate(sections[:-1])}
    first = sections[0].find(_PG_NUM_TYPE) if sections else None
    pages = [_Page(first)]
    pending: tuple[Any, Any] | None = None  # (paragraph ending a section, the next section)
    stack = [iter(body)]
    while stack:
        element = next(stack[-1], None)
        if element is None:
            stack.pop()
            continue
        tag = element.tag
        if tag == _FALLBACK or not isinstance(tag, str):
            continue
        parts = pages[-1].parts
        if tag == _P:
            if pending is not None and pending[0] not in element.iterancestors():
                pages.append(_Page(pending[1].find(_PG_NUM_TYPE)))
                parts = pages[-1].parts
                pending = None
            parts.append("\n\n")
            style = element.find(f"{_PPR}/{_PSTYLE}")
            if style is not None and style.get(_VAL) in heading_levels:
                parts.append(chr(_HEADING_MARK + heading_levels[style.get(_VAL)]))
        elif tag == _T:
            parts.append((element.text or "").translate(_MARKS))
        elif tag == _TAB:
            parts.append("\t")
        elif tag == _NO_BREAK_HYPHEN:
            parts.append("-")
        elif tag == _CR:
            parts.append("\n")
        elif tag == _BR:
            if element.get(_TYPE) == "page":
                pages.append(_Page())
            else:
                parts.append("\n")
        elif (tag == _PAGE_BREAK_BEFORE and element.get(_VAL, "true") not in ("0", "false", "off")
              and "".join(parts).strip()):
            pages.append(_Page())
        elif tag == _SECT_PR and id(element) in following and _starts_new_page(following[id(element)]):
            paragraph = element.getparent().getparent() if element.getparent() is not None else None
            if paragraph is not None and paragraph.tag == _P:
                pending = (paragraph, following[id(element)])
        stack.append(iter(element))
    return pages


def _tidy(text: str) -> tuple[str, tuple[Heading, ...]]:
    """Paragraphs separated by exactly one blank line, no blank lines at the start or end; and the headings: the
    paragraphs that start with a heading mark, without it."""
    kept: list[str] = []
    headings = []
    offset = 0
    for paragraph in normalise_page_text(text).split("\n\n"):
        level = ord(paragraph[0]) - _HEADING_MARK if paragraph and 0 < ord(paragraph[0]) - _HEADING_MARK < 10 else 0
        paragraph = paragraph[1:].strip() if level else paragraph.strip()
        if not paragraph:
            continue
        if kept:
            offset += 2
        if level:
            headings.append(Heading(offset, offset + len(paragraph), level))
        kept.append(paragraph)
        offset += len(paragraph)
    return "\n\n".join(kept), tuple(headings)


def _heading_levels(document) -> dict[str, int]:
    """The paragraph style ids that make a heading, with its level: Title 1, Heading n n (1 to 9)."""
    levels = {}
    for style in document.styles:
        name = style.name or ""
        if name == "Title":
            levels[style.style_id] = 1
        elif name.startswith("Heading ") and name[8:].isdigit() and 1 <= int(name[8:]) <= 9:
            levels[style.style_id] = int(name[8:])
    return levels


def _number_label(number: int, style: str) -> str:
    """`number` as the section's w:fmt prints it (decimal for formats other than roman and letters)."""
    if style in ("lowerRoman", "upperRoman") and number > 0:
        roman = ""
        for value, letters in _ROMAN:
            while number >= value:
                roman += letters
                number -= value
        return roman.upper() if style == "upperRoman" else roman
    if style in ("lowerLetter", "upperLetter") and number > 0:
        letter = chr(ord("a") + (number - 1) % 26) * ((number - 1) // 26 + 1)
        return letter.upper() if style == "upperLetter" else letter
    return str(number)


def _page_labels(pages: list[_Page]) -> tuple[str, ...]:
    """The page numbers Word prints on `pages` (a section's w:pgNumType w:start restarts them, its w:fmt formats
    them); empty when they are the page indices anyway."""
    labels = []
    number, style = 0, "decimal"
    for page in pages:
        number += 1
        if page.numbering is not None:
            start = page.numbering.get(_START)
            if start is not None and start.isdigit():
                number = int(start)
            style = page.numbering.get(_FMT, "decimal")
        labels.append(_number_label(number, style))
    return () if labels == [str(index) for index in range(1, len(pages) + 1)] else tuple(labels)


def _title(document, stem: str) -> str:
    """The document properties' title, else the first paragraph in the Title or Heading 1 style, else `stem`.
    Styles are matched by id on the XML: python-docx's `Paragraph.style` rescans every style per paragraph (30 s for
    a 3,000-paragraph document)."""
    title = display_title(document.core_properties.title or "")
    if title:
        return title
    wanted = {style.style_id for style in document.styles if style.name in _TITLE_STYLES}
    for paragraph in document.element.body.iter(_P):
        style = paragraph.find(f"{_PPR}/{_PSTYLE}")
        if style is not None and style.get(_VAL) in wanted:
            text = display_title("".join(t.text or "" for t in paragraph.iter(_T)))
            if text:
                return text
    return display_title(stem)


def _check_package(archive: zipfile.ZipFile) -> None:
    """ExtractionError for a package larger than a document may be: unpacked bytes, the largest XML part, and the
    elements of the XML parts, counted from the start tags in the inflated stream (a bound: comments and processing
    instructions count too) before anything is parsed. The sizes are the ones the zip declares: zipfile inflates no
    more than that (and fails the checksum of a member that holds more)."""
    members = archive.infolist()
    unpacked = sum(info.file_size for info in members)
    if unpacked > MAX_UNPACKED_BYTES:
        raise ExtractionError(f"damaged Word document: unpacks to {unpacked / 1e9:.1f} GB")
    parts = [info for info in members if info.filename.lower().endswith(_XML_SUFFIXES)]
    for info in parts:
        if info.file_size > MAX_PART_BYTES:
            raise ExtractionError(f"{PurePosixPath(info.filename).name} unpacks to {size_text(info.file_size)}, "
                                  f"more than the {size_text(MAX_PART_BYTES)} a document may have")
    elements = 0
    for info in parts:
        with archive.open(info) as stream:
            previous = b""
            while chunk := stream.read(_CHUNK):
                # a "</" split between two chunks is still an end tag
                elements += chunk.count(b"<") - (previous + chunk).count(b"</")
                previous = chunk[-1:]
                if elements > MAX_ELEMENTS:
                    raise ExtractionError(f"{PurePosixPath(info.filename).name} holds more than "
                                          f"{MAX_ELEMENTS:,} XML elements, more than a document may have")


def extract_docx(path: Path) -> ExtractedDocument:
    """The pages of the Word document at `path` (one page when it has no explicit page breaks nor new-page section
    breaks), their headings and, where a section restarts the numbering, their printed numbers. ExtractionError for a
    package over the limits of `_check_package`."""
    try:
        with zipfile.ZipFile(path) as archive:
            _check_package(archive)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError, zlib.error) as exc:
        raise ExtractionError("damaged Word document: not a zip package") from exc
    except NotImplementedError as exc:  # a compression method zipfile does not have
        raise ExtractionError(f"damaged Word document: {exc}") from exc
    except OSError as exc:
        raise ExtractionError(f"cannot read the file: {exc.strerror}") from exc
    try:
        document = docx.Document(str(path))
        gathered = _body_pages(document.element.body, _heading_levels(document))
        title = _title(document, path.stem)
    # python-docx reports a malformed package with whatever its zip, XML and part parsers raise (KeyError for a
    # missing part, lxml's XMLSyntaxError, ValueError for a bad content type, ...): each means a damaged file.
    except Exception as exc:
        raise _damaged(exc) from exc
    tidied = [_tidy("".join(page.parts)) for page in gathered]
    if not any(text for text, _ in tidied):
        raise ExtractionError("no text in the Word document")
    while not tidied[-1][0]:  # a page break at the very end starts no page with text
        tidied.pop()
        gathered.pop()
    headings = tuple(found for _, found in tidied)
    labels = _page_labels(gathered)
    return ExtractedDocument(title=title, kind="docx", pages=tuple(text for text, _ in tidied),
                             blank_pages=tuple(number for number, (text, _) in enumerate(tidied, start=1) if not text),
                             page_labels=labels, headings=headings if any(headings) else ())
