"""Hybrid passage search (BM25 + dense, fused by rank, exact-phrase boost, filters) on real library databases with the
default model's embeddings."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Sequence
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bertdesk.core.bundles.bundle import Bundle
from bertdesk.core.engine.embed import embed_texts
from bertdesk.core.errors import EmbedderMismatch, LibraryError, ReindexLibrary, UseModel
from bertdesk.core.library.retrieval import EMPTY_LIBRARY, PHRASE_BOOST, search_passages
from bertdesk.core.library.retrieval_query import MAX_QUERY_WORDS, NGRAM_WORDS, parse_question
from bertdesk.core.library.retrieval_vectors import forget
from bertdesk.core.library.schema import open_library
from bertdesk.core.models.opening import open_model_or_default

FILLER = (
    "The river winds through the valley for many miles before it reaches the sea. Farmers along its banks grow "
    "wheat and barley, and in spring the water rises over the lower fields.",
    "Railway lines reached the region late in the century. Goods that once travelled by cart now moved in a day, "
    "and the small towns along the line grew quickly.",
    "The committee met every second week to review the accounts. Its members disagreed about the budget for "
    "repairs, and the chairman asked for a fuller report.",
    "Bread is made from flour, water, salt and yeast. The dough is kneaded, left to rise, shaped and baked in a hot "
    "oven until the crust is brown.",
    "Migratory birds cross the strait in autumn. Observers count them from the cliffs, noting the species and the "
    "direction of the wind each morning.",
    "The old library holds manuscripts from several monasteries. Scholars visit to read the chronicles, which "
    "record harvests, floods and the deaths of abbots.",
)
FACTS = {
    "observatory": "The Kessel Observatory was founded in 1887 by the astronomer Maria Lindqvist, who chose the hill "
                   "for its dry air.",
    "harbour": "The harbour of Velmora handles forty thousand containers a week, most of them bound for the north.",
    "glacier": "Measurements show that the Orsand glacier retreated by three hundred metres between 1950 and 2000.",
}


def page_texts(fact: str | None, seed: int) -> str:
    """Two filler paragraphs around an optional fact, as a page of plain text."""
    first, second = FILLER[seed % len(FILLER)], FILLER[(seed + 3) % len(FILLER)]
    return "\n\n".join([first, fact, second] if fact else [first, second])


def paragraph_spans(text: str, overlap: bool) -> list[tuple[int, int]]:
    """Paragraph offsets of `text`; with `overlap`, each passage is two neighbouring paragraphs."""
    spans, start = [], 0
    for block in text.split("\n\n"):
        spans.append((start, start + len(block)))
        start += len(block) + 2
    if overlap and len(spans) > 1:
        return [(a[0], b[1]) for a, b in zip(spans, spans[1:], strict=False)]
    return spans


def fill_library(path: Path, embedder: Bundle, documents: Sequence[tuple[Path, Sequence[str]]], *,
                 overlap: bool = False, embedder_name: str | None = None) -> list[int]:
    """Documents (path, page texts) written straight into a library database of the real schema, as the indexer
    writes them (passages with exact page offsets, float16 unit vectors); returns their ids."""
    conn = open_library(path)
    ids = []
    try:
        conn.execute("BEGIN")
        meta = {"embedder": embedder_name or embedder.info.name, "embedder_precision": embedder.info.precision,
                "dim": str(embedder.info.hidden_size)}
        conn.executemany("INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)", meta.items())
        for doc_path, pages in documents:
            cursor = conn.execute(
                "INSERT INTO documents(path, source_id, content_hash, size, mtime, title, kind, page_count, "
                "blank_pages, indexed) VALUES (?, NULL, ?, ?, 0, ?, 'text', ?, '[]', ?)",
                (str(doc_path), f"hash-{doc_path}", sum(map(len, pages)), doc_path.stem, len(pages), time.time()),
            )
            doc_id = cursor.lastrowid
            ids.append(doc_id)
            rows = []
            for number, text in enumerate(pages, start=1):
                conn.execute("INSERT INTO pages(document_id, number, text) VALUES (?, ?, ?)", (doc_id, number, text))
                rows += [(number, s, e, text[s:e]) for s, e in paragraph_spans(text, overlap)]
            vectors = embed_texts(embedder, [r[3] for r in rows]).astype("<f2")
            conn.executemany(
                "INSERT INTO passages(document_id, page, start, end, text, vector) VALUES (?, ?, ?, ?, ?, ?)",
                [(doc_id, *row, v.tobytes()) for row, v in zip(rows, vectors, strict=True)],
            )
        conn.execute("COMMIT")
    finally:
        conn.close()
    return ids


def standard_documents(root: Path) -> list[tuple[Path, list[str]]]:
    """Three documents of three pages; each fact on a known page (observatory: doc 1 page 2, harbour: doc 2 page 3,
    glacier: doc 3 page 1)."""
    return [
        (root / "notes" / "astronomy.txt", [page_texts(None, 0), page_texts(FACTS["observatory"], 1),
                                            page_texts(None, 2)]),
        (root / "notes" / "ports.txt", [page_texts(None, 3), page_texts(None, 4), page_texts(FACTS["harbour"], 5)]),
        (root / "other" / "ice.txt", [page_texts(FACTS["glacier"], 6), page_texts(None, 7), page_texts(None, 8)]),
    ]


@pytest.fixture(scope="module")
def embedder() -> Bundle:
    """The default model, as the library embeds with it."""
    return open_model_or_default(None)


@pytest.fixture()
def library(tmp_path: Path, embedder: Bundle) -> SimpleNamespace:
    """A library of the three standard documents; `store.path` is all the searches need of a store."""
    path = tmp_path / "library.sqlite3"
    ids = fill_library(path, embedder, standard_documents(tmp_path))
    yield SimpleNamespace(path=path, ids=ids, root=tmp_path)
    forget(path)


def passage_row(path: Path, passage_id: int) -> tuple:
    conn = sqlite3.connect(path)
    try:
        return conn.execute("SELECT document_id, page, text FROM passages WHERE id = ?", (passage_id,)).fetchone()
    finally:
        conn.close()


@pytest.mark.parametrize(("question", "fact", "doc_index", "page"), [
    ("Who founded the Kessel Observatory?", "observatory", 0, 2),
    ("How many containers does the port of Velmora handle?", "harbour", 1, 3),
    ("How far did the glacier retreat?", "glacier", 2, 1),
])
def test_the_passage_with_the_fact_comes_first(library: SimpleNamespace, embedder: Bundle, question: str, fact: str,
                                                doc_index: int, page: int) -> None:
    hits = search_passages(library, question, embedder, limit=5)
    document_id, found_page, text = passage_row(library.path, hits[0].passage_id)
    assert (document_id, found_page, text) == (library.ids[doc_index], page, FACTS[fact])
    assert hits[0].bm25_rank == 1 and hits[0].dense_rank == 1
    assert hits[0].score == pytest.approx(2 / 61 + hits[0].phrase_boost)
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)


def test_dense_ranking_finds_a_paraphrase_without_shared_words(library: SimpleNamespace, embedder: Bundle) -> None:
    hits = search_passages(library, "ice sheet shrinking", embedder, limit=5)
    top = passage_row(library.path, hits[0].passage_id)
    assert top[2] == FACTS["glacier"]
    assert hits[0].bm25_rank is None and hits[0].dense_rank == 1  # "glacier" and "retreated" are not in the query


def test_filters_keep_only_the_chosen_documents_or_folder(library: SimpleNamespace, embedder: Bundle) -> None:
    question = "Who founded the Kessel Observatory?"
    only_ports = search_passages(library, question, embedder, document_ids=[library.ids[1]])
    assert {passage_row(library.path, h.passage_id)[0] for h in only_ports} == {library.ids[1]}
    in_other = search_passages(library, question, embedder, folder=library.root / "other")
    assert {passage_row(library.path, h.passage_id)[0] for h in in_other} == {library.ids[2]}
    in_notes = search_passages(library, question, embedder, folder=library.root / "notes", limit=50)
    assert {passage_row(library.path, h.passage_id)[0] for h in in_notes} == set(library.ids[:2])
    with pytest.raises(LibraryError, match="no document with id 999"):
        search_passages(library, question, embedder, document_ids=[999])
    with pytest.raises(LibraryError, match="no document in the library is in"):
        search_passages(library, question, embedder, folder=library.root / "elsewhere")


def test_a_quoted_phrase_found_verbatim_is_boosted(library: SimpleNamespace, embedder: Bundle) -> None:
    hits = search_passages(library, 'where is "forty thousand containers a week"', embedder, limit=20)
    boosted = [h for h in hits if h.phrase_boost > 0]
    assert len(boosted) == 1 and passage_row(library.path, boosted[0].passage_id)[2] == FACTS["harbour"]
    assert boosted[0].phrase_boost >= PHRASE_BOOST and hits[0] == boosted[0]
    # a long run of the question's words, unquoted, earns a smaller boost; a passage without it none
    hits = search_passages(library, "the astronomer Maria Lindqvist who chose the hill", embedder, limit=20)
    assert 0 < hits[0].phrase_boost <= PHRASE_BOOST and all(h.phrase_boost == 0 for h in hits[1:])


HOSTILE = ['"', '""', 'NEAR(river sea, 2)', "river*", "^river", "text:river", "passages_fts:river", "AND OR NOT",
           "(river", "river)", "-river", "+", "*", "'", "’ “river” «sea»", "rïvér ŒUVRE ß 北京 🙂", "\x00river",
           "_", "a_b", "{text}: river", "river NOT sea", "\\", "%", ";DROP TABLE passages;--"]


@pytest.mark.parametrize("question", HOSTILE)
def test_hostile_questions_never_raise(library: SimpleNamespace, embedder: Bundle, question: str) -> None:
    hits = search_passages(library, question, embedder, limit=3)
    assert len(hits) == 3  # the dense side always answers


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=60))
def test_any_text_makes_a_valid_fts_query(text: str) -> None:
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE VIRTUAL TABLE t USING fts5(text, tokenize='unicode61 remove_diacritics 2')")
    conn.execute("INSERT INTO t(text) VALUES ('the river winds through the valley'), (?)", (text,))
    expression = parse_question(text).match_expression()
    if expression is not None:
        conn.execute("SELECT rowid FROM t WHERE t MATCH ? ORDER BY rank", (expression,)).fetchall()
        for phrase in parse_question(text).phrases:
            conn.execute("SELECT rowid FROM t WHERE t MATCH ?", (f'"{" ".join(phrase)}"',)).fetchall()


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(min_size=1, max_size=40).filter(str.strip))
def test_any_question_searches_without_error(library: SimpleNamespace, embedder: Bundle, text: str) -> None:
    assert search_passages(library, text, embedder, limit=2)


def test_a_pasted_page_as_question_makes_a_bounded_query(library: SimpleNamespace, embedder: Bundle) -> None:
    page = " ".join(FILLER * 40) + " " + FACTS["glacier"]  # ~4,000 words
    parsed = parse_question(page)
    assert len(parsed.terms) <= MAX_QUERY_WORDS and len(parsed.ngrams) <= 6 * NGRAM_WORDS
    assert search_passages(library, page, embedder, limit=3)


@pytest.mark.parametrize("question", ["", "   ", "\n\t"])
def test_an_empty_question_is_one_clear_error(library: SimpleNamespace, embedder: Bundle, question: str) -> None:
    with pytest.raises(LibraryError, match="the question is empty"):
        search_passages(library, question, embedder)


def test_an_empty_library_says_how_to_fill_it(tmp_path: Path, embedder: Bundle) -> None:
    path = tmp_path / "empty.sqlite3"
    open_library(path).close()
    with pytest.raises(LibraryError) as caught:
        search_passages(SimpleNamespace(path=path), "anything", embedder)
    assert str(caught.value) == EMPTY_LIBRARY
    forget(path)


def test_a_library_indexed_with_another_embedder_is_refused(tmp_path: Path, embedder: Bundle) -> None:
    path = tmp_path / "other.sqlite3"
    fill_library(path, embedder, standard_documents(tmp_path)[:1], embedder_name="some-other-model")
    with pytest.raises(EmbedderMismatch, match="indexed with some-other-model") as error:
        search_passages(SimpleNamespace(path=path), "observatory", embedder)
    assert error.value.remedies == (UseModel("some-other-model"), ReindexLibrary(embedder.info.name))
    forget(path)


def test_the_cached_vectors_reload_when_passages_are_replaced(library: SimpleNamespace, embedder: Bundle) -> None:
    question = "What does the bakery sell on Sundays?"
    search_passages(library, question, embedder)  # the matrix is cached now
    conn = sqlite3.connect(library.path)
    count, largest = conn.execute("SELECT count(*), max(id) FROM passages").fetchone()
    conn.execute("PRAGMA foreign_keys = ON")
    with conn:
        conn.execute("DELETE FROM documents WHERE id = ?", (library.ids[2],))  # the last passages go
    conn.close()
    # the same number of passages comes back with the same ids: only data_version tells the matrix is stale
    pages = [page_texts("On Sundays the bakery sells only rye loaves and plum cake.", 6), page_texts(None, 7),
             page_texts(None, 8)]
    fill_library(library.path, embedder, [(library.root / "other" / "bakery.txt", pages)])
    conn = sqlite3.connect(library.path)
    assert conn.execute("SELECT count(*), max(id) FROM passages").fetchone() == (count, largest)
    conn.close()
    hits = search_passages(library, question, embedder, limit=3)
    top = passage_row(library.path, hits[0].passage_id)
    assert "rye loaves" in top[2] and hits[0].dense_rank == 1


def test_dense_search_at_scale_finds_the_planted_vector(tmp_path: Path, embedder: Bundle) -> None:
    """20,000 random unit vectors and one real passage: the passage is the dense side's first hit (the 100,000
    timing is in bench/library_bench.py)."""
    path = tmp_path / "big.sqlite3"
    fill_library(path, embedder, [(tmp_path / "fact.txt", [FACTS["observatory"]])])
    rng = np.random.default_rng(0)
    vectors = rng.standard_normal((20_000, embedder.info.hidden_size)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    conn = open_library(path)
    conn.execute("BEGIN")
    conn.executemany(
        "INSERT INTO passages(document_id, page, start, end, text, vector) VALUES (1, 1, 0, 4, 'noise', ?)",
        [(v.astype("<f2").tobytes(),) for v in vectors],
    )
    conn.execute("COMMIT")
    conn.close()
    hits = search_passages(SimpleNamespace(path=path), "Who founded the observatory?", embedder, limit=3)
    assert hits[0].passage_id == 1 and hits[0].dense_rank == 1
    forget(path)
