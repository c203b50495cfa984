"""Hybrid passage search over the library: BM25 (SQLite FTS5) and dense vectors (numpy), fused by reciprocal rank,
with a boost for passages holding the question's quoted phrase or a long run of its words verbatim."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from bertdesk.core.bundles.bundle import Bundle
from bertdesk.core.engine.embed import embed_texts
from bertdesk.core.errors import AddDocuments, EmbedderMismatch, LibraryError, ReindexLibrary
from bertdesk.core.jobs import JobHandle, ensure_handle
from bertdesk.core.library.records import read_meta
from bertdesk.core.library.retrieval_query import ParsedQuestion, longest_ngram_in, parse_question
from bertdesk.core.library.retrieval_vectors import dense_matrix, reading

#: Reciprocal-rank fusion's constant (Cormack et al. 2009; GPT4All's LocalDocs uses the same).
RRF_K = 60
#: A quoted phrase found verbatim adds as much as a first place in a third ranking; a long n-gram of the question
#: found verbatim adds a share of it that grows with its length (3 words: a quarter, 6 or more: all of it).
PHRASE_BOOST = 1.0 / (RRF_K + 1)
#: Each ranking is taken this deep (at least) before fusion.
MIN_DEPTH = 100
EMPTY_LIBRARY = "the library is empty"


class HasPath(Protocol):
    """What the searches need of a LibraryStore: the database file (they read it through their own connection)."""

    path: Path


@dataclass(frozen=True)
class PassageHit:
    """A passage found for a question: its fused score and where each ranking put it (1-based; None = not in the
    first `depth` of that ranking)."""

    passage_id: int
    score: float
    bm25_rank: int | None
    dense_rank: int | None
    phrase_boost: float


def check_question(question: object) -> str:
    """The question, or LibraryError if it is not text (a lone surrogate, as undecodable bytes become, included) or
    is empty."""
    if not isinstance(question, str):
        raise LibraryError("the question must be text")
    try:
        question.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise LibraryError(f"the question is not valid text (U+{ord(question[exc.start]):04X}, half a surrogate "
                           f"pair, at character {exc.start + 1}): give it as UTF-8") from None
    if not question.strip():
        raise LibraryError("the question is empty: type what you want to find in your documents")
    return question


def search_passages(
    store: HasPath,
    question: str,
    embedder: Bundle,
    *,
    limit: int = 20,
    document_ids: Sequence[int] | None = None,
    folder: Path | None = None,
    handle: JobHandle | None = None,
) -> list[PassageHit]:
    """The `limit` passages that best match `question`, best first: BM25 and cosine rankings fused by reciprocal
    rank (k=60) plus the exact-phrase boost; only passages of `document_ids` and/or of documents under `folder`
    when given. LibraryError for an empty question, an empty library, an unknown document or a library indexed
    with another embedder."""
    handle = ensure_handle(handle)
    question = check_question(question)
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
        raise LibraryError(f"the number of passages must be a whole number of at least 1, got {limit!r}")
    parsed = parse_question(question)
    query = embed_texts(embedder, [question], normalize=True, handle=handle)[0]
    handle.check()
    depth = max(MIN_DEPTH, limit * 5)
    with reading(store.path) as (connection, database):
        dim = _check_embedder(connection, embedder)
        if connection.execute("SELECT NOT EXISTS (SELECT 1 FROM passages)").fetchone()[0]:
            raise LibraryError(EMPTY_LIBRARY, AddDocuments())
        allowed = _allowed_documents(connection, document_ids, folder)
        bm25 = _bm25(connection, parsed.match_expression(), allowed, depth)
        dense = dense_matrix(connection, database, dim).search(query, depth, allowed)
        quoted = _phrase_passages(connection, parsed, allowed, depth)
        return _fuse(connection, parsed, bm25, dense, quoted, limit)


def _check_embedder(connection: sqlite3.Connection, embedder: Bundle) -> int:
    meta = read_meta(connection)
    recorded = meta.get("embedder")
    if recorded and recorded != embedder.info.name:
        raise EmbedderMismatch(recorded, embedder.info.name)
    recorded_dim = meta.get("dim")
    if recorded_dim and not recorded_dim.isdecimal():
        raise LibraryError(f"the library's recorded vector size is damaged ({recorded_dim[:40]!r})", ReindexLibrary())
    dim = int(recorded_dim or embedder.info.hidden_size)
    if dim != embedder.info.hidden_size:
        raise LibraryError(
            f"the library's vectors have {dim} values but {embedder.info.name} makes {embedder.info.hidden_size}",
            ReindexLibrary(embedder.info.name),
        )
    return dim


def _allowed_documents(
    connection: sqlite3.Connection, document_ids: Sequence[int] | None, folder: Path | None
) -> np.ndarray | None:
    """The ids of the documents the filters keep, or None without filters; LibraryError if they keep none."""
    if document_ids is None and folder is None:
        return None
    rows = [(i, p) for i, p in connection.execute("SELECT id, path FROM documents") if isinstance(p, str)]
    known = {doc_id for doc_id, _ in rows}
    chosen = set(known)
    if document_ids is not None:
        wanted = {int(i) for i in document_ids}
        missing = sorted(wanted - known)
        if missing:
            raise LibraryError(f"no document with id {', '.join(map(str, missing))} in the library")
        chosen &= wanted
    if folder is not None:
        roots = {Path(folder).expanduser(), Path(folder).expanduser().resolve()}
        inside = {doc_id for doc_id, path in rows if any(Path(path).is_relative_to(r) for r in roots)}
        if not inside:
            raise LibraryError(f"no document in the library is in {folder}")
        chosen &= inside
    if not chosen:
        raise LibraryError("no document in the library matches both the documents and the folder chosen")
    return np.fromiter(sorted(chosen), np.int64)


def _filtered(sql: str, allowed: np.ndarray | None) -> tuple[str, list]:
    if allowed is None:
        return sql, []
    return sql + " AND p.document_id IN (SELECT value FROM json_each(?))", [json.dumps(allowed.tolist())]


def _bm25(connection: sqlite3.Connection, expression: str | None, allowed: np.ndarray | None, depth: int) -> list[int]:
    if expression is None:
        return []
    sql, params = _filtered(
        "SELECT f.rowid FROM passages_fts AS f JOIN passages AS p ON p.id = f.rowid WHERE passages_fts MATCH ?",
        allowed,
    )
    rows = connection.execute(sql + " ORDER BY f.rank LIMIT ?", [expression, *params, depth]).fetchall()
    return [r[0] for r in rows]


def _phrase_passages(
    connection: sqlite3.Connection, parsed: ParsedQuestion, allowed: np.ndarray | None, depth: int
) -> set[int]:
    """Passages holding one of the question's quoted phrases word for word (FTS5 phrase queries)."""
    found: set[int] = set()
    for phrase in parsed.phrases:
        sql, params = _filtered(
            "SELECT f.rowid FROM passages_fts AS f JOIN passages AS p ON p.id = f.rowid WHERE passages_fts MATCH ?",
            allowed,
        )
        rows = connection.execute(sql + " LIMIT ?", [f'"{" ".join(phrase)}"', *params, depth]).fetchall()
        found.update(r[0] for r in rows)
    return found


def _fuse(
    connection: sqlite3.Connection, parsed: ParsedQuestion, bm25: list[int], dense: list[int], quoted: set[int],
    limit: int,
) -> list[PassageHit]:
    bm25_rank = {pid: rank for rank, pid in enumerate(bm25, start=1)}
    dense_rank = {pid: rank for rank, pid in enumerate(dense, start=1)}
    candidates = sorted(set(bm25_rank) | set(dense_rank) | quoted)
    texts = dict(connection.execute(
        "SELECT id, text FROM passages WHERE id IN (SELECT value FROM json_each(?))", [json.dumps(candidates)]
    ).fetchall())
    hits = []
    for pid in candidates:
        boost = PHRASE_BOOST if pid in quoted else 0.0
        text = texts.get(pid, "")
        longest = longest_ngram_in(parsed, text) if isinstance(text, str) else 0  # a damaged row: no boost
        if longest:
            boost += PHRASE_BOOST * min(1.0, (longest - 2) / 4)
        fused = sum(1.0 / (RRF_K + r[pid]) for r in (bm25_rank, dense_rank) if pid in r)
        hits.append(PassageHit(pid, fused + boost, bm25_rank.get(pid), dense_rank.get(pid), boost))
    hits.sort(key=lambda h: (-h.score, h.passage_id))
    return hits[:limit]
