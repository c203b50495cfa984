"""The library database: opening one SQLite file safely, and its schema versions with their migrations.

`PRAGMA user_version` holds the schema version and `PRAGMA application_id` marks the file as a bertdesk library,
so a file that is not one (another program's database, a damaged or foreign file) is refused before anything in it
is written. Each migration runs in one transaction: a kill during it leaves the old version.
"""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path

from bertdesk.core.errors import AddDocuments, ChooseAnotherLibrary, LibraryError

#: Marks a bertdesk library in the database header ("bdLb").
APPLICATION_ID = 0x62644C62
#: How long a statement waits for another process's write lock before giving up.
BUSY_TIMEOUT_MS = 30_000

_V1 = (
    "CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT)",
    "CREATE TABLE sources(id INTEGER PRIMARY KEY, path TEXT UNIQUE NOT NULL, is_folder INTEGER NOT NULL, "
    "watch INTEGER NOT NULL, added REAL NOT NULL)",
    "CREATE TABLE documents(id INTEGER PRIMARY KEY, path TEXT UNIQUE NOT NULL, "
    "source_id INTEGER REFERENCES sources(id) ON DELETE SET NULL, content_hash TEXT NOT NULL, size INTEGER NOT NULL, "
    "mtime REAL NOT NULL, title TEXT NOT NULL, kind TEXT NOT NULL, page_count INTEGER NOT NULL, "
    "blank_pages TEXT NOT NULL, indexed REAL NOT NULL)",
    "CREATE INDEX documents_by_hash ON documents(content_hash)",
    "CREATE INDEX documents_by_source ON documents(source_id)",
    "CREATE TABLE pages(document_id INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE, "
    "number INTEGER NOT NULL, text TEXT NOT NULL, PRIMARY KEY (document_id, number))",
    "CREATE TABLE passages(id INTEGER PRIMARY KEY, "
    "document_id INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE, page INTEGER NOT NULL, "
    "start INTEGER NOT NULL, end INTEGER NOT NULL, text TEXT NOT NULL, vector BLOB NOT NULL)",
    "CREATE INDEX passages_by_document ON passages(document_id)",
    "CREATE VIRTUAL TABLE passages_fts USING fts5(text, content='passages', content_rowid='id', "
    "tokenize='unicode61 remove_diacritics 2')",
    "CREATE TRIGGER passages_fts_insert AFTER INSERT ON passages BEGIN "
    "INSERT INTO passages_fts(rowid, text) VALUES (new.id, new.text); END",
    "CREATE TRIGGER passages_fts_delete AFTER DELETE ON passages BEGIN "
    "INSERT INTO passages_fts(passages_fts, rowid, text) VALUES ('delete', old.id, old.text); END",
    "CREATE TRIGGER passages_fts_update AFTER UPDATE OF text ON passages BEGIN "
    "INSERT INTO passages_fts(passages_fts, rowid, text) VALUES ('delete', old.id, old.text); "
    "INSERT INTO passages_fts(rowid, text) VALUES (new.id, new.text); END",
    "CREATE TABLE queue(path TEXT PRIMARY KEY, source_id INTEGER, queued REAL NOT NULL)",
    # size/mtime/source_id: a failed file is tried again only once it changed (see LibraryStore.rescan).
    "CREATE TABLE failures(path TEXT PRIMARY KEY, reason TEXT NOT NULL, at REAL NOT NULL, size INTEGER, mtime REAL, "
    "source_id INTEGER)",
    # Files the user removed from the library: a rescan of their folder does not bring them back.
    "CREATE TABLE removed(path TEXT PRIMARY KEY, at REAL NOT NULL)",
)


def _statements(statements: tuple[str, ...]) -> Callable[[sqlite3.Connection], None]:
    def migrate(conn: sqlite3.Connection) -> None:
        for statement in statements:
            conn.execute(statement)

    return migrate


# How many runs began indexing a queued file: a file whose run never ended (the importer was killed or crashed on
# it) is tried after the others, and given up after a few such runs (see LibraryStore.begin_attempt).
_V2 = ("ALTER TABLE queue ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0",)

#: MIGRATIONS[n] takes a database from schema version n to n + 1; version 0 is an empty file.
MIGRATIONS: tuple[Callable[[sqlite3.Connection], None], ...] = (_statements(_V1), _statements(_V2))
SCHEMA_VERSION = len(MIGRATIONS)


def open_library(path: Path, *, create: bool = True, check_same_thread: bool = True) -> sqlite3.Connection:
    """A connection to the library at `path` (created if missing and `create`), migrated to the current schema, in
    WAL mode with foreign keys on. LibraryError in one line if there is no library there and `create` is False, if
    the path is a folder, cannot be created or written (a read-only file or folder), or holds something that is not
    a bertdesk library (the file is then left exactly as it was)."""
    _check_path(path)
    if not create and (not path.exists() or _holds_nothing(path)):
        raise missing_library(path)
    if not path.exists():
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise LibraryError(f"the library database {path} cannot be created: {exc.strerror or exc}") from None
    read_only = read_only_reason(path)
    if read_only and not path.exists():
        raise LibraryError(f"the library database {path} cannot be created: {read_only}")
    if read_only:
        raise LibraryError(f"the library {path} cannot be changed: {read_only}; it can still be listed and asked")

    def prepare(conn: sqlite3.Connection) -> None:
        if _wal_mode(conn).lower() != "wal":
            raise LibraryError(f"the library database {path} cannot be put in WAL mode (is its folder read-only?)")
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute("PRAGMA synchronous = FULL")
        migrate(conn, path)

    return _connect(path, str(path), check_same_thread, prepare)


def _wal_mode(conn: sqlite3.Connection) -> str:
    """Put the database in WAL mode; returns the journal mode it is in. Two processes creating one library at once
    both ask for WAL: SQLite then fails one of them at once, without waiting (each holds the shared lock the other
    needs to give up), so this asks again for as long as a busy statement would wait."""
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            return conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def open_library_read_only(path: Path, *, check_same_thread: bool = True) -> sqlite3.Connection:
    """A connection that only reads the library at `path`, which must exist at the current schema; it works on a
    read-only file or in a read-only folder and creates nothing. A writable library is opened as usual (so that
    closing it leaves no journal files behind) with writing switched off."""
    _check_path(path)
    if not path.exists():
        raise missing_library(path)
    if not read_only_reason(path):
        conn = open_library(path, create=False, check_same_thread=check_same_thread)
        conn.execute("PRAGMA query_only = ON")
        return conn
    # Nobody can be writing a library whose file or folder is read-only; with no write-ahead log beside it the file
    # holds every commit, and `immutable` reads it without the shared-memory file SQLite cannot create here. A log
    # that is there may hold commits: it is read the ordinary read-only way.
    immutable = not _log_holds_pages(path)
    uri = f"{path.resolve().as_uri()}?mode=ro" + ("&immutable=1" if immutable else "")

    def check_version(conn: sqlite3.Connection) -> None:
        if conn.execute("PRAGMA user_version").fetchone()[0] < len(MIGRATIONS):
            raise LibraryError(f"{path} is read-only and needs an upgrade (or is empty): open it once where it "
                               "can be written")

    return _connect(path, uri, check_same_thread, check_version)


def _connect(path: Path, target: str, check_same_thread: bool,
             prepare: Callable[[sqlite3.Connection], None]) -> sqlite3.Connection:
    """A connection to `target` (the path, or a file: URI) checked to be a bertdesk library, then `prepare`d; any
    failure closes it and becomes a one-line LibraryError."""
    try:
        conn = sqlite3.connect(target, uri=target.startswith("file:"), isolation_level=None,
                               check_same_thread=check_same_thread)
    except sqlite3.Error as exc:
        raise LibraryError(f"the library database {path} cannot be opened: {exc}") from None
    try:
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        _check_identity(conn, path)  # reads only: nothing is written to a file that is not ours
        prepare(conn)
    except LibraryError:
        conn.close()
        raise
    except sqlite3.Error as exc:
        conn.close()
        raise sqlite_error(exc, path) from None
    return conn


def _log_holds_pages(path: Path) -> bool:
    """Whether the write-ahead log beside the database at `path` exists and is not empty: it may hold commits."""
    wal = Path(f"{path}-wal")
    return wal.exists() and wal.stat().st_size > 0


def _holds_nothing(path: Path) -> bool:
    """An empty file with no write-ahead log beside it (a library being created has its first pages in the log)."""
    return path.stat().st_size == 0 and not _log_holds_pages(path)


def missing_library(path: Path) -> LibraryError:
    """The error for a library file that does not exist."""
    return LibraryError(f"there is no library at {path}", AddDocuments(), ChooseAnotherLibrary())


def _check_path(path: Path) -> None:
    if path.is_dir():
        raise LibraryError(f"the library database {path} is a folder; give a file name such as "
                           f"{path / 'library.sqlite3'}")
    if path.exists() and not path.is_file():
        raise LibraryError(f"the library database {path} is not a regular file")


def read_only_reason(path: Path) -> str:
    """Why the library at `path` cannot be written ("" if it can): the file, or its folder (SQLite writes its
    journal files beside the database). os.access also sees the immutable attribute, which binds even root."""
    if path.exists() and not os.access(path, os.W_OK):
        return "the file is read-only"
    if not os.access(path.parent, os.W_OK | os.X_OK):
        return f"its folder {path.parent} is read-only"
    return ""


def sqlite_error(exc: sqlite3.Error, path: Path) -> LibraryError:
    """The error for an SQLite error on the library at `path`, saying what the user can do."""
    message = str(exc)
    lowered = message.lower()
    if "not a database" in lowered or "malformed" in lowered or "corrupt" in lowered:
        return LibraryError(f"{path} is damaged or is not a bertdesk library ({message}); it was left untouched",
                            ChooseAnotherLibrary())
    if "readonly" in lowered or "read-only" in lowered or "unable to open" in lowered:
        return LibraryError(f"the library database {path} cannot be written ({message}); check the folder's "
                            "permissions")
    if "locked" in lowered or "busy" in lowered:
        return LibraryError(f"the library database {path} is busy in another program ({message}); try again when "
                            "it is done")
    if "disk is full" in lowered or "disk i/o" in lowered:
        return LibraryError(f"the library database {path} cannot be written ({message})")
    return LibraryError(f"the library database {path} cannot be used: {message}")


def _check_identity(conn: sqlite3.Connection, path: Path) -> None:
    application_id = conn.execute("PRAGMA application_id").fetchone()[0]
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    if application_id not in (0, APPLICATION_ID):
        raise LibraryError(f"{path} is an SQLite database of another program, not a bertdesk library; it was left "
                           "untouched", ChooseAnotherLibrary())
    if application_id == 0:
        tables = conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
        if tables or version:
            raise LibraryError(f"{path} is an SQLite database but not a bertdesk library; it was left untouched",
                               ChooseAnotherLibrary())
    if version > len(MIGRATIONS):
        raise LibraryError(f"{path} was written by a newer bertdesk (library schema {version}, this one reads up to "
                           f"{len(MIGRATIONS)}); update bertdesk")


def migrate(conn: sqlite3.Connection, path: Path) -> int:
    """Bring the database to the current schema version, all steps in one transaction; returns the version it had."""
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    if version == len(MIGRATIONS):
        return version
    conn.execute("BEGIN IMMEDIATE")
    try:
        version = conn.execute("PRAGMA user_version").fetchone()[0]  # another process may have migrated meanwhile
        _check_identity(conn, path)
        for step in MIGRATIONS[version:]:
            step(conn)
        conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
        conn.execute(f"PRAGMA user_version = {len(MIGRATIONS)}")
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return version
