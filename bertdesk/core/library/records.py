"""The library's rows as the store lists them (sources, documents, passages, the import log, counts), and how a
row another program damaged is left out with a warning instead of hiding the rest."""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from bertdesk.core.errors import LibraryError
from bertdesk.core.library.folder_scan import printable

log = logging.getLogger(__name__)

_T = TypeVar("_T")


@dataclass(frozen=True)
class SourceInfo:
    """A file or folder the user added; a watched one is kept in sync."""

    id: int
    path: Path
    is_folder: bool
    watch: bool


@dataclass(frozen=True)
class DocumentInfo:
    """One indexed document."""

    id: int
    path: Path
    title: str
    kind: str
    page_count: int
    passages: int
    blank_pages: tuple[int, ...]
    size: int
    indexed: float


@dataclass(frozen=True)
class ImportFailure:
    """A file that could not be imported, with the reason (one line)."""

    path: Path
    reason: str
    at: float


@dataclass(frozen=True)
class PassageInfo:
    """One passage with its document and the whole text of its page (start/end are offsets into `page_text`)."""

    id: int
    document_id: int
    path: Path
    title: str
    kind: str
    page: int
    start: int
    end: int
    text: str
    page_text: str


#: The columns of a PassageInfo (see `passage_info`); add a WHERE clause on p.id.
PASSAGE_QUERY = ("SELECT p.id, p.document_id, d.path, d.title, d.kind, p.page, p.start, p.end, p.text, g.text "
                 "FROM passages p JOIN documents d ON d.id = p.document_id "
                 "JOIN pages g ON g.document_id = p.document_id AND g.number = p.page")


def passage_info(row: Sequence[Any]) -> PassageInfo:
    """The PassageInfo of a row of PASSAGE_QUERY; DamagedRow if its cells are not what the library wrote."""
    passage_id, document_id, path, title, kind, page, start, end, text, page_text = row
    info = PassageInfo(_whole(passage_id, "id"), _whole(document_id, "document_id"), Path(_text(path, "path")),
                       _text(title, "title"), _text(kind, "kind"), _whole(page, "page"), _whole(start, "start"),
                       _whole(end, "end"), _text(text, "text"), _text(page_text, "page text"))
    if info.page_text[info.start:info.end] != info.text:
        raise DamagedRow("its text is not the text of its page at its offsets")
    return info


class DamagedRow(LibraryError):
    """A row whose cells are not what the library wrote (overwritten by another program, or damaged on disk)."""


def _text(value: object, column: str) -> str:
    if not isinstance(value, str):
        raise DamagedRow(f"{column} holds {type(value).__name__} where text belongs")
    return value


def _whole(value: object, column: str) -> int:
    if not isinstance(value, int):
        raise DamagedRow(f"{column} holds {type(value).__name__} where a whole number belongs")
    return value


def _real(value: object, column: str) -> float:
    if not isinstance(value, int | float):
        raise DamagedRow(f"{column} holds {type(value).__name__} where a number belongs")
    return float(value)


def _page_list(value: object) -> tuple[int, ...]:
    try:
        pages = json.loads(_text(value, "blank_pages"))
    except json.JSONDecodeError:
        raise DamagedRow("blank_pages is not JSON") from None
    if not isinstance(pages, list) or not all(isinstance(page, int) for page in pages):
        raise DamagedRow("blank_pages is not a list of page numbers")
    return tuple(pages)


def usable_rows(rows: Iterable[Sequence[Any]], convert: Callable[[Sequence[Any]], _T],
                name: Callable[[Sequence[Any]], str]) -> list[_T]:
    """`convert` of each row; a damaged row (DamagedRow) is left out with one warning line naming it (`name`), so
    that one bad cell never hides the rest of the library."""
    kept = []
    for row in rows:
        try:
            kept.append(convert(row))
        except DamagedRow as exc:
            log.warning("%s is damaged in the library (%s): left out", printable(name(row))[:300], exc)
    return kept


def row_name(kind: str) -> Callable[[Sequence[Any]], str]:
    """A row's name for a warning: `kind`, its id (first column) and its path (second) where they are readable."""
    def name(row: Sequence[Any]) -> str:
        path = f" ({row[1]})" if isinstance(row[1], str) else ""
        return f"{kind} {row[0]}{path}" if isinstance(row[0], int) else f"a {kind}"
    return name


@dataclass(frozen=True)
class LibraryStats:
    """Counts for a status line, and the database's size on disk."""

    documents: int
    pages: int
    passages: int
    queued: int
    failures: int
    db_bytes: int


@dataclass(frozen=True)
class StoredDocument:
    """A document row as the indexer needs it to decide what a queued file is (same, changed, renamed, copy)."""

    id: int
    path: Path
    content_hash: str
    size: int
    mtime: float


def document_info(row: Sequence[Any]) -> DocumentInfo:
    """The DocumentInfo of a row of the store's documents query; DamagedRow if its cells are not what the library
    wrote."""
    i, p, t, k, n, c, b, s, x = row
    return DocumentInfo(_whole(i, "id"), Path(_text(p, "path")), _text(t, "title"), _text(k, "kind"),
                        _whole(n, "page_count"), c, _page_list(b), _whole(s, "size"), _real(x, "indexed"))


def source_info(row: Sequence[Any]) -> SourceInfo:
    """The SourceInfo of a row (id, path, is_folder, watch); DamagedRow if its cells are not what the library wrote."""
    return SourceInfo(_whole(row[0], "id"), Path(_text(row[1], "path")), bool(row[2]), bool(row[3]))


def import_failure(row: Sequence[Any]) -> ImportFailure:
    """The ImportFailure of a row (path, reason, at); DamagedRow if its cells are not what the library wrote."""
    return ImportFailure(Path(_text(row[0], "path")), _text(row[1], "reason"), _real(row[2], "at"))


def read_meta(conn: sqlite3.Connection) -> dict[str, str]:
    """The meta table as text keys and values; a damaged row is left out with a warning (see `usable_rows`)."""
    rows = conn.execute("SELECT key, value FROM meta").fetchall()
    return dict(usable_rows(rows, lambda r: (_text(r[0], "key"), _text(r[1], "value")),
                            lambda r: f"the setting {r[0]}" if isinstance(r[0], str) else "a setting"))
