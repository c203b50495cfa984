"""PDF: the text layer of every page with pypdfium2, the headings its layout shows (lines in a larger or bold font),
the page labels the file prints (/PageLabels), and the map from page-text offsets to PDFium's character indices that
lets pdf_pages.py highlight exactly page_text[start:end].

PDFium is not thread-safe, not even across documents: every call into it in the library holds `PDFIUM_LOCK`, taken
per page so that the window can render a page while the indexer reads another document.
"""

from __future__ import annotations

import bisect
import ctypes
import re
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

from bertdesk.core.jobs import JobHandle, ensure_handle
from bertdesk.core.library.format_types import (
    ExtractedDocument,
    ExtractionError,
    Heading,
    check_text_size,
    display_title,
    normalise_characters,
)

PDFIUM_LOCK = threading.RLock()
_REASON = re.compile(r"\(PDFium: (.*?)\)")
#: A PDF with more pages is refused before any is read: the longest books run to a few thousand pages, and a few
#: bytes make an empty page (a 200 MB file could hold millions).
MAX_PAGES = 10_000
#: Reading a PDF's text stops after this long (a book of 1,000 pages takes seconds): PDFium's time on one page
#: depends on its content streams, which a hostile file can make endless.
MAX_READ_SECONDS = 300.0
# Characters of PDFium's text left out of the page text, one at a time (each match is one character).
_DROPPED = re.compile("\ufffe|\r(?=\ufffe*\n)")
#: A line is a heading when its first and last characters are this much taller than the page's body text (the
#: height of the font's box, which does not depend on how the PDF scales its text) ...
HEADING_SIZE_RATIO = 1.15
#: ... or bold (weight 600 or more, or "Bold" in the font's name) in a line at most this long, in body text that is not.
MAX_BOLD_HEADING_CHARS = 80
#: Longer lines are prose, whatever their font.
MAX_HEADING_CHARS = 150
_LETTER = re.compile(r"[^\W\d_]")
_LINE = re.compile(r"\S(?:[^\n]*\S)?")  # a line from its first to its last non-space character
_BOLD_NAMES = ("bold", "black", "heavy", "semibold", "demi")


def _load_failure(exc: pdfium.PdfiumError) -> ExtractionError:
    """The reason PDFium refused a file, as the import log shows it."""
    code = getattr(exc, "err_code", None)
    if code == pdfium_c.FPDF_ERR_PASSWORD:
        return ExtractionError("encrypted PDF (needs a password)")
    if code == pdfium_c.FPDF_ERR_SECURITY:
        return ExtractionError("encrypted PDF (unsupported security handler)")
    found = _REASON.search(str(exc))
    reason = found.group(1) if found else str(exc).splitlines()[0] if str(exc) else "unreadable"
    return ExtractionError(f"damaged PDF: {reason[:1].lower() + reason[1:]}")


@contextmanager
def open_pdf(path: Path) -> Iterator[pdfium.PdfDocument]:
    """The PDF at `path`, closed on exit; an `ExtractionError` when PDFium cannot open it. Holds `PDFIUM_LOCK` only
    while opening and closing; callers take it around each use."""
    with PDFIUM_LOCK:
        try:
            document = pdfium.PdfDocument(path)
        except pdfium.PdfiumError as exc:
            raise _load_failure(exc) from exc
        except OSError as exc:
            raise ExtractionError(f"cannot read the file: {exc.strerror}") from exc
    try:
        yield document
    finally:
        with PDFIUM_LOCK:
            document.close()


def raw_page_text(textpage: pdfium.PdfTextPage) -> str:
    """The page's text with character i = PDFium's character i (generated line breaks "\\r\\n" included). Call with
    `PDFIUM_LOCK` held."""
    count = textpage.count_chars()
    if count <= 0:
        return ""
    text = textpage.get_text_range()
    if len(text) == count:
        return text
    # The bulk text skipped or inserted characters (or used surrogate pairs): ask for each character by index.
    return "".join(_char(pdfium_c.FPDFText_GetUnicode(textpage, index)) for index in range(count))


def _char(code: int) -> str:
    """One PDFium character code as a one-character string (U+FFFD for what is not a character)."""
    return chr(code) if 0 < code <= 0x10FFFF and not 0xD800 <= code <= 0xDFFF else "\ufffd"


def page_text(raw: str) -> str:
    """The page text of PDFium's `raw` text: "\\r\\n" as "\\n", and a word PDFium found hyphenated across a line end
    (it writes U+FFFE for the hyphen and the break) joined again ("exam-" + "ple" → "example"), then the common
    character normalisation."""
    return normalise_characters(_DROPPED.sub("", raw))


def char_indices(raw: str) -> list[int]:
    """For each character of `page_text(raw)`, its index in `raw` (PDFium's character index)."""
    indices: list[int] = []
    kept_from = 0
    for match in _DROPPED.finditer(raw):
        indices.extend(range(kept_from, match.start()))
        kept_from = match.end()
    indices.extend(range(kept_from, len(raw)))
    return indices


def _is_bold(textpage: pdfium.PdfTextPage, index: int) -> bool:
    if pdfium_c.FPDFText_GetFontWeight(textpage, index) >= 600:
        return True
    buffer = ctypes.create_string_buffer(128)
    flags = ctypes.c_int()
    size = pdfium_c.FPDFText_GetFontInfo(textpage, index, buffer, len(buffer), ctypes.byref(flags))
    name = buffer.raw[:max(size - 1, 0)].decode("latin-1").lower()
    return any(word in name for word in _BOLD_NAMES)


def _raw_index(raw: str, text: str) -> Callable[[int], int]:
    """The map from an offset of `text` (the page text of `raw`) to PDFium's character index, by bisection: the
    k-th character the page text drops would have been at offset dropped[k] - k."""
    dropped = [match.start() - k for k, match in enumerate(_DROPPED.finditer(raw))] if len(raw) != len(text) else []
    return lambda offset: offset + bisect.bisect_right(dropped, offset)


def layout_headings(textpage: pdfium.PdfTextPage, raw: str, text: str) -> tuple[Heading, ...]:
    """The lines of `text` (the page text of `raw`, read from `textpage`) that the layout sets as headings: taller
    than the page's body text by HEADING_SIZE_RATIO (levels by size, the largest 1), or bold and short in a page whose
    body is not; lines of the same level in a row are one heading. Only a line's first character is asked about, and
    its last one when the first makes it a candidate, so that this costs about one call per line. Call with
    `PDFIUM_LOCK` held."""
    lines = [(start, end) for start, end in (match.span() for match in _LINE.finditer(text))
             if end - start <= MAX_HEADING_CHARS and _LETTER.search(text, start, end)]
    if len(lines) < 2:
        return ()
    raw_index = _raw_index(raw, text)
    box, handle, loose_box = pdfium_c.FS_RECTF(), textpage.raw, pdfium_c.FPDFText_GetLooseCharBox
    box_pointer = ctypes.byref(box)

    def height(offset: int) -> float:
        """The height of the font's box of character `offset` (0 when PDFium has none)."""
        return round(abs(box.top - box.bottom), 1) if loose_box(handle, raw_index(offset), box_pointer) else 0.0

    firsts = [height(start) for start, _ in lines]
    weight: dict[float, int] = {}
    for (start, end), first in zip(lines, firsts, strict=True):
        weight[first] = weight.get(first, 0) + end - start
    body = max(weight, key=weight.__getitem__)
    if body <= 0:
        return ()
    # the last character too, only where the first one is taller than the body
    heights = [(first, height(end - 1) if first >= body * HEADING_SIZE_RATIO else first)
               for (_, end), first in zip(lines, firsts, strict=True)]
    sized = {min(pair) for pair in heights if min(pair) >= body * HEADING_SIZE_RATIO}
    level_of = {height: level for level, height in enumerate(sorted(sized, reverse=True), start=1)}
    body_bold: bool | None = None
    found: list[Heading] = []
    for (start, end), pair in zip(lines, heights, strict=True):
        level = level_of.get(min(pair), 0)
        # a bold heading starts like a title ("Installing", "3.1 Setup"): most short lines of code and lists do not
        short = (end - start <= MAX_BOLD_HEADING_CHARS and text[end - 1] not in ".,;:"
                 and (text[start].isupper() or text[start].isdigit()))
        if not level and short and max(pair) < body * HEADING_SIZE_RATIO:
            if body_bold is None:
                longest = max(lines, key=lambda span: span[1] - span[0])
                body_bold = _is_bold(textpage, raw_index(longest[0]))
            if not body_bold and _is_bold(textpage, raw_index(start)) and _is_bold(textpage, raw_index(end - 1)):
                level = len(level_of) + 1
        if level:
            found.append(Heading(start, end, level))
    return _joined(found, text)


def _joined(headings: list[Heading], text: str) -> tuple[Heading, ...]:
    """`headings` with those of one level on consecutive lines of `text` joined (a heading wrapped onto two lines)."""
    joined: list[Heading] = []
    for heading in headings:
        if joined and joined[-1].level == heading.level and text[joined[-1].end:heading.start].strip(" \t") == "\n":
            joined[-1] = Heading(joined[-1].start, heading.end, heading.level)
        else:
            joined.append(heading)
    return tuple(joined)


def read_page(document: pdfium.PdfDocument, number: int) -> tuple[str, tuple[Heading, ...]]:
    """Page `number` (1-based): its page text and the headings its layout shows. Takes `PDFIUM_LOCK` itself."""
    with PDFIUM_LOCK:
        try:
            page = document[number - 1]
            textpage = page.get_textpage()
        except pdfium.PdfiumError as exc:
            raise ExtractionError(f"damaged PDF: page {number} cannot be read") from exc
        try:
            raw = raw_page_text(textpage)
            text = page_text(raw)
            headings = layout_headings(textpage, raw, text)
        finally:
            textpage.close()
            page.close()
    return text, headings


def page_labels(document: pdfium.PdfDocument) -> tuple[str, ...]:
    """The label each page prints as its number (/PageLabels: "iv", "52", "A-3"), "" for a page without one; empty
    when the PDF has no labels. Takes `PDFIUM_LOCK` itself."""
    labels = []
    with PDFIUM_LOCK:
        for index in range(len(document)):
            size = pdfium_c.FPDF_GetPageLabel(document, index, None, 0)
            if size <= 2:
                labels.append("")
                continue
            buffer = ctypes.create_string_buffer(size)
            pdfium_c.FPDF_GetPageLabel(document, index, buffer, size)
            labels.append(normalise_characters(buffer.raw[:size - 2].decode("utf-16-le", errors="replace")).strip())
    return tuple(labels) if any(labels) else ()


def _title(document: pdfium.PdfDocument, stem: str) -> str:
    with PDFIUM_LOCK:
        try:
            title = document.get_metadata_value("Title")
        except (pdfium.PdfiumError, ctypes.ArgumentError, UnicodeDecodeError):
            title = ""
    return display_title(title, stem)


def extract_pdf(path: Path, handle: JobHandle | None = None) -> ExtractedDocument:
    """The text layer of every page of the PDF at `path`, with its printed page labels and the headings of its layout
    (`layout_headings`); pages without any text are listed in `blank_pages`, and
    a PDF with no text on any page is refused (a scan needs OCR first), and so is one over MAX_PAGES, MAX_TEXT_CHARS
    or MAX_READ_SECONDS. Cancelling `handle` stops it between two
    pages (JobCancelled): a book of a thousand pages takes seconds."""
    handle = ensure_handle(handle)
    with open_pdf(path) as document:
        with PDFIUM_LOCK:
            count = len(document)
        if count == 0:
            raise ExtractionError("damaged PDF: no pages")
        if count > MAX_PAGES:
            raise ExtractionError(f"{count:,} pages, more than the {MAX_PAGES:,} a document may have")
        texts = []
        headings = []
        chars = 0
        deadline = time.monotonic() + MAX_READ_SECONDS
        for number in range(1, count + 1):
            handle.check()
            if time.monotonic() > deadline:
                raise ExtractionError(f"reading the text took more than {MAX_READ_SECONDS:.0f} s (stopped at page "
                                      f"{number} of {count})")
            text, found = read_page(document, number)
            texts.append(text)
            headings.append(found)
            chars += len(texts[-1])
            check_text_size(chars)
        pages = tuple(texts)
        title = _title(document, path.stem)
        labels = page_labels(document)
    blank = tuple(number for number, text in enumerate(pages, start=1) if not text.strip())
    if len(blank) == count:
        noun = "page" if count == 1 else "pages"
        raise ExtractionError(f"no text in any page: scanned PDF without a text layer ({count} {noun})")
    return ExtractedDocument(title=title, kind="pdf", pages=pages, blank_pages=blank, page_labels=labels,
                             headings=tuple(headings) if any(headings) else ())
