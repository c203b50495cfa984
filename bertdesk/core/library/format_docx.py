"""Word documents (.docx): the body's paragraphs in order with python-docx, split into pages at explicit page breaks.

The body is walked in document order rather than through `Document.paragraphs` so that paragraphs inside tables and
text boxes are kept, a page break inside a paragraph splits it where it is, and the fallback copy of a text box
(mc:Fallback, written beside the mc:Choice one) is not read twice.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import docx
from docx.oxml.ns import qn

from bertdesk.core.library.format_types import (
    ExtractedDocument,
    ExtractionError,
    display_title,
    normalise_page_text,
)

#: A .docx that unpacks to more than this is refused before python-docx inflates it (a zip bomb, not a document).
MAX_UNPACKED_BYTES = 1_000_000_000

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


def extract_docx(path: Path) -> ExtractedDocument:
    """The pages of the Word document at `path` (one page when it has no explicit page breaks)."""
    try:
        with zipfile.ZipFile(path) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError) as exc:
        raise ExtractionError("damaged Word document: not a zip package") from exc
    except OSError as exc:
        raise ExtractionError(f"cannot read the file: {exc.strerror}") from exc
    if unpacked > MAX_UNPACKED_BYTES:
        raise ExtractionError(f"damaged Word document: unpacks to {unpacked / 1e9:.1f} GB")
    try:
        document = docx.Document(str(path))
        pages = _body_pages(document.element.body)
        title = _title(document, path.stem)
    # python-docx reports a malformed package with whatever its zip, XML and part parsers raise (KeyError for a
    # missing part, lxml's XMLSyntaxError, ValueError for a bad content type, ...): each means a damaged file.
    except Exception as exc:  # noqa: BLE001
        raise _damaged(exc) from exc
    if not any(pages):
        raise ExtractionError("no text in the Word document")
    while not pages[-1]:  # a page break at the very end starts no page with text
        pages.pop()
    return ExtractedDocument(title=title, kind="docx", pages=tuple(pages), blank_pages=())
