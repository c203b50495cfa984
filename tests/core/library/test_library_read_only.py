"""A library that cannot be written (a read-only file, or a file in a read-only folder) still lists, reports its status
and answers questions, creating nothing; commands that change it say so in one line (exit 2) and leave it as it was.
A --db that does not exist is no library: reading commands say so and create nothing."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from bertdesk.cli import main
from bertdesk.core.library.retrieval_vectors import forget
from tests.core.library.test_indexer import good_documents


@pytest.fixture(autouse=True)
def private_data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Nothing a test runs touches the user's data folder (the default library and models live there)."""
    monkeypatch.setenv("BERTDESK_DATA", str(tmp_path / "data"))


def library(capsys: pytest.CaptureFixture, *args: str) -> tuple[int, str, str]:
    code = main(["library", *args])
    out, err = capsys.readouterr()
    return code, out, err


@contextmanager
def read_only(path: Path) -> Iterator[None]:
    """`path` (a file or folder) made unwritable for this process: the immutable attribute for root, whom permission
    bits do not stop, else the permission bits. Undone on exit."""
    if os.geteuid() == 0:
        subprocess.run(["chattr", "+i", str(path)], check=True)
        try:
            yield
        finally:
            subprocess.run(["chattr", "-i", str(path)], check=True)
        return
    mode = path.stat().st_mode
    path.chmod(mode & 0o555)
    try:
        yield
    finally:
        path.chmod(mode)


def folder_state(folder: Path) -> dict[str, tuple[bytes, int]]:
    return {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in sorted(folder.iterdir())}


@pytest.fixture(scope="module")
def built_library(tmp_path_factory: pytest.TempPathFactory, tiny_bundle: Path) -> Path:
    """A library of five documents indexed with the tiny model (its files closed: no journal files beside it)."""
    root = tmp_path_factory.mktemp("ro")
    docs = root / "docs"
    good_documents(docs)
    db = root / "lib" / "lib.sqlite3"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("BERTDESK_DATA", str(root / "data"))
        assert main(["library", "add", str(docs), "--db", str(db), "--model", str(tiny_bundle)]) == 0
    forget(db)
    assert sorted(p.name for p in db.parent.iterdir()) == ["lib.sqlite3"]
    return db


@pytest.mark.parametrize("what", ["file", "folder"])
def test_a_read_only_library_is_read_and_refuses_changes_in_one_line(
        tmp_path: Path, built_library: Path, tiny_bundle: Path, capsys: pytest.CaptureFixture, what: str) -> None:
    db = tmp_path / "lib" / "lib.sqlite3"
    db.parent.mkdir()
    shutil.copy2(built_library, db)
    before = folder_state(db.parent)
    with read_only(db if what == "file" else db.parent):
        code, out, err = library(capsys, "list", "--db", str(db), "--json")
        assert code == 0, err
        assert len(json.loads(out)["documents"]) == 5
        code, out, err = library(capsys, "status", "--db", str(db), "--json")
        assert code == 0, err
        assert json.loads(out)["documents"] == 5
        code, out, err = library(capsys, "ask", "Who wrote the report?", "--db", str(db), "--model",
                                 str(tiny_bundle), "--json")
        assert code == 0, err
        assert json.loads(out)["answers"]
        forget(db)
        model = ["--model", str(tiny_bundle)]
        for argv in (["add", str(tmp_path), "--watch", *model], ["remove", "1"], ["index", *model], ["retry", *model]):
            code, out, err = library(capsys, *argv, "--db", str(db))
            assert code == 2, (argv, err)
            assert out == "" and err.count("\n") == 1 and "cannot be changed" in err, (argv, err)
            assert "it can still be listed and asked" in err
        assert folder_state(db.parent) == before  # nothing written, no journal files made


def test_a_read_only_folder_whose_log_holds_commits_is_read_with_them(tmp_path: Path, built_library: Path,
                                                                      capsys: pytest.CaptureFixture) -> None:
    db = tmp_path / "lib" / "lib.sqlite3"
    db.parent.mkdir()
    shutil.copy2(built_library, db)
    # A process that died after committing leaves its commits in the write-ahead log: copy the files while a
    # connection that never checkpoints holds them.
    crashed = tmp_path / "crashed"
    crashed.mkdir()
    writer = sqlite3.connect(db, isolation_level=None)
    try:
        writer.execute("PRAGMA wal_autocheckpoint = 0")
        writer.execute("DELETE FROM documents WHERE id = (SELECT min(id) FROM documents)")
        for part in db.parent.iterdir():
            shutil.copy2(part, crashed / part.name)
    finally:
        writer.close()
    assert (crashed / "lib.sqlite3-wal").stat().st_size > 0
    before = folder_state(crashed)
    with read_only(crashed):
        code, out, err = library(capsys, "list", "--db", str(crashed / "lib.sqlite3"), "--json")
    assert code == 0, err
    assert len(json.loads(out)["documents"]) == 4  # the deletion in the log is seen
    after = folder_state(crashed)
    assert after.keys() == before.keys()  # SQLite's shared-memory index may be rebuilt, the data files not
    assert {n: after[n] for n in ("lib.sqlite3", "lib.sqlite3-wal")} == {n: before[n] for n in ("lib.sqlite3",
                                                                                               "lib.sqlite3-wal")}


@pytest.mark.parametrize("action", [["list"], ["status"], ["ask", "Who?"], ["remove", "1"], ["index"],
                                    ["reindex"], ["retry"]])
def test_a_db_that_does_not_exist_is_no_library_and_nothing_is_created(tmp_path: Path,
                                                                       capsys: pytest.CaptureFixture,
                                                                       action: list[str]) -> None:
    db = tmp_path / "nowhere" / "lib.sqlite3"
    code, out, err = library(capsys, *action, "--db", str(db))
    assert code == 2, err
    assert out == "" and err.count("\n") == 1, err
    assert err.endswith(f"there is no library at {db}: add files with `bertdesk library add PATH`, or give another "
                        "--db file\n"), err
    assert not db.parent.exists()


@pytest.mark.parametrize("action", [["list"], ["status"], ["ask", "Who?"], ["index"], ["retry"]])
def test_an_empty_file_is_no_library_and_is_left_empty(tmp_path: Path, capsys: pytest.CaptureFixture,
                                                       action: list[str]) -> None:
    db = tmp_path / "lib.sqlite3"
    db.touch()
    code, out, err = library(capsys, *action, "--db", str(db))
    assert code == 2, err
    assert out == "" and err.count("\n") == 1 and f"there is no library at {db}" in err, err
    assert [p.name for p in tmp_path.iterdir()] == ["lib.sqlite3"] and db.stat().st_size == 0


def test_a_new_library_in_a_read_only_folder_is_refused_in_one_line(tmp_path: Path,
                                                                    capsys: pytest.CaptureFixture) -> None:
    docs = tmp_path / "docs"
    good_documents(docs)
    shelf = tmp_path / "shelf"
    shelf.mkdir()
    with read_only(shelf):
        code, out, err = library(capsys, "add", str(docs), "--db", str(shelf / "lib.sqlite3"))
    assert code == 2 and out == "" and err.count("\n") == 1, err
    assert f"{shelf / 'lib.sqlite3'} cannot be created: its folder {shelf} is read-only" in err
    assert list(shelf.iterdir()) == []
