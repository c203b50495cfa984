"""The library database file: created in WAL mode with foreign keys, versioned and migrated in one transaction, and
refused in one line (never written, never deleted) when it is not a bertdesk library or is damaged."""

from __future__ import annotations

import hashlib
import os
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from contextlib import closing
from pathlib import Path

import pytest

from bertdesk.core.errors import ChooseAnotherLibrary, LibraryError, ListDocuments
from bertdesk.core.library import schema
from bertdesk.core.library.folder_scan import NOT_UTF8
from bertdesk.core.library.store import LibraryStore, default_db_path
from tests.core.library.documents import write_markdown, write_text

TABLES = {"meta", "sources", "documents", "pages", "passages", "passages_fts", "queue", "failures"}


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def one_line(exc: pytest.ExceptionInfo) -> str:
    message = str(exc.value)
    assert message and "\n" not in message
    return message


def test_a_new_library_is_the_current_schema_in_wal_mode_with_foreign_keys(tmp_path: Path) -> None:
    with LibraryStore(tmp_path / "sub" / "lib.sqlite3") as store:
        conn = store._conn
        assert conn.execute("PRAGMA user_version").fetchone()[0] == schema.SCHEMA_VERSION == 2
        assert conn.execute("PRAGMA application_id").fetchone()[0] == schema.APPLICATION_ID
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
        assert conn.execute("PRAGMA busy_timeout").fetchone()[0] >= 10_000
        names = {n for (n,) in conn.execute("SELECT name FROM sqlite_master WHERE type IN ('table', 'view')")}
        assert names >= TABLES


def test_the_default_library_lives_in_the_data_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BERTDESK_DATA", str(tmp_path / "data"))
    assert default_db_path() == tmp_path / "data" / "library.sqlite3"
    with LibraryStore() as store:
        assert store.path == tmp_path / "data" / "library.sqlite3"
    assert (tmp_path / "data" / "library.sqlite3").is_file()


@pytest.mark.parametrize("how", ["empty file", "sqlite file with no tables"])
def test_a_version_0_file_migrates_to_the_current_version(tmp_path: Path, how: str) -> None:
    path = tmp_path / "lib.sqlite3"
    if how == "empty file":
        path.write_bytes(b"")
    else:
        conn = sqlite3.connect(path)
        conn.execute("PRAGMA user_version = 0")
        conn.execute("VACUUM")
        conn.close()
        assert path.stat().st_size > 0
    with LibraryStore(path) as store:
        assert store._conn.execute("PRAGMA user_version").fetchone()[0] == schema.SCHEMA_VERSION
        assert store.stats().documents == 0


def test_a_version_1_library_migrates_with_its_queue_untried(tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "lib.sqlite3"
    (tmp_path / "docs").mkdir()
    write_text(tmp_path / "docs" / "a.txt", "Some text.")
    monkeypatch.setattr(schema, "MIGRATIONS", schema.MIGRATIONS[:1])
    with LibraryStore(path) as store:
        store._conn.execute("INSERT INTO queue(path, source_id, queued) VALUES (?, NULL, 1.0)",
                            (str(tmp_path / "docs" / "a.txt"),))
    monkeypatch.undo()
    with LibraryStore(path) as store:
        assert store._conn.execute("PRAGMA user_version").fetchone()[0] == 2
        assert store.next_queued() == (tmp_path / "docs" / "a.txt", None, 0)


def _library_with_a_source(tmp_path: Path) -> Path:
    path = tmp_path / "lib.sqlite3"
    (tmp_path / "docs").mkdir()
    write_text(tmp_path / "docs" / "a.txt", "Some text.")
    with LibraryStore(path) as store:
        store.add_source(tmp_path / "docs")
    return path


def test_a_migration_step_runs_and_keeps_the_data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = _library_with_a_source(tmp_path)

    def to_v2(conn: sqlite3.Connection) -> None:
        conn.execute("ALTER TABLE sources ADD COLUMN label TEXT NOT NULL DEFAULT ''")

    monkeypatch.setattr(schema, "MIGRATIONS", (*schema.MIGRATIONS, to_v2))
    with LibraryStore(path) as store:
        assert store._conn.execute("PRAGMA user_version").fetchone()[0] == schema.SCHEMA_VERSION + 1
        assert store._conn.execute("SELECT label FROM sources").fetchall() == [("",)]
        assert [p.name for p in store.queued()] == ["a.txt"]


def test_a_failing_migration_leaves_the_old_version_whole(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = _library_with_a_source(tmp_path)

    def broken_v2(conn: sqlite3.Connection) -> None:
        conn.execute("ALTER TABLE sources ADD COLUMN label TEXT")
        conn.execute("ALTER TABLE no_such_table ADD COLUMN x TEXT")

    monkeypatch.setattr(schema, "MIGRATIONS", (*schema.MIGRATIONS, broken_v2))
    with pytest.raises(LibraryError) as error:
        LibraryStore(path)
    assert str(path) in one_line(error)
    monkeypatch.undo()
    with LibraryStore(path) as store:
        assert store._conn.execute("PRAGMA user_version").fetchone()[0] == schema.SCHEMA_VERSION
        columns = [row[1] for row in store._conn.execute("PRAGMA table_info(sources)")]
        assert "label" not in columns
        assert [p.name for p in store.queued()] == ["a.txt"]


def _sqlite(*statements: str) -> Callable[[Path], None]:
    """A maker of an SQLite file holding what `statements` write."""
    def make(path: Path) -> None:
        with closing(sqlite3.connect(path)) as conn:
            for statement in statements:
                conn.execute(statement)
            conn.commit()

    return make


def _newer_library(path: Path) -> None:
    LibraryStore(path).close()
    _sqlite("PRAGMA user_version = 99")(path)


@pytest.mark.parametrize("make, words", [
    (lambda p: p.write_bytes(os.urandom(8192)), "not a bertdesk library"),
    (lambda p: p.write_text("just some notes\n" * 100), "not a bertdesk library"),
    (_sqlite("CREATE TABLE contacts(name TEXT)", "INSERT INTO contacts VALUES ('Ada')"), "not a bertdesk library"),
    (_sqlite("PRAGMA application_id = 1234", "CREATE TABLE t(x)"), "another program"),
    (_newer_library, "newer bertdesk"),
])
def test_a_file_that_is_not_a_library_is_refused_and_left_untouched(tmp_path: Path, make, words: str) -> None:
    path = tmp_path / "lib.sqlite3"
    make(path)
    before = digest(path)
    with pytest.raises(LibraryError) as error:
        LibraryStore(path)
    assert words in one_line(error)
    assert error.value.remedies == (() if words == "newer bertdesk" else (ChooseAnotherLibrary(),))
    assert digest(path) == before


def test_a_damaged_library_is_an_error_in_one_line_and_stays_as_it_was(tmp_path: Path) -> None:
    path = tmp_path / "lib.sqlite3"
    docs = tmp_path / "docs"
    docs.mkdir()
    for n in range(300):
        write_markdown(docs / f"note{n:03}.md", f"Note {n}", [f"Paragraph {n} " * 20])
    with LibraryStore(path) as store:
        store.add_source(docs)
    size = path.stat().st_size
    assert size > 8 * 4096
    with path.open("r+b") as stream:  # the header survives; the pages after it are noise
        stream.seek(2 * 4096)
        stream.write(os.urandom(size - 3 * 4096))
    before = digest(path)
    with pytest.raises(LibraryError) as error, LibraryStore(path) as store:
        store.queued()
        store.stats()
    assert "damaged" in one_line(error)
    assert digest(path) == before


def test_a_folder_or_an_impossible_place_for_the_database_is_refused(tmp_path: Path) -> None:
    with pytest.raises(LibraryError) as error:
        LibraryStore(tmp_path)
    assert "is a folder" in one_line(error)
    (tmp_path / "file").write_text("x")
    with pytest.raises(LibraryError) as error:
        LibraryStore(tmp_path / "file" / "lib.sqlite3")
    one_line(error)
    with pytest.raises(LibraryError) as error:
        LibraryStore(Path("/proc/bertdesk-no-such/lib.sqlite3"))
    one_line(error)
    assert (tmp_path / "file").read_text() == "x"


def test_sources_queue_supported_files_recursively_without_hidden_ones(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    (docs / "sub").mkdir(parents=True)
    (docs / ".hidden").mkdir()
    for name in ("a.txt", "sub/b.md", "sub/C.HTML", ".hidden/d.txt", ".e.txt", "f.bin", "g.csv"):
        (docs / name).write_text("Some words.")
    with LibraryStore(tmp_path / "lib.sqlite3") as store:
        assert store.add_source(docs) == 3
        assert [p.relative_to(docs).as_posix() for p in store.queued()] == ["a.txt", "sub/C.HTML", "sub/b.md"]
        assert store.add_source(docs) == 0  # already queued
        [source] = store.sources()
        assert (source.path, source.is_folder, source.watch) == (docs, True, False)
        store.add_source(docs, watch=True)
        assert store.sources()[0].watch


@pytest.mark.parametrize("name, words", [("missing", "does not exist"), ("empty", "holds no file the library reads"),
                                         ("x.bin", "not a file the library reads")])
def test_a_source_that_gives_nothing_to_read_is_refused(tmp_path: Path, name: str, words: str) -> None:
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "photo.jpg").write_bytes(b"\xff\xd8")
    (tmp_path / "x.bin").write_bytes(b"\0\1")
    with LibraryStore(tmp_path / "lib.sqlite3") as store:
        with pytest.raises(LibraryError) as error:
            store.add_source(tmp_path / name)
        assert words in one_line(error)
        assert store.sources() == []


def test_an_empty_folder_can_be_watched(tmp_path: Path) -> None:
    (tmp_path / "inbox").mkdir()
    with LibraryStore(tmp_path / "lib.sqlite3") as store:
        assert store.add_source(tmp_path / "inbox", watch=True) == 0
        assert [s.watch for s in store.sources()] == [True]


def test_unknown_ids_are_one_line_errors(tmp_path: Path) -> None:
    with LibraryStore(tmp_path / "lib.sqlite3") as store:
        for call in (lambda: store.remove_document(7), lambda: store.remove_source(7), lambda: store.passage(7)):
            with pytest.raises(LibraryError) as error:
                call()
            assert "7" in one_line(error)
        with pytest.raises(LibraryError) as error:
            store.remove_document(7)
        assert error.value.remedies == (ListDocuments(),)  # the ids are listed where the documents are


def test_a_write_waits_for_another_process_holding_the_lock(tmp_path: Path) -> None:
    """busy_timeout: a second process's write transaction makes this one wait, not fail with 'database is locked'."""
    path = tmp_path / "lib.sqlite3"
    (tmp_path / "docs").mkdir()
    write_text(tmp_path / "docs" / "a.txt", "Some text.")
    LibraryStore(path).close()
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sqlite3, sys, time\n"
         f"c = sqlite3.connect({str(path)!r}, isolation_level=None)\n"
         "c.execute('BEGIN IMMEDIATE'); c.execute(\"INSERT INTO meta VALUES ('holder', 'x')\")\n"
         "print('locked', flush=True); time.sleep(1.5); c.execute('COMMIT')"],
        stdout=subprocess.PIPE, text=True)
    assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
    started = time.monotonic()
    with LibraryStore(path) as store:
        assert store.add_source(tmp_path / "docs") == 1
        waited = time.monotonic() - started
        assert store.meta()["holder"] == "x"
    assert holder.wait(10) == 0
    assert waited > 0.5


def test_a_file_name_that_is_not_utf8_is_skipped_or_refused_in_one_line(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    odd = Path(os.fsdecode(os.fsencode(docs) + b"/caf\xe9.txt"))
    odd.write_text("Words in a file with a Latin-1 name.")
    write_text(docs / "plain.txt", "Words.")
    with LibraryStore(tmp_path / "lib.sqlite3") as store:
        assert store.add_source(docs) == 1
        assert [p.name for p in store.queued()] == ["plain.txt"]
        with pytest.raises(LibraryError) as error:
            store.add_source(odd)
        assert "not valid UTF-8" in one_line(error) and "caf\\xe9.txt" in one_line(error)
        assert [(f.path.name, f.reason) for f in store.failures()] == [("caf\\xe9.txt", NOT_UTF8)]
