"""Indexing the queue: real documents extracted, split, embedded by a real (tiny) ONNX model and committed one
transaction per document; bad files logged with their reason while the rest imports; duplicates, changed, renamed
and deleted files; the embedder recorded; cancel and resume."""

from __future__ import annotations

import os
import shutil
import sqlite3
from pathlib import Path

import numpy as np
import pytest

from bertdesk.core.bundles.bundle import Bundle
from bertdesk.core.errors import EmbedderMismatch, JobCancelled, ReindexLibrary, UseModel
from bertdesk.core.files import hashing
from bertdesk.core.jobs import JobHandle
from bertdesk.core.library import format_pdf
from bertdesk.core.library import store as store_module
from bertdesk.core.library.format_types import Heading
from bertdesk.core.library.formats import extract_document
from bertdesk.core.library.indexer import IndexProgress, index_queue
from bertdesk.core.library.passages import split_passages
from bertdesk.core.library.store import LibraryStore, blob_vector
from tests.core.library.documents import (
    write_docx,
    write_encrypted_pdf,
    write_html,
    write_markdown,
    write_pdf,
    write_scanned_pdf,
    write_text,
)


def sentences(topic: str, count: int) -> str:
    return " ".join(f"Sentence {n} of the {topic} notes says the river bank is green." for n in range(count))


def good_documents(folder: Path) -> dict[str, int]:
    """Five readable documents; returns name → pages."""
    folder.mkdir(parents=True, exist_ok=True)
    write_pdf(folder / "report.pdf", [sentences("first", 8), sentences("second", 12), ""], "Annual report",
              scanned_pages=[3])
    write_docx(folder / "memo.docx", ["The memo opens here.", sentences("memo", 6)], page_breaks_after=[0])
    write_html(folder / "page.html", "Saved page", [sentences("web", 5)])
    write_markdown(folder / "note.md", "A note", [sentences("markdown", 4)])
    write_text(folder / "plain.txt", sentences("cp1252 café", 3), encoding="cp1252")
    return {"report.pdf": 3, "memo.docx": 2, "page.html": 1, "note.md": 1, "plain.txt": 1}


def bad_documents(folder: Path) -> dict[str, str]:
    """Files the library cannot import; returns name → words of the reason."""
    folder.mkdir(parents=True, exist_ok=True)
    write_encrypted_pdf(folder / "locked.pdf", "secret")
    write_scanned_pdf(folder / "scan.pdf", 2)
    (folder / "empty.txt").write_bytes(b"")
    (folder / "broken.pdf").write_bytes(b"%PDF-1.4\n1 0 obj garbage")
    (folder / "binary.txt").write_bytes(bytes(range(256)) * 40)
    return {"locked.pdf": "encrypted", "scan.pdf": "scanned", "empty.txt": "empty", "broken.pdf": "PDF",
            "binary.txt": "binary"}


def library_of(folder: Path, *sources: Path) -> Path:
    """A new library beside `folder` (lib.sqlite3) with `sources` added, by default the folder; returns its path."""
    db = folder.parent / "lib.sqlite3"
    with LibraryStore(db) as store:
        for source in sources or (folder,):
            store.add_source(source)
    return db


def run(db: Path, bundle: Bundle, handle: JobHandle | None = None) -> list[IndexProgress]:
    return list(index_queue(db, bundle, handle))


@pytest.fixture(scope="module")
def embedder(tiny_bundle: Path) -> Bundle:
    return Bundle(tiny_bundle)


def expected_passages(path: Path) -> int:
    document = extract_document(path)
    headings = document.headings or ((),) * len(document.pages)
    return sum(len(split_passages(page, headings=found)) for page, found in zip(document.pages, headings, strict=True))


def check_complete(db: Path) -> None:
    """Every document holds all its pages and the passages a clean import of its file gives, each with a unit
    vector and an FTS row; nothing else is in the tables."""
    conn = sqlite3.connect(db)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert conn.execute("INSERT INTO passages_fts(passages_fts, rank) VALUES ('integrity-check', 1)") is not None
        dim = int(dict(conn.execute("SELECT key, value FROM meta").fetchall()).get("dim", 0) or 0)
        for document_id, path, page_count in conn.execute("SELECT id, path, page_count FROM documents").fetchall():
            extracted = extract_document(Path(path))
            pages = conn.execute("SELECT number, text FROM pages WHERE document_id = ? ORDER BY number",
                                 (document_id,)).fetchall()
            assert pages == list(enumerate(extracted.pages, start=1)) and page_count == len(pages), path
            rows = conn.execute("SELECT page, start, end, text, vector FROM passages WHERE document_id = ? "
                                "ORDER BY id", (document_id,)).fetchall()
            assert len(rows) == expected_passages(Path(path)), path
            for page, start, end, text, vector in rows:
                assert extracted.pages[page - 1][start:end] == text
                values = blob_vector(vector)
                assert values.shape == (dim,) and abs(float(np.linalg.norm(values)) - 1.0) < 2e-3
        fts = conn.execute("SELECT count(*) FROM passages_fts").fetchone()[0]
        assert fts == conn.execute("SELECT count(*) FROM passages").fetchone()[0]
        orphans = conn.execute("SELECT count(*) FROM passages WHERE document_id NOT IN (SELECT id FROM documents)")
        assert orphans.fetchone()[0] == 0
    finally:
        conn.close()


def test_a_folder_imports_with_pages_passages_vectors_and_a_log_of_bad_files(tmp_path: Path,
                                                                             embedder: Bundle) -> None:
    docs = tmp_path / "docs"
    pages = good_documents(docs)
    reasons = bad_documents(docs)
    db = tmp_path / "lib.sqlite3"
    with LibraryStore(db) as store:
        assert store.add_source(docs) == len(pages) + len(reasons)
    progress = run(db, embedder)
    with LibraryStore(db) as store:
        documents = {d.path.name: d for d in store.documents()}
        assert {name: d.page_count for name, d in documents.items()} == pages
        assert documents["report.pdf"].blank_pages == (3,)
        assert documents["report.pdf"].title == "Annual report"
        assert store.documents(folder=docs) == store.documents()
        assert store.documents(folder=tmp_path / "do") == store.documents(folder=docs / "report.pdf") == []
        failures = {f.path.name: f.reason for f in store.failures()}
        assert set(failures) == set(reasons)
        for name, words in reasons.items():
            assert words in failures[name] and "\n" not in failures[name]
        assert store.queued() == []
        meta = store.meta()
        assert (meta["embedder"], meta["embedder_precision"], meta["dim"]) == (
            embedder.info.name, embedder.info.precision, str(embedder.info.hidden_size))
        passage = store.passage(store._conn.execute("SELECT min(id) FROM passages").fetchone()[0])
        assert passage.page_text[passage.start:passage.end] == passage.text
        hits = store._conn.execute("SELECT count(*) FROM passages_fts WHERE passages_fts MATCH 'cafe'").fetchone()[0]
        assert hits >= 1  # FTS rows follow the passages (diacritics folded)
    check_complete(db)
    last = progress[-1]
    assert (last.files_done, last.files_total, last.failures) == (10, 10, 5)
    assert last.passages == sum(expected_passages(docs / n) for n in pages) and last.fraction == 1.0
    fractions = [p.fraction for p in progress]
    assert fractions == sorted(fractions)
    assert any(p.current == "report.pdf" for p in progress)


def test_a_failure_inside_the_transaction_leaves_no_trace_of_the_document(tmp_path: Path, embedder: Bundle,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    docs = tmp_path / "docs"
    good_documents(docs)
    db = tmp_path / "lib.sqlite3"
    with LibraryStore(db) as store:
        store.add_source(docs / "report.pdf")
    calls = 0
    original = store_module.vector_blob

    def fail_on_the_second(vector: np.ndarray) -> bytes:
        nonlocal calls
        calls += 1
        if calls == 2:
            raise KeyboardInterrupt  # as Ctrl-C would, between two passages of one document
        return original(vector)

    monkeypatch.setattr(store_module, "vector_blob", fail_on_the_second)
    with pytest.raises(KeyboardInterrupt):
        run(db, embedder)
    monkeypatch.undo()
    with LibraryStore(db) as store:
        stats = store.stats()
        assert (stats.documents, stats.pages, stats.passages) == (0, 0, 0)
        assert [p.name for p in store.queued()] == ["report.pdf"]
    run(db, embedder)
    check_complete(db)


def test_same_bytes_twice_are_indexed_once_and_logged(tmp_path: Path, embedder: Bundle) -> None:
    docs = tmp_path / "docs"
    good_documents(docs)
    shutil.copy(docs / "note.md", docs / "note copy.md")
    db = library_of(docs)
    run(db, embedder)
    with LibraryStore(db) as store:
        names = {d.path.name for d in store.documents()}
        [failure] = store.failures()
        assert {"note copy.md", "note.md"} - names == {failure.path.name}  # one of the two, the other logged
        assert "same content as" in failure.reason and "not indexed twice" in failure.reason


def test_changed_touched_renamed_and_deleted_files_on_rescan(tmp_path: Path, embedder: Bundle) -> None:
    docs = tmp_path / "docs"
    good_documents(docs)
    db = library_of(docs)
    run(db, embedder)
    with LibraryStore(db) as store:
        ids = {d.path.name: d.id for d in store.documents()}
        passage_ids = dict(store._conn.execute("SELECT document_id, group_concat(id) FROM passages GROUP BY 1"))
        write_text(docs / "plain.txt", "Entirely new words about volcanoes. They erupt.")
        (docs / "note.md").touch()
        (docs / "note.md").rename(docs / "renamed note.md")
        html_bytes = (docs / "page.html").read_bytes()
        (docs / "page.html").unlink()
        memo_bytes = (docs / "memo.docx").read_bytes()
        os.utime(docs / "memo.docx", (1e9, 1e9))
        (docs / "memo.docx").write_bytes(memo_bytes)  # same bytes, new time: no re-indexing
        assert store.rescan() == 3  # plain.txt queued, note.md moved, page.html dropped
        assert [p.name for p in store.queued()] == ["plain.txt"]
        documents = {d.path.name: d.id for d in store.documents()}
        assert documents["renamed note.md"] == ids["note.md"] and "page.html" not in documents
        assert (docs / "renamed note.md").exists() and not (docs / "page.html").exists()
        assert html_bytes  # the deleted file was the test's doing; the library only dropped its document
        moved = dict(store._conn.execute("SELECT document_id, group_concat(id) FROM passages GROUP BY 1"))
        assert moved[ids["note.md"]] == passage_ids[ids["note.md"]]  # not embedded again
        assert moved[ids["memo.docx"]] == passage_ids[ids["memo.docx"]]
        assert store.rescan() == 0
    run(db, embedder)
    with LibraryStore(db) as store:
        assert {d.path.name: d.id for d in store.documents()}["plain.txt"] == ids["plain.txt"]
        texts = [t for (t,) in store._conn.execute("SELECT text FROM passages WHERE document_id = ?",
                                                    (ids["plain.txt"],))]
        assert texts == ["Entirely new words about volcanoes. They erupt."]
        old = store._conn.execute("SELECT count(*) FROM passages_fts WHERE passages_fts MATCH 'cp1252'").fetchone()
        assert old[0] == 0
    check_complete(db)


def test_a_renamed_file_found_in_the_queue_moves_its_document(tmp_path: Path, embedder: Bundle) -> None:
    docs = tmp_path / "docs"
    good_documents(docs)
    db = library_of(docs, docs / "note.md", docs / "page.html")
    run(db, embedder)
    (docs / "note.md").rename(docs / "moved.md")
    with LibraryStore(db) as store:
        before = store.stats().passages
        document_id = store.document_at(docs / "note.md").id
        store.queue_path(docs / "moved.md", None)  # as the watcher does for a file that appeared
    progress = run(db, embedder)
    with LibraryStore(db) as store:
        assert store.document_at(docs / "moved.md").id == document_id and store.document_at(docs / "note.md") is None
        assert store.stats().passages == before
    assert progress[-1].passages == 0


def test_removed_documents_stay_out_until_added_again_by_name(tmp_path: Path, embedder: Bundle) -> None:
    docs = tmp_path / "docs"
    good_documents(docs)
    db = library_of(docs)
    run(db, embedder)
    with LibraryStore(db) as store:
        memo = store.document_at(docs / "memo.docx")
        store.remove_document(memo.id)
        assert (docs / "memo.docx").is_file()
        assert store.rescan() == 0 and store.document_at(docs / "memo.docx") is None
        assert store.add_source(docs / "memo.docx") == 1
        [source] = [s for s in store.sources() if s.path == docs]
        store.remove_source(source.id)
        assert store.stats().documents == 0 and all(p.exists() for p in docs.iterdir())


def test_another_embedder_is_refused_until_the_library_is_reindexed(tmp_path: Path, tiny_bundle: Path,
                                                                     embedder: Bundle) -> None:
    docs = tmp_path / "docs"
    good_documents(docs)
    db = library_of(docs)
    run(db, embedder)
    other = Bundle(shutil.copytree(tiny_bundle, tmp_path / "other-model"))
    write_text(docs / "new.txt", "One more note.")
    with LibraryStore(db) as store:
        store.rescan()
    with pytest.raises(EmbedderMismatch) as error:
        run(db, other)
    assert str(error.value) == f"the library was indexed with {embedder.info.name}, not other-model"
    assert error.value.remedies == (UseModel(embedder.info.name), ReindexLibrary("other-model"))
    with LibraryStore(db) as store:
        assert store.reindex() == 5 and len(store.queued()) == 6
        assert store.stats().passages == 0
    run(db, other)
    with LibraryStore(db) as store:
        assert store.meta()["embedder"] == "other-model" and store.stats().documents == 6
    check_complete(db)


def test_cancel_keeps_finished_files_and_the_next_run_resumes(tmp_path: Path, embedder: Bundle) -> None:
    docs = tmp_path / "docs"
    good_documents(docs)
    db = library_of(docs)
    handle = JobHandle()
    seen = []
    with pytest.raises(JobCancelled):
        for progress in index_queue(db, embedder, handle):
            seen.append(progress)
            if progress.files_done == 2:
                handle.cancel()
    with LibraryStore(db) as store:
        assert store.stats().documents == 2 and len(store.queued()) == 3
    check_complete(db)
    last = run(db, embedder)[-1]
    assert (last.files_done, last.files_total) == (3, 3)
    with LibraryStore(db) as store:
        assert store.stats().documents == 5 and store.queued() == []
    check_complete(db)


def test_cancel_stops_a_long_pdf_between_pages_and_rolls_it_back_whole(tmp_path: Path, embedder: Bundle,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    write_text(docs / "a note.txt", sentences("short", 3))
    write_pdf(docs / "book.pdf", [sentences(f"chapter {n}", 20) for n in range(200)], "A long book")
    db = library_of(docs)
    handle = JobHandle()
    pages_read = 0

    def read_page(document: object, number: int) -> tuple[str, tuple[Heading, ...]]:
        nonlocal pages_read
        pages_read += 1
        if pages_read == 20:  # the user presses Stop while the book's pages are being read
            handle.cancel()
        return real_read_page(document, number)

    real_read_page = format_pdf.read_page
    monkeypatch.setattr(format_pdf, "read_page", read_page)
    with pytest.raises(JobCancelled):
        run(db, embedder, handle)
    assert pages_read == 20, f"{pages_read} of 200 pages were read after the cancel"
    with LibraryStore(db) as store:
        assert [d.path.name for d in store.documents()] == ["a note.txt"]
        assert [p.name for p in store.queued()] == ["book.pdf"] and store.stats().pages == 1
    check_complete(db)


def test_a_failed_file_is_retried_once_it_changes_or_on_request(tmp_path: Path, embedder: Bundle) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "later.txt").write_bytes(b"")
    db = library_of(docs)
    run(db, embedder)
    with LibraryStore(db) as store:
        assert [f.reason for f in store.failures()] == ["empty file"]
        assert store.rescan() == 0  # unchanged: not tried at every start
        assert store.retry() == 1 and store.failures() == []
    run(db, embedder)
    write_text(docs / "later.txt", "Now it has words in it.")
    with LibraryStore(db) as store:
        assert store.rescan() == 1
    run(db, embedder)
    with LibraryStore(db) as store:
        assert store.failures() == [] and store.stats().documents == 1


def test_a_huge_file_is_refused_by_its_size_without_being_read(tmp_path: Path, embedder: Bundle,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    from bertdesk.core.library import indexer

    docs = tmp_path / "docs"
    docs.mkdir()
    with (docs / "huge.txt").open("wb") as stream:
        stream.truncate(1_100_000_000)  # sparse: 1.1 GB on paper, nothing on disk
    write_text(docs / "small.txt", "A small note.")
    hashed = []
    monkeypatch.setattr(indexer, "sha256_file", lambda path: hashed.append(path.name) or hashing.sha256_file(path))
    db = library_of(docs)
    run(db, embedder)
    with LibraryStore(db) as store:
        assert [(f.path.name, f.reason) for f in store.failures()] == [("huge.txt", "file too large (1.1 GB > 200 MB)")]
        assert store.stats().documents == 1
    assert hashed == ["small.txt"]


def test_an_emptied_library_records_the_next_embedder(tmp_path: Path, tiny_bundle: Path, embedder: Bundle) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    write_text(docs / "a.txt", "First note.")
    db = tmp_path / "lib.sqlite3"
    with LibraryStore(db) as store:
        store.add_source(docs / "a.txt")
    run(db, embedder)
    with LibraryStore(db) as store:
        store.remove_document(store.documents()[0].id)
        write_text(docs / "b.txt", "Second note.")
        store.add_source(docs / "b.txt")
    other = Bundle(shutil.copytree(tiny_bundle, tmp_path / "other-model"))
    run(db, other)
    with LibraryStore(db) as store:
        assert store.meta()["embedder"] == "other-model"


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes are POSIX")
def test_a_named_pipe_with_a_documents_name_is_skipped_never_waited_on(tmp_path: Path, embedder: Bundle) -> None:
    import threading

    docs = tmp_path / "docs"
    docs.mkdir()
    os.mkfifo(docs / "pipe.txt")  # opening it for reading would wait for a writer forever
    write_text(docs / "late.txt", "A note that becomes a pipe after it was queued.")
    write_text(docs / "small.txt", "A small note.")
    db = tmp_path / "lib.sqlite3"
    with LibraryStore(db) as store:
        assert store.add_source(docs) == 2  # the pipe is no document
    (docs / "late.txt").unlink()
    os.mkfifo(docs / "late.txt")
    finished = threading.Event()
    worker = threading.Thread(target=lambda: (run(db, embedder), finished.set()), daemon=True)
    worker.start()
    assert finished.wait(120), "the import waited on a named pipe"
    with LibraryStore(db) as store:
        assert [d.path.name for d in store.documents()] == ["small.txt"]
        reasons = {f.path.name: f.reason for f in store.failures()}  # the pipe at add time, the late one at import
        assert reasons == dict.fromkeys(["late.txt", "pipe.txt"], "not a regular file (a pipe, socket or device)")
