"""The library's store: one SQLite file holding sources, documents, pages, passages with their vectors, the import
queue and the import log. One LibraryStore per thread; every change commits in one transaction."""

from __future__ import annotations

import functools
import json
import logging
import os
import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import closing as contextlib_closing
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from bertdesk.core.errors import LibraryError, ListDocuments
from bertdesk.core.files.folders import data_dir
from bertdesk.core.files.hashing import sha256_file
from bertdesk.core.library.folder_scan import FileState, FolderScan, Skipped, absolute, scan_folder, source_files
from bertdesk.core.library.formats import ExtractedDocument
from bertdesk.core.library.passages import PassageSpan
from bertdesk.core.library.records import (
    PASSAGE_QUERY,
    DamagedRow,
    DocumentInfo,
    ImportFailure,
    LibraryStats,
    PassageInfo,
    SourceInfo,
    StoredDocument,
    document_info,
    import_failure,
    passage_info,
    read_meta,
    row_name,
    source_info,
    usable_rows,
)
from bertdesk.core.library.schema import open_library, open_library_read_only, sqlite_error

log = logging.getLogger(__name__)

DB_NAME = "library.sqlite3"

_T = TypeVar("_T")


def default_db_path() -> Path:
    """The library of the user's data folder (`BERTDESK_DATA` moves it)."""
    return data_dir() / DB_NAME


def has_background_work(path: Path) -> bool:
    """Whether the library at `path` has watched folders or an interrupted import to continue: a quick read-only
    look that never creates, migrates or complains (False for a missing or unreadable file)."""
    if not path.is_file():
        return False
    try:
        with contextlib_closing(sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=1)) as db:
            row = db.execute("SELECT EXISTS(SELECT 1 FROM sources WHERE watch = 1) OR EXISTS(SELECT 1 FROM queue)")
            return bool(row.fetchone()[0])
    except (sqlite3.Error, OSError, ValueError):
        return False


def vector_blob(vector: np.ndarray) -> bytes:
    """A unit vector as the passages.vector BLOB: float16, little-endian."""
    return np.asarray(vector, dtype="<f2").tobytes()


def blob_vector(blob: bytes) -> np.ndarray:
    """The float32 vector of a passages.vector BLOB."""
    return np.frombuffer(blob, dtype="<f2").astype(np.float32)


def _sqlite_errors(method: Callable[..., _T]) -> Callable[..., _T]:
    """SQLite errors (a damaged file, a lock held too long, a full disk) become one-line LibraryErrors."""

    @functools.wraps(method)
    def wrapper(self: LibraryStore, *args: Any, **kwargs: Any) -> _T:
        try:
            return method(self, *args, **kwargs)
        except sqlite3.Error as exc:
            raise sqlite_error(exc, self.path) from None

    return wrapper


class LibraryStore:
    """The library database at `path` (default: `default_db_path()`), created or migrated on opening. One per
    thread: sqlite3 connections are not shared across threads. Use it as a context manager or call close().

    `read_only`: only read a library that must exist (a read-only file or folder is fine; nothing is created).
    `create=False`: a missing library is a LibraryError instead of a new empty one."""

    def __init__(self, path: Path | None = None, *, read_only: bool = False, create: bool = True) -> None:
        self.path = absolute(path) if path is not None else default_db_path()
        self.read_only = read_only
        self._conn = open_library_read_only(self.path) if read_only else open_library(self.path, create=create)

    def __enter__(self) -> LibraryStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection (committed work is on disk already)."""
        self._conn.close()

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction: committed when the block ends, rolled back on any exception (Ctrl-C included)."""
        self._conn.execute("BEGIN IMMEDIATE")
        try:
            yield self._conn
        except BaseException:
            if self._conn.in_transaction:
                self._conn.execute("ROLLBACK")
            raise
        self._conn.execute("COMMIT")

    def _one(self, sql: str, params: Sequence[object] = ()) -> Any:
        row = self._conn.execute(sql, params).fetchone()
        return row[0] if row is not None else None

    # ---- sources -------------------------------------------------------------------------------------------------

    @_sqlite_errors
    def add_source(self, path: Path, *, watch: bool = False, scan: FolderScan | None = None) -> int:
        """Add a file or folder (folders recursively, hidden files skipped) and queue every supported file that is
        new or changed; what the walk skipped goes to the import log with its reason. Returns how many were queued.
        LibraryError for a missing path, an unsupported file, or a folder without any supported file (unless it is
        to be watched: files may come later). `scan`: what `source_files(path)` returned to a caller that checked
        the path already (the folder is not walked again)."""
        path = absolute(path)
        scan = source_files(path, watch=watch) if scan is None else scan
        if not path.is_dir():
            with self._write() as conn:  # a file added again by name is wanted back, even if removed before
                conn.execute("DELETE FROM removed WHERE path = ?", (str(path),))
        plan = self._plan(scan.files, [])
        with self._write() as conn:
            conn.execute("INSERT INTO sources(path, is_folder, watch, added) VALUES (?, ?, ?, ?) "
                         "ON CONFLICT(path) DO UPDATE SET watch = max(watch, excluded.watch)",
                         (str(path), int(path.is_dir()), int(watch), time.time()))
            source_id = self._one("SELECT id FROM sources WHERE path = ?", (str(path),))
            self._log_skipped(scan.skipped, source_id)
            return self._apply(plan, source_id)

    @_sqlite_errors
    def record_skipped(self, skipped: Iterable[Skipped], source_id: int | None) -> None:
        """Put what a walk (or the watcher) skipped in the import log, with the reasons, in one transaction."""
        with self._write():
            self._log_skipped(skipped, source_id)

    def _log_skipped(self, skipped: Iterable[Skipped], source_id: int | None) -> None:
        """Put what a walk skipped in the import log, inside the caller's transaction (no size or time: nothing was
        read, so a rescan looks again); a document indexed from what was a file there leaves the library."""
        rows = [(s.path, s.reason, time.time(), source_id) for s in skipped]
        self._conn.executemany("DELETE FROM documents WHERE path = ?", [row[:1] for row in rows])
        self._conn.executemany("INSERT OR REPLACE INTO failures(path, reason, at, size, mtime, source_id) "
                               "VALUES (?, ?, ?, NULL, NULL, ?)", rows)

    @_sqlite_errors
    def sources(self) -> list[SourceInfo]:
        """Every source, oldest first."""
        rows = self._conn.execute("SELECT id, path, is_folder, watch FROM sources ORDER BY id").fetchall()
        return usable_rows(rows, source_info, row_name("source"))

    @_sqlite_errors
    def remove_source(self, source_id: int) -> None:
        """Stop following a source: its documents, queued files and failures leave the library (files untouched)."""
        with self._write() as conn:
            if self._one("SELECT id FROM sources WHERE id = ?", (source_id,)) is None:
                raise LibraryError(f"no source with id {source_id} in the library")
            for table in ("documents", "queue", "failures"):
                conn.execute(f"DELETE FROM {table} WHERE source_id = ?", (source_id,))
            conn.execute("DELETE FROM sources WHERE id = ?", (source_id,))

    # ---- documents -----------------------------------------------------------------------------------------------

    @_sqlite_errors
    def documents(self, folder: Path | None = None) -> list[DocumentInfo]:
        """Every document (or those under `folder`), by path."""
        sql = ("SELECT d.id, d.path, d.title, d.kind, d.page_count, "
               "(SELECT count(*) FROM passages p WHERE p.document_id = d.id), d.blank_pages, d.size, d.indexed "
               "FROM documents d")
        params: tuple = ()
        if folder is not None:
            prefix = str(absolute(folder)).rstrip(os.sep) + os.sep
            sql += " WHERE substr(d.path, 1, ?) = ?"
            params = (len(prefix), prefix)
        rows = self._conn.execute(sql + " ORDER BY d.path", params).fetchall()
        return usable_rows(rows, document_info, row_name("document"))

    @_sqlite_errors
    def remove_document(self, document_id: int) -> None:
        """Take a document out of the library (its file is never touched); a rescan of its folder leaves it out
        until it is added again by name."""
        with self._write() as conn:
            row = conn.execute("SELECT path, source_id FROM documents WHERE id = ?", (document_id,)).fetchone()
            if row is None:
                raise LibraryError(f"no document with id {document_id} in the library", ListDocuments())
            path, source_id = row
            conn.execute("DELETE FROM documents WHERE id = ?", (document_id,))
            conn.execute("DELETE FROM queue WHERE path = ?", (path,))
            conn.execute("INSERT OR REPLACE INTO removed(path, at) VALUES (?, ?)", (path, time.time()))
            conn.execute("DELETE FROM sources WHERE id = ? AND is_folder = 0", (source_id,))

    @_sqlite_errors
    def passage(self, passage_id: int) -> PassageInfo:
        """A passage with its document and page text; LibraryError if there is none with that id."""
        row = self._conn.execute(f"{PASSAGE_QUERY} WHERE p.id = ?", (passage_id,)).fetchone()
        if row is None:
            raise LibraryError(f"no passage with id {passage_id} in the library (it may have been re-indexed)")
        try:
            return passage_info(row)
        except DamagedRow as exc:
            raise DamagedRow(f"passage {passage_id} is damaged in the library ({exc})") from None

    # ---- queue and import log ------------------------------------------------------------------------------------

    @_sqlite_errors
    def queued(self) -> list[Path]:
        """Files waiting to be indexed, in the order they will be."""
        return [Path(p) for (p,) in self._conn.execute("SELECT path FROM queue ORDER BY attempts, queued, path")]

    @_sqlite_errors
    def failures(self) -> list[ImportFailure]:
        """The import log: every file that could not be imported, with its reason."""
        rows = self._conn.execute("SELECT path, reason, at FROM failures ORDER BY path").fetchall()
        return usable_rows(rows, import_failure,
                           lambda r: f"the import log's entry for {r[0]}" if isinstance(r[0], str) else
                           "an entry of the import log")

    @_sqlite_errors
    def retry(self, path: Path | None = None) -> int:
        """Queue a failed file again (or every failed file); returns how many."""
        with self._write() as conn:
            where, params = ("WHERE path = ?", (str(absolute(path)),)) if path is not None else ("", ())
            rows = conn.execute(f"SELECT path, source_id FROM failures {where}", params).fetchall()
            now = time.time()
            conn.executemany("INSERT OR IGNORE INTO queue(path, source_id, queued) VALUES (?, ?, ?)",
                             [(p, s, now) for p, s in rows])
            conn.execute(f"DELETE FROM failures {where}", params)
        return len(rows)

    @_sqlite_errors
    def reindex(self) -> int:
        """Drop every passage and vector and queue every document and failed file again (for another embedder);
        returns how many files were queued. The files themselves are never touched."""
        with self._write() as conn:
            rows = conn.execute("SELECT path, source_id FROM documents UNION SELECT path, source_id FROM failures"
                                ).fetchall()
            conn.execute("DELETE FROM documents")
            conn.execute("DELETE FROM failures")
            conn.execute("DELETE FROM meta WHERE key IN ('embedder', 'embedder_precision', 'dim', 'embedder_path')")
            now = time.time()
            conn.executemany("INSERT OR IGNORE INTO queue(path, source_id, queued) VALUES (?, ?, ?)",
                             [(p, s, now) for p, s in rows])
        return len(rows)

    # ---- start-up rescan -----------------------------------------------------------------------------------------

    @_sqlite_errors
    def rescan(self) -> int:
        """Compare every source with the library by size and modification time (content hash where those differ):
        queue new and changed files, follow renamed ones (same content at a new path: no re-indexing), drop the
        documents of deleted files (the library never deletes a file). A source folder that is missing altogether
        (an unplugged drive) is left as it is. What a walk skips is logged again with its reason. Returns how many
        files were queued, moved or dropped."""
        changes = 0
        with self._write() as conn:  # first: what is still skipped is logged again below
            for table in ("queue", "failures"):
                gone = [(p,) for (p,) in conn.execute(f"SELECT path FROM {table}") if not os.path.isfile(p)]
                conn.executemany(f"DELETE FROM {table} WHERE path = ?", gone)
                changes += len(gone) if table == "queue" else 0
        for source in self.sources():
            scan = FolderScan([])
            if source.is_folder:
                if not source.path.is_dir():
                    continue
                try:
                    scan = scan_folder(source.path)
                except OSError as exc:  # its documents stay as they are, like those of an unplugged drive
                    with self._write():
                        self._log_skipped([Skipped(str(source.path), f"cannot read the folder: {exc.strerror}")],
                                          source.id)
                    continue
            elif source.path.is_file():
                scan = FolderScan([source.path])
            elif not source.path.parent.is_dir():
                continue
            known = [Path(p) for (p,) in self._conn.execute("SELECT path FROM documents WHERE source_id = ?",
                                                              (source.id,))]
            plan = self._plan(scan.files, known)
            with self._write():
                self._log_skipped(scan.skipped, source.id)
                changes += self._apply(plan, source.id)
        return changes

    def _plan(self, files: Iterable[Path], known: Iterable[Path]) -> _Plan:
        """What to do about `files` on disk and `known` document paths of one source (reads only; hashes the files
        whose size or time changed and the possible targets of a rename)."""
        plan = _Plan()
        on_disk = {}
        for path in files:
            try:
                on_disk[path] = FileState.of(path)
            except OSError:
                continue
        removed = {p for (p,) in self._conn.execute("SELECT path FROM removed")}
        new: list[Path] = []
        for path, state in on_disk.items():
            document = self.document_at(path)
            if document is not None:
                if (document.size, document.mtime) == (state.size, state.mtime):
                    continue
                if _hash_or_none(path) == document.content_hash:
                    plan.touched.append((document.id, state))
                else:
                    plan.queue.append(path)
                continue
            if str(path) in removed or self._one("SELECT 1 FROM queue WHERE path = ?", (str(path),)):
                continue
            failed = self._conn.execute("SELECT size, mtime FROM failures WHERE path = ?", (str(path),)).fetchone()
            if failed is not None and tuple(failed) == (state.size, state.mtime):
                continue
            new.append(path)
        hashes: dict[Path, str | None] = {}
        for path in known:
            if path in on_disk or path.exists():
                continue
            document = self.document_at(path)
            if document is None:
                continue
            target = next((p for p in new if on_disk[p].size == document.size
                           and hashes.setdefault(p, _hash_or_none(p)) == document.content_hash), None)
            if target is not None:
                new.remove(target)
                plan.moved.append((document.id, target, on_disk[target]))
            else:
                plan.dropped.append(document.id)
        plan.queue.extend(new)
        return plan

    def _apply(self, plan: _Plan, source_id: int) -> int:
        """Carry out `plan` inside the caller's transaction; returns how many files were queued, moved or dropped."""
        conn, now = self._conn, time.time()
        conn.executemany("UPDATE documents SET size = ?, mtime = ? WHERE id = ?",
                         [(s.size, s.mtime, i) for i, s in plan.touched])
        for document_id, target, state in plan.moved:
            conn.execute("UPDATE documents SET path = ?, size = ?, mtime = ?, source_id = ? WHERE id = ?",
                         (str(target), state.size, state.mtime, source_id, document_id))
        conn.executemany("DELETE FROM documents WHERE id = ?", [(i,) for i in plan.dropped])
        queued = conn.executemany("INSERT OR IGNORE INTO queue(path, source_id, queued) VALUES (?, ?, ?)",
                                  [(str(p), source_id, now) for p in plan.queue]).rowcount
        return max(queued, 0) + len(plan.moved) + len(plan.dropped)

    # ---- what the indexer and the watcher use --------------------------------------------------------------------

    @_sqlite_errors
    def document_at(self, path: Path) -> StoredDocument | None:
        """The document indexed from `path`, if any."""
        row = self._conn.execute("SELECT id, path, content_hash, size, mtime FROM documents WHERE path = ?",
                                 (str(path),)).fetchone()
        return StoredDocument(row[0], Path(row[1]), *row[2:]) if row is not None else None

    @_sqlite_errors
    def documents_with_hash(self, content_hash: str) -> list[StoredDocument]:
        """Documents with exactly these bytes (a row whose path is damaged is passed over)."""
        rows = self._conn.execute("SELECT id, path, content_hash, size, mtime FROM documents WHERE content_hash = ?",
                                  (content_hash,)).fetchall()
        return [StoredDocument(r[0], Path(r[1]), *r[2:]) for r in rows if isinstance(r[1], str)]

    @_sqlite_errors
    def next_queued(self) -> tuple[Path, int | None, int] | None:
        """The queued file to index next: (path, source id, runs that began it without ending). Files a run was
        killed on come after the others."""
        row = self._conn.execute("SELECT path, source_id, attempts FROM queue ORDER BY attempts, queued, path "
                                 "LIMIT 1").fetchone()
        return (Path(row[0]), row[1], row[2]) if row is not None else None

    @_sqlite_errors
    def begin_attempt(self, path: Path, change: int = 1) -> None:
        """Count a run beginning to index a queued file, committed before the file is read, so that a file that
        kills the importer is seen as such by the next run; `change=-1` takes back the count of a run that stopped
        on purpose (a cancel)."""
        with self._write() as conn:
            conn.execute("UPDATE queue SET attempts = max(attempts + ?, 0) WHERE path = ?", (change, str(path)))

    @_sqlite_errors
    def queued_bytes(self) -> int:
        """The size of the queued files on disk now (for the time-left estimate)."""
        total = 0
        for (path,) in self._conn.execute("SELECT path FROM queue"):
            with suppress(OSError):
                total += os.stat(path).st_size
        return total

    @_sqlite_errors
    def queue_path(self, path: Path, source_id: int | None) -> bool:
        """Queue one file (a watcher event); False if it already was, or the user removed it from the library."""
        with self._write() as conn:
            if self._one("SELECT 1 FROM removed WHERE path = ?", (str(path),)):
                return False
            return conn.execute("INSERT OR IGNORE INTO queue(path, source_id, queued) VALUES (?, ?, ?)",
                                (str(path), source_id, time.time())).rowcount > 0

    @_sqlite_errors
    def drop_path(self, path: Path) -> int:
        """A file (or every file under a folder) was deleted: drop its documents, queue rows and failures; returns
        how many documents left the library."""
        prefix = str(path).rstrip(os.sep) + os.sep
        where = "path = ? OR substr(path, 1, ?) = ?"
        params = (str(path), len(prefix), prefix)
        with self._write() as conn:
            count = conn.execute(f"DELETE FROM documents WHERE {where}", params).rowcount
            conn.execute(f"DELETE FROM queue WHERE {where}", params)
            conn.execute(f"DELETE FROM failures WHERE {where}", params)
        return count

    @_sqlite_errors
    def move_path(self, old: Path, new: Path, source_id: int | None) -> int:
        """A file or folder was renamed: its documents follow it (no re-indexing); returns how many moved."""
        old_prefix, new_prefix = str(old).rstrip(os.sep) + os.sep, str(new).rstrip(os.sep) + os.sep
        with self._write() as conn:
            rows = conn.execute("SELECT id, path FROM documents WHERE path = ? OR substr(path, 1, ?) = ?",
                                (str(old), len(old_prefix), old_prefix)).fetchall()
            for document_id, path in rows:
                target = str(new) if path == str(old) else new_prefix + path[len(old_prefix):]
                conn.execute("DELETE FROM documents WHERE path = ?", (target,))
                conn.execute("UPDATE documents SET path = ?, source_id = coalesce(?, source_id) WHERE id = ?",
                             (target, source_id, document_id))
                conn.execute("DELETE FROM queue WHERE path = ?", (target,))
        return len(rows)

    @_sqlite_errors
    def source_for(self, path: Path) -> int | None:
        """The id of the source that holds `path` (the file itself, or the deepest folder above it)."""
        best: tuple[int, int] | None = None
        for source in self.sources():
            inside = path == source.path or (source.is_folder and source.path in path.parents)
            if inside and (best is None or len(source.path.parts) > best[1]):
                best = (source.id, len(source.path.parts))
        return best[0] if best is not None else None

    @_sqlite_errors
    def meta(self) -> dict[str, str]:
        """The library's recorded settings (embedder name, precision, vector size)."""
        return read_meta(self._conn)

    @_sqlite_errors
    def dequeue(self, path: Path) -> None:
        """Take a file off the queue (it vanished before it was indexed)."""
        with self._write() as conn:
            conn.execute("DELETE FROM queue WHERE path = ?", (str(path),))

    @_sqlite_errors
    def record_failure(self, path: Path, reason: str, state: FileState | None, source_id: int | None) -> None:
        """Log a file that cannot be imported and take it off the queue, in one transaction; a document indexed from
        an earlier version of the file leaves the library (its passages no longer match the file)."""
        with self._write() as conn:
            conn.execute("DELETE FROM documents WHERE path = ?", (str(path),))
            conn.execute("INSERT OR REPLACE INTO failures(path, reason, at, size, mtime, source_id) "
                         "VALUES (?, ?, ?, ?, ?, ?)",
                         (str(path), reason, time.time(), state.size if state else None,
                          state.mtime if state else None, source_id))
            conn.execute("DELETE FROM queue WHERE path = ?", (str(path),))

    @_sqlite_errors
    def settle_unchanged(self, path: Path, document_id: int, state: FileState, source_id: int | None) -> bool:
        """A queued file whose bytes an existing document already holds: that document moves to `path` (a rename:
        its old path is gone) or just takes the new size and time, and the queue row goes, in one transaction.
        Returns False if the queue row was already gone (another process took the file)."""
        with self._write() as conn:
            if not self._one("SELECT 1 FROM queue WHERE path = ?", (str(path),)):
                return False
            conn.execute("DELETE FROM documents WHERE path = ? AND id != ?", (str(path), document_id))
            conn.execute("UPDATE documents SET path = ?, size = ?, mtime = ?, source_id = coalesce(?, source_id) "
                         "WHERE id = ?", (str(path), state.size, state.mtime, source_id, document_id))
            conn.execute("DELETE FROM queue WHERE path = ?", (str(path),))
            conn.execute("DELETE FROM failures WHERE path = ?", (str(path),))
        return True

    @_sqlite_errors
    def write_document(self, path: Path, source_id: int | None, state: FileState, content_hash: str,
                       document: ExtractedDocument, spans: Sequence[tuple[int, PassageSpan]], vectors: np.ndarray,
                       embedder: dict[str, str]) -> int | None:
        """Commit one document whole in ONE transaction: its row (replacing an earlier version's pages and passages),
        pages, passages with their vectors (the FTS index follows by trigger), the embedder in meta, and its queue
        row deleted. `spans` are (page number, span) pairs, `vectors` one unit row per span. Returns the document id,
        or None if the queue row was already gone (another process indexed the file)."""
        if len(spans) != len(vectors):
            raise ValueError("one vector per passage")
        with self._write() as conn:
            if not self._one("SELECT 1 FROM queue WHERE path = ?", (str(path),)):
                return None
            recorded = dict(conn.execute("SELECT key, value FROM meta").fetchall())
            if not recorded.get("embedder") or not self._one("SELECT 1 FROM passages LIMIT 1"):
                conn.executemany("INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)", list(embedder.items()))
            row = (str(path), source_id, content_hash, state.size, state.mtime, document.title, document.kind,
                   len(document.pages), json.dumps(list(document.blank_pages)), time.time())
            document_id = self._one("SELECT id FROM documents WHERE path = ?", (str(path),))
            if document_id is None:
                document_id = conn.execute(
                    "INSERT INTO documents(path, source_id, content_hash, size, mtime, title, kind, page_count, "
                    "blank_pages, indexed) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", row).lastrowid
            else:
                conn.execute("DELETE FROM passages WHERE document_id = ?", (document_id,))
                conn.execute("DELETE FROM pages WHERE document_id = ?", (document_id,))
                conn.execute("UPDATE documents SET path = ?, source_id = coalesce(?, source_id), content_hash = ?, "
                             "size = ?, mtime = ?, title = ?, kind = ?, page_count = ?, blank_pages = ?, indexed = ? "
                             "WHERE id = ?", (*row, document_id))
            conn.executemany("INSERT INTO pages(document_id, number, text) VALUES (?, ?, ?)",
                             [(document_id, n, text) for n, text in enumerate(document.pages, start=1)])
            conn.executemany(
                "INSERT INTO passages(document_id, page, start, end, text, vector) VALUES (?, ?, ?, ?, ?, ?)",
                [(document_id, page, span.start, span.end, document.pages[page - 1][span.start:span.end],
                  vector_blob(vector)) for (page, span), vector in zip(spans, vectors, strict=True)])
            conn.execute("DELETE FROM queue WHERE path = ?", (str(path),))
            conn.execute("DELETE FROM failures WHERE path = ?", (str(path),))
        return document_id

    @_sqlite_errors
    def stats(self) -> LibraryStats:
        """Counts of documents, pages, passages, queued files and failures, and the database's bytes on disk."""
        counts = [self._one(f"SELECT count(*) FROM {table}")
                  for table in ("documents", "pages", "passages", "queue", "failures")]
        size = sum(p.stat().st_size for p in (self.path, Path(f"{self.path}-wal")) if p.exists())
        return LibraryStats(*counts, db_bytes=size)


@dataclass
class _Plan:
    """Changes one source needs: documents whose file only got a new time, renamed ones, deleted ones, files to
    queue."""

    touched: list[tuple[int, FileState]] = field(default_factory=list)
    moved: list[tuple[int, Path, FileState]] = field(default_factory=list)
    dropped: list[int] = field(default_factory=list)
    queue: list[Path] = field(default_factory=list)


def _hash_or_none(path: Path) -> str | None:
    try:
        return sha256_file(path)
    except OSError:
        return None
