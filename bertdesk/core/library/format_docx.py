"""Word documents (.docx): the body's paragraphs in order with python-docx, split into pages at explicit page breaks.

The body is walked in document order rather than through `Document.paragraphs` so that paragraphs inside tables and
text boxes are kept, a page break inside a paragraph splits it where it is, and the fallback copy of a text box
(mc:Fallback, written beside the mc:Choice one) is not read twice.
"""

from __future__ import annotations

import zipfile
import zlib
from pathlib import Path, PurePosixPath

import docx
from docx.oxml.ns import qn

from bertdesk.core.library.format_types import (
    ExtractedDocument,
    ExtractionError,
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


def _damaged(exc: BaseException) -> ExtractionError:
    detail = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else type(exc).__name__
    return ExtractionError(f"damaged Word document: {detail}")


def _body_pages(body) -> list[str]:
    """The text of the body's pages: paragraphs separated by blank lines, "\\n" for line breaks."""
    pages: list[list[str]] = [[]]
    stack = [iter(body)]
    while stack:
        element = next(stack[-1], None)
        if element is None:
            stack.pop()
            continue
        tag = element.tag
        if tag == _FALLBACK or not isinstance(tag, str):
            continue
        if tag == _P:
            pages[-1].append("\n\n")
        elif tag == _T:
            pages[-1].append(element.text or "")
        elif tag == _TAB:
            pages[-1].append("\t")
        elif tag == _NO_BREAK_HYPHEN:
            pages[-1].append("-")
        elif tag == _CR:
            pages[-1].append("\n")
        elif tag == _BR:
            if element.get(_TYPE) == "page":
                pages.append([])
            else:
                pages[-1].append("\n")
        elif (tag == _PAGE_BREAK_BEFORE and element.get(_VAL, "true") not in ("0", "false", "off")
              and "".join(pages[-1]).strip()):
            pages.append([])
        stack.append(iter(element))
    return [_tidy("".join(parts)) for parts in pages]


def _tidy(text: str) -> str:
    """Paragraphs separated by exactly one blank line, no blank lines at the start or end."""
    paragraphs = (paragraph.strip() for paragraph in normalise_page_text(text).split("\n\n"))
    return "\n\n".join(paragraph for paragraph in paragraphs if paragraph)


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
    """The pages of the Word document at `path` (one page when it has no explicit page breaks). ExtractionError for a
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
        pages = _body_pages(document.element.body)
        title = _title(document, path.stem)
    # python-docx reports a malformed package with whatever its zip, XML and part parsers raise (KeyError for a
    # missing part, lxml's XMLSyntaxError, ValueError for a bad content type, ...): each means a damaged file.
    except Exception as exc:
        raise _damaged(exc) from exc
    if not any(pages):
        raise ExtractionError("no text in the Word document")
    while not pages[-1]:  # a page break at the very end starts no page with text
        pages.pop()
    return ExtractedDocument(title=title, kind="docx", pages=tuple(pages), blank_pages=())
