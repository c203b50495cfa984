"""Turning a file on disk into page texts for the library: which files are supported, the checks every file passes
(size, emptiness) and one function that dispatches to the per-format extractors (format_*.py).

Page texts are what passages, offsets and highlights refer to; every extractor returns them normalised the same way:
"\\n" line breaks only (no "\\r"), no control characters other than "\\n" and "\\t", no lone surrogates.
"""

from __future__ import annotations

from pathlib import Path

from bertdesk.core.jobs import JobHandle
from bertdesk.core.library.format_docx import extract_docx
from bertdesk.core.library.format_pdf import extract_pdf
from bertdesk.core.library.format_text import extract_html, extract_markdown, extract_text
from bertdesk.core.library.format_types import ExtractedDocument, ExtractionError, check_text_size, size_text

__all__ = [
    "MAX_FILE_BYTES", "SUPPORTED_SUFFIXES", "ExtractedDocument", "ExtractionError", "extract_document", "file_kind",
]

_KINDS = {
    ".pdf": "pdf", ".docx": "docx", ".html": "html", ".htm": "html",
    ".md": "markdown", ".markdown": "markdown", ".txt": "text", ".text": "text",
}
SUPPORTED_SUFFIXES: frozenset[str] = frozenset(_KINDS)
#: Files larger than this are refused from their size alone, never read: a 1,000-page book of text is a few MB as a
#: PDF, and 200 MB of plain text would be some 300,000 passages from one file.
MAX_FILE_BYTES = 200_000_000
#: Text, Markdown and HTML files are read whole and decoded (up to four bytes a character in memory), so larger ones
#: are refused from their size too: 20 MB of text is the MAX_TEXT_CHARS a document may have in one-byte characters
#: (measured: 1.2 s, 420 MB peak). html.parser walks the markup in Python: 5 MB of "<p>x</p>" took 4.2 s and 110 MB,
#: and a saved web page is rarely over 2 MB.
MAX_TEXT_FILE_BYTES = {"text": 20_000_000, "markdown": 20_000_000, "html": 10_000_000}


def file_kind(path: Path) -> str | None:
    """The library's kind for `path` by its suffix (case-insensitive): "pdf", "docx", "html", "markdown" or "text";
    None when the library does not read that type."""
    return _KINDS.get(path.suffix.lower())


def extract_document(path: Path, handle: JobHandle | None = None) -> ExtractedDocument:
    """The title, kind and page texts of the file at `path`; an `ExtractionError` with a one-line reason for a file
    the library cannot use (unsupported type, too large, more text than MAX_TEXT_CHARS, empty, binary, encrypted,
    damaged, scanned without text).
    Cancelling `handle` stops a long PDF between two pages (JobCancelled)."""
    kind = file_kind(path)
    if kind is None:
        raise ExtractionError(f"unsupported type {path.suffix or '(no suffix)'}")
    try:
        stat = path.stat()
    except OSError as exc:
        raise ExtractionError(f"cannot read the file: {exc.strerror}") from exc
    if not path.is_file():
        raise ExtractionError("not a file")
    if stat.st_size > MAX_FILE_BYTES:
        raise ExtractionError(f"file too large ({size_text(stat.st_size)} > {size_text(MAX_FILE_BYTES)})")
    if stat.st_size == 0:
        raise ExtractionError("empty file")
    if kind == "pdf":
        return extract_pdf(path, handle)  # checks its text as it goes, page by page
    document = extract_docx(path) if kind == "docx" else _extract_text_like(path, kind, stat.st_size)
    check_text_size(sum(map(len, document.pages)))
    return document


def _extract_text_like(path: Path, kind: str, size: int) -> ExtractedDocument:
    if size > MAX_TEXT_FILE_BYTES[kind]:
        raise ExtractionError(f"file too large ({size_text(size)} > {size_text(MAX_TEXT_FILE_BYTES[kind])} for a "
                              f"{kind} file)")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ExtractionError(f"cannot read the file: {exc.strerror}") from exc
    if kind == "html":
        return extract_html(data, path.stem)
    if kind == "markdown":
        return extract_markdown(data, path.stem)
    return extract_text(data, path.stem)
