"""`library ask`, `list` and `status` under the CLI's contract (exit 0 with JSON, or exit 2 with one line): any
question text (lone surrogates as undecodable argv bytes arrive included), and a genuine library whose cells another
program overwrote (garbage text, a BLOB where text belongs, a number where JSON belongs): a damaged row is named in a
warning and left out, the rest is still listed and answered."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import assume, example, given
from hypothesis import strategies as st

from bertdesk.core.bundles.bundle import Bundle
from bertdesk.core.library.indexer import index_queue
from bertdesk.core.library.store import LibraryStore
from tests.cli.test_contract_properties import PROGRESS, assert_contract, common, numbers, run_cli, texts
from tests.core.library.documents import write_text
from tests.core.library.test_indexer import sentences

NOTES = {"rivers.txt": "rivers", "mountains.txt": "mountains", "cities.txt": "cities"}


@pytest.fixture(scope="module")
def indexed_library(tmp_path_factory: pytest.TempPathFactory, tiny_bundle: Path) -> Path:
    """A library of three notes indexed with the tiny bundle (no QA model installed: answers are retrieved)."""
    root = tmp_path_factory.mktemp("contract-library")
    docs = root / "docs"
    docs.mkdir()
    for name, topic in NOTES.items():
        write_text(docs / name, sentences(topic, 6))
    db = root / "lib.sqlite3"
    with LibraryStore(db) as store:
        store.add_source(docs)
    list(index_queue(db, Bundle(tiny_bundle)))
    return db


@pytest.fixture(autouse=True)
def private_folders(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BERTDESK_DATA", str(tmp_path / "data"))
    monkeypatch.setenv("BERTDESK_MODELS", str(tmp_path / "models"))  # no reader installed


def copy_library(db: Path, target: Path) -> Path:
    """A consistent copy of the library at `db` (SQLite's backup: the write-ahead log included)."""
    with sqlite3.connect(db) as source, sqlite3.connect(target) as copy:
        source.backup(copy)
    return target


def ask(db: Path, tiny_bundle: Path, question: str, *options: str) -> tuple[int, str, str]:
    return run_cli(["library", "ask", question, "--db", str(db), "--model", str(tiny_bundle), "--json", *options])


def warnings(err: str) -> list[str]:
    return [line for line in err.splitlines() if line and not PROGRESS.match(line)]


@common
@given(question=texts, top_k=st.one_of(st.none(), numbers))
@example(question="where are the rivers \udce9?", top_k=None)
@example(question="\ud800", top_k="3")
def test_ask_any_question(indexed_library: Path, tiny_bundle: Path, question: str, top_k: str | None) -> None:
    options = ["--top-k", top_k] if top_k is not None else []
    code, out, err = ask(indexed_library, tiny_bundle, question, *options)
    assert_contract(["library", "ask", question, *options], code, out, err)


def test_a_question_of_bytes_that_are_not_utf8_is_refused_at_the_door(indexed_library: Path,
                                                                      tiny_bundle: Path) -> None:
    env = {**os.environ, "BERTDESK_THREADS": "1"}
    result = subprocess.run([sys.executable, "-m", "bertdesk", "library", "ask", b"where is the caf\xe9?",
                             "--db", str(indexed_library), "--model", str(tiny_bundle)],
                            capture_output=True, text=True, env=env, timeout=120)
    assert result.returncode == 2, result.stderr
    assert warnings(result.stderr) == [
        "bertdesk: error: the question is not valid UTF-8 (byte 0xe9 at character 17); pass UTF-8 text, or pipe the "
        "text in with - to have its encoding detected"]


def _damage(db: Path, sql: str, *params: object) -> None:
    with sqlite3.connect(db) as conn:
        conn.execute(sql, params)


def _id_of(db: Path, name: str) -> int:
    with sqlite3.connect(db) as conn:
        return conn.execute("SELECT id FROM documents WHERE path LIKE ?", (f"%/{name}",)).fetchone()[0]


@pytest.mark.parametrize(("column", "value", "detail"), [
    ("blank_pages", "not json", "blank_pages is not JSON"),
    ("blank_pages", '{"a": 1}', "blank_pages is not a list of page numbers"),
    ("title", b"\xff\x00", "title holds bytes where text belongs"),
    ("page_count", "many", "page_count holds str where a whole number belongs"),
    ("path", b"/etc/\xff", "path holds bytes where text belongs"),
])
def test_a_damaged_document_row_is_named_and_left_out_of_list_and_status(
        indexed_library: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture, column: str, value: object,
        detail: str) -> None:
    db = copy_library(indexed_library, tmp_path / "lib.sqlite3")
    damaged = _id_of(db, "rivers.txt")
    _damage(db, f"UPDATE documents SET {column} = ? WHERE id = ?", value, damaged)
    code, out, err = run_cli(["library", "list", "--db", str(db), "--json"])
    assert code == 0, err
    assert sorted(Path(d["path"]).name for d in json.loads(out)["documents"]) == ["cities.txt", "mountains.txt"]
    [warning] = caplog.messages  # one line on stderr outside pytest, which captures the log
    assert warning.startswith(f"document {damaged} ") and warning.endswith(f"is damaged in the library ({detail}): "
                                                                           "left out"), warning
    code, out, err = run_cli(["library", "status", "--db", str(db), "--json"])
    assert code == 0, err
    assert json.loads(out)["documents"] == 3 and caplog.messages == [warning, warning]  # list's, then status'
    code, out, err = run_cli(["library", "status", "--db", str(db)])
    assert code == 0 and out.startswith("3 documents"), err


def test_damaged_import_log_sources_and_settings_are_left_out_of_status(indexed_library: Path, tmp_path: Path,
                                                                        caplog: pytest.LogCaptureFixture) -> None:
    db = copy_library(indexed_library, tmp_path / "lib.sqlite3")
    _damage(db, "INSERT INTO failures(path, reason, at) VALUES ('/docs/bad.pdf', ?, 1.0)", b"\x00\xff")
    _damage(db, "INSERT INTO failures(path, reason, at) VALUES ('/docs/odd.pdf', 'encrypted PDF', 'yesterday')")
    _damage(db, "INSERT INTO sources(path, is_folder, watch, added) VALUES (?, 1, 0, 1.0)", b"\xfe")
    _damage(db, "UPDATE meta SET value = ? WHERE key = 'embedder_precision'", b"\x01")
    code, out, err = run_cli(["library", "status", "--db", str(db), "--json"])
    assert code == 0, err
    status = json.loads(out)
    assert status["failures"] == [] and len(status["sources"]) == 1 and status["embedder_precision"] is None
    assert len(caplog.messages) == 4, caplog.messages
    assert "the import log's entry for /docs/bad.pdf is damaged in the library (reason holds bytes where text " \
           "belongs): left out" in caplog.messages


def test_a_library_whose_every_document_is_damaged_lists_nothing_with_exit_2(
        indexed_library: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    db = copy_library(indexed_library, tmp_path / "lib.sqlite3")
    _damage(db, "UPDATE documents SET blank_pages = 'garbage'")
    code, out, err = run_cli(["library", "list", "--db", str(db)])
    assert code == 2 and out == ""
    assert len(caplog.messages) == 3
    assert warnings(err) == [f"bertdesk: error: every document of the library {db} is damaged (see above); re-index "
                             "them with `bertdesk library reindex`, or move the library away and add the files again"]


@pytest.mark.parametrize(("damage", "found"), [
    ("UPDATE passages SET text = X'fffe00' WHERE document_id = ?", {"cities.txt", "mountains.txt"}),
    ("UPDATE passages SET start = start + 1 WHERE document_id = ?", {"cities.txt", "mountains.txt"}),
    ("UPDATE pages SET text = 'overwritten' WHERE document_id = ?", {"cities.txt", "mountains.txt"}),
    # a passage whose vector is damaged is still found by its words (BM25), not by meaning
    ("UPDATE passages SET vector = X'0000' WHERE document_id = ?", set(NOTES)),
    ("UPDATE passages SET vector = 'a vector' WHERE document_id = ?", set(NOTES)),
], ids=["passage-text-blob", "passage-offsets", "page-text", "short-vector", "text-vector"])
def test_ask_leaves_out_a_damaged_passage_and_answers_from_the_rest(indexed_library: Path, tiny_bundle: Path,
                                                                    tmp_path: Path, caplog: pytest.LogCaptureFixture,
                                                                    damage: str, found: set[str]) -> None:
    db = copy_library(indexed_library, tmp_path / "lib.sqlite3")
    _damage(db, damage, _id_of(db, "rivers.txt"))
    code, out, err = ask(db, tiny_bundle, "What does the rivers note say?", "--top-k", "5")
    assert code == 0, err
    answers = json.loads(out)["answers"]
    assert answers and {Path(a["path"]).name for a in answers} <= found
    assert caplog.messages and all("damaged" in line for line in caplog.messages), caplog.messages


COLUMNS = {
    "documents": ["path", "title", "kind", "page_count", "blank_pages", "size", "indexed", "content_hash", "mtime"],
    "pages": ["text", "number"],
    "passages": ["text", "start", "end", "page", "vector", "document_id"],
    "failures": ["path", "reason", "at"],
    "sources": ["path", "is_folder", "watch"],
    "meta": ["key", "value"],
}
cell_values = st.one_of(st.binary(max_size=12), st.text(max_size=12), st.integers(-(2**63), 2**63 - 1),
                        st.floats(allow_nan=False), st.sampled_from(["[1, 2]", "[\"x\"]", "{}", "null", "1e999"]))


@common
@given(table=st.sampled_from(sorted(COLUMNS)), data=st.data(), value=cell_values,
       command=st.sampled_from(["list", "status", "ask"]))
def test_any_damaged_cell_keeps_the_contract(indexed_library: Path, tiny_bundle: Path, table: str,
                                             data: st.DataObject, value: object, command: str,
                                             tmp_path_factory: pytest.TempPathFactory) -> None:
    column = data.draw(st.sampled_from(COLUMNS[table]))
    db = copy_library(indexed_library, tmp_path_factory.mktemp("damaged") / "lib.sqlite3")
    try:
        _damage(db, f"UPDATE {table} SET {column} = ? WHERE rowid = (SELECT min(rowid) FROM {table})", value)
    except sqlite3.Error:
        assume(False)  # a constraint the library's schema keeps (NOT NULL, UNIQUE, a foreign key)
    argv = ["library", command, *(["the rivers"] if command == "ask" else []), "--db", str(db), "--json",
            *(["--model", str(tiny_bundle)] if command == "ask" else [])]
    code, out, err = run_cli(argv)
    assert_contract(argv, code, out, err)


def test_indexing_the_same_bytes_beside_a_document_whose_path_is_damaged(indexed_library: Path, tmp_path: Path,
                                                                         tiny_bundle: Path) -> None:
    """The import looks for documents with the same bytes (not embedded twice): a damaged one is passed over."""
    db = copy_library(indexed_library, tmp_path / "lib.sqlite3")
    _damage(db, "UPDATE documents SET path = ? WHERE id = ?", b"/etc/\xff", _id_of(db, "rivers.txt"))
    again = tmp_path / "again"
    again.mkdir()
    write_text(again / "rivers-copy.txt", sentences("rivers", 6))
    with LibraryStore(db) as store:
        store.add_source(again)
    list(index_queue(db, Bundle(tiny_bundle)))
    code, out, err = run_cli(["library", "list", "--db", str(db), "--json"])
    assert code == 0, err
    assert "rivers-copy.txt" in {Path(d["path"]).name for d in json.loads(out)["documents"]}
