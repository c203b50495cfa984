"""PDF: the text layer of every page with pypdfium2, and the map from page-text offsets to PDFium's character indices
that lets pdf_pages.py highlight exactly page_text[start:end].

PDFium is not thread-safe, not even across documents: every call into it in the library holds `PDFIUM_LOCK`, taken
per page so that the window can render a page while the indexer reads another document.
"""

from __future__ import annotations

import ctypes
import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

from bertdesk.core.jobs import JobHandle, ensure_handle
from bertdesk.core.library.format_types import (
    ExtractedDocument,
    ExtractionError,
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
    dropped = {match.start() for match in _DROPPED.finditer(raw)}
    return [index for index in range(len(raw)) if index not in dropped]


def read_page_text(document: pdfium.PdfDocument, number: int) -> tuple[str, str]:
    """Page `number` (1-based): its raw PDFium text and its page text. Takes `PDFIUM_LOCK` itself."""
    with PDFIUM_LOCK:
        try:
            page = document[number - 1]
            textpage = page.get_textpage()
        except pdfium.PdfiumError as exc:
            raise ExtractionError(f"damaged PDF: page {number} cannot be read") from exc
        try:
            raw = raw_page_text(textpage)
        finally:
            textpage.close()
            page.close()
    return raw, page_text(raw)


def _title(document: pdfium.PdfDocument, stem: str) -> str:
    with PDFIUM_LOCK:
        try:
            title = document.get_metadata_value("Title")
        except (pdfium.PdfiumError, ctypes.ArgumentError, UnicodeDecodeError):
            title = ""
    return display_title(title, stem)


def extract_pdf(path: Path, handle: JobHandle | None = None) -> ExtractedDocument:
    """The text layer of every page of the PDF at `path`; pages without any text are listed in `blank_pages`, and
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
        chars = 0
        deadline = time.monotonic() + MAX_READ_SECONDS
        for number in range(1, count + 1):
            handle.check()
            if time.monotonic() > deadline:
                raise ExtractionError(f"reading the text took more than {MAX_READ_SECONDS:.0f} s (stopped at page "
                                      f"{number} of {count})")
            texts.append(read_page_text(document, number)[1])
            chars += len(texts[-1])
            check_text_size(chars)
        pages = tuple(texts)
        title = _title(document, path.stem)
    blank = tuple(number for number, text in enumerate(pages, start=1) if not text.strip())
    if len(blank) == count:
        noun = "page" if count == 1 else "pages"
        raise ExtractionError(f"no text in any page: scanned PDF without a text layer ({count} {noun})")
    return ExtractedDocument(title=title, kind="pdf", pages=pages, blank_pages=blank)
