"""The library's dense side: a read connection per database file, and its passages' vectors as one matrix, cached
until the database changes.

Vectors are stored as float16 BLOBs (half the size on disk) and held in memory as float32: numpy has no fast
float16 matrix-vector product (0.33 s at 100,000 x 384 on this machine, against 0.03 s for float32 through BLAS).
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bertdesk.core.errors import LibraryError
from bertdesk.core.library.schema import open_library_read_only

log = logging.getLogger(__name__)

#: Databases whose matrices stay in memory (one library is the rule; a second open in tests or the CLI is enough).
MAX_CACHED = 2
_FETCH_ROWS = 4096


@dataclass
class DenseMatrix:
    """Every passage's unit vector (rows in passage id order) with its passage and document ids."""

    key: tuple
    ids: np.ndarray        # (n,) int64 passage ids
    documents: np.ndarray  # (n,) int64 document ids
    matrix: np.ndarray     # (n, dim) float32

    def search(self, query: np.ndarray, depth: int, allowed: np.ndarray | None = None) -> list[int]:
        """The ids of the `depth` passages with the highest cosine to the unit vector `query`, best first; only
        those of the documents in `allowed` when given."""
        if not len(self.ids):
            return []
        scores = self.matrix @ query.astype(np.float32)
        if allowed is not None:
            scores[~np.isin(self.documents, allowed)] = -np.inf
            depth = min(depth, int(np.isfinite(scores).sum()))
        depth = min(depth, len(scores))
        if depth <= 0:
            return []
        top = np.argpartition(-scores, depth - 1)[:depth] if depth < len(scores) else np.arange(len(scores))
        top = top[np.argsort(-scores[top], kind="stable")]
        return [int(i) for i in self.ids[top]]


@dataclass
class _Database:
    """One read connection to a library file (used under `lock` from any thread) and its cached matrix."""

    identity: tuple
    connection: sqlite3.Connection
    lock: threading.Lock
    matrix: DenseMatrix | None = None


_databases: OrderedDict[str, _Database] = OrderedDict()
_databases_lock = threading.Lock()


def _identity(path: Path) -> tuple:
    try:
        stat = path.stat()
    except OSError as exc:
        raise LibraryError(f"cannot read the library {path}: {exc.strerror or exc}") from exc
    return (stat.st_dev, stat.st_ino)


def _open(path: Path, identity: tuple) -> _Database:
    connection = open_library_read_only(path, check_same_thread=False)  # used under the lock from any thread
    return _Database(identity, connection, threading.Lock())


@contextmanager
def reading(path: Path) -> Iterator[tuple[sqlite3.Connection, _Database]]:
    """The file's read connection inside one read transaction (a consistent snapshot while an import commits), for
    this thread alone until the block ends. A file replaced at the same path gets a new connection."""
    path = Path(path).resolve()
    identity = _identity(path)
    with _databases_lock:
        database = _databases.get(str(path))
        if database is None or database.identity != identity:
            if database is not None:
                _close(database)
            database = _databases[str(path)] = _open(path, identity)
        _databases.move_to_end(str(path))
        while len(_databases) > MAX_CACHED:
            _close(_databases.popitem(last=False)[1])
    with database.lock:
        connection = database.connection
        try:
            connection.execute("BEGIN")
            try:
                yield connection, database
            finally:
                connection.execute("COMMIT")
        except sqlite3.DatabaseError as exc:
            raise LibraryError(f"cannot read the library {path}: {exc}") from exc


def _close(database: _Database) -> None:
    with database.lock:
        database.connection.close()


def forget(path: Path) -> None:
    """Close the file's cached connection and drop its matrix (tests, and a library removed by the user)."""
    with _databases_lock:
        database = _databases.pop(str(Path(path).resolve()), None)
    if database is not None:
        _close(database)


def dense_matrix(connection: sqlite3.Connection, database: _Database, dim: int) -> DenseMatrix:
    """The passages' vectors, loaded again only when the database changed: the key is SQLite's data_version (which
    moves whenever another connection commits), the passage count and the largest passage id."""
    version = connection.execute("PRAGMA data_version").fetchone()[0]
    count, largest = connection.execute("SELECT count(*), coalesce(max(id), 0) FROM passages").fetchone()
    key = (version, count, largest, dim)
    if database.matrix is None or database.matrix.key != key:
        database.matrix = None  # the old matrix is freed before the new one is built
        database.matrix = _load(connection, key, count, dim)
    return database.matrix


def _load(connection: sqlite3.Connection, key: tuple, count: int, dim: int) -> DenseMatrix:
    ids = np.empty(count, np.int64)
    documents = np.empty(count, np.int64)
    matrix = np.empty((count, dim), np.float32)
    cursor = connection.execute("SELECT id, document_id, vector FROM passages ORDER BY id")
    row = 0
    damaged: list[int] = []
    while fetched := cursor.fetchmany(_FETCH_ROWS):
        intact = [isinstance(blob, bytes) and len(blob) == dim * 2 and isinstance(doc, int) for _, doc, blob in fetched]
        rows = [r for r, ok in zip(fetched, intact, strict=True) if ok]
        damaged += [r[0] for r, ok in zip(fetched, intact, strict=True) if not ok]
        end = row + len(rows)
        ids[row:end] = [r[0] for r in rows]
        documents[row:end] = [r[1] for r in rows]
        matrix[row:end] = np.frombuffer(b"".join(r[2] for r in rows), "<f2").reshape(len(rows), dim)
        row = end
    if damaged:
        log.warning("%d passages have a damaged vector in the library (passage %s): left out of the search; "
                    "re-indexing the library embeds them again", len(damaged), ", ".join(map(str, damaged[:5])) +
                    (", ..." if len(damaged) > 5 else ""))
    return DenseMatrix(key, ids[:row], documents[:row], matrix[:row])


def cache_bytes() -> int:
    """Memory held by the cached matrices (for the bench and the status)."""
    with _databases_lock:
        return sum(d.matrix.matrix.nbytes + d.matrix.ids.nbytes * 2 for d in _databases.values() if d.matrix)

