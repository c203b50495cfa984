"""Hostile things in an added or watched folder: a link to a file outside it (never indexed), a named pipe (never
opened: it would block), dangling and looping links, a folder that cannot be read and a name that is not UTF-8 —
each listed in the import log with its reason while the rest imports."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from bertdesk.core.bundles.bundle import Bundle
from bertdesk.core.library.folder_scan import LINK_OUTSIDE, NOT_UTF8
from bertdesk.core.library.indexer import index_queue
from bertdesk.core.library.store import LibraryStore
from bertdesk.core.library.watch import FolderWatcher
from tests.core.library.documents import write_text
from tests.core.library.test_watch import wait_for

pytestmark = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes and links as on POSIX")

TIMEOUT = 120
SECRET = "Zanzibarian password hunter2 of the outside file."
PIPE = "not a regular file (a pipe, socket or device)"
HOSTILE = {
    "passwd.txt": LINK_OUTSIDE,
    "pipe.txt": PIPE,
    "dangling.md": "a link to nothing (its target does not exist)",
    "loop.txt": "a link that leads back to itself (a loop)",
    "caf\\xe9.txt": NOT_UTF8,
}


def hostile_folder(docs: Path, outside: Path) -> None:
    """`docs` with one good document, a link inside it, and each thing of HOSTILE; the secret lives in `outside`."""
    docs.mkdir()
    outside.mkdir(exist_ok=True)
    write_text(outside / "secret.txt", SECRET)
    write_text(docs / "good.txt", "A good note about rivers and their banks.")
    (docs / "sub").mkdir()
    write_text(docs / "sub" / "inner.txt", "An inner note about mountains.")
    os.symlink(outside / "secret.txt", docs / "passwd.txt")
    os.mkfifo(docs / "pipe.txt")
    os.symlink(docs / "missing.md", docs / "dangling.md")
    os.symlink("loop.txt", docs / "loop.txt")
    Path(os.fsdecode(os.fsencode(docs) + b"/caf\xe9.txt")).write_text("Words in a file with a Latin-1 name.")
    os.symlink("outside-folder", docs / "linked-folder")  # a link to a folder is never followed, and not listed
    os.symlink(outside, docs / "outside-folder")


def _cli(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "BERTDESK_DATA": str(tmp_path / "data"), "BERTDESK_MODELS": str(tmp_path / "models")}
    try:
        return subprocess.run([sys.executable, "-m", "bertdesk", "library", *args], capture_output=True, text=True,
                              env=env, timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        pytest.fail(f"bertdesk library {' '.join(args)} still ran after {TIMEOUT} s (a pipe opened?)")


def _reasons(failures: list[dict], docs: Path) -> dict[str, str]:
    return {os.path.relpath(f["path"], docs): f["reason"] for f in failures}


def _pages_text(db: Path) -> str:
    with sqlite3.connect(db) as conn:
        return "\n".join(text for (text,) in conn.execute("SELECT text FROM pages"))


def test_hostile_files_in_an_added_folder_are_listed_with_their_reasons_and_never_read(
        tmp_path: Path, tiny_bundle: Path) -> None:
    docs, db = tmp_path / "docs", tmp_path / "lib.sqlite3"
    hostile_folder(docs, tmp_path / "outside")
    result = _cli(tmp_path, "add", str(docs), "--db", str(db), "--model", str(tiny_bundle), "--json")
    assert result.returncode == 0, result.stderr[-2000:]
    added = json.loads(result.stdout)
    assert _reasons(added["failures"], docs) == HOSTILE
    assert "Zanzibarian" not in _pages_text(db)
    listed = json.loads(_cli(tmp_path, "list", "--db", str(db), "--json").stdout)["documents"]
    assert sorted(os.path.relpath(d["path"], docs) for d in listed) == ["good.txt", "sub/inner.txt"]
    for _ in range(2):  # the rescan of `library index` finds them again: still listed, once each
        result = _cli(tmp_path, "index", "--db", str(db), "--model", str(tiny_bundle), "--json")
        assert result.returncode == 0, result.stderr[-2000:]
        status = json.loads(_cli(tmp_path, "status", "--db", str(db), "--json").stdout)
        assert _reasons(status["failures"], docs) == HOSTILE
    human = _cli(tmp_path, "status", "--db", str(db)).stdout
    assert f"  failed: {docs}/caf\\xe9.txt: {NOT_UTF8}" in human.splitlines()


def test_a_folder_that_cannot_be_read_is_listed(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    (docs / "locked").mkdir(parents=True)
    write_text(docs / "good.txt", "A good note.")
    write_text(docs / "locked" / "hidden.txt", "A note nobody may read.")
    (docs / "locked").chmod(0)
    try:
        try:
            os.listdir(docs / "locked")
        except PermissionError:
            pass
        else:
            pytest.skip("the tests run with permission to read any folder (as root): chmod 000 stops nothing")
        with LibraryStore(tmp_path / "lib.sqlite3") as store:
            assert store.add_source(docs) == 1
            assert [(f.path, f.reason) for f in store.failures()] == [
                (docs / "locked", "cannot read the folder: Permission denied")]
    finally:
        (docs / "locked").chmod(0o755)


def _docs_and_secret(tmp_path: Path) -> tuple[Path, Path, Path]:
    """An empty documents folder, a folder beside it holding a secret, and where the library goes."""
    docs, outside = tmp_path / "docs", tmp_path / "outside"
    docs.mkdir()
    outside.mkdir()
    write_text(outside / "secret.txt", SECRET)
    return docs, outside, tmp_path / "lib.sqlite3"


def test_an_indexed_file_that_became_a_link_outside_leaves_the_library_at_the_rescan(tmp_path: Path,
                                                                                   tiny_bundle: Path) -> None:
    docs, outside, db = _docs_and_secret(tmp_path)
    write_text(docs / "note.txt", "A note about rivers that is swapped for a link once it is indexed.")
    with LibraryStore(db) as store:
        store.add_source(docs)
    list(index_queue(db, Bundle(tiny_bundle)))
    (docs / "note.txt").unlink()
    os.symlink(outside / "secret.txt", docs / "note.txt")
    with LibraryStore(db) as store:
        store.rescan()
        assert store.documents() == [] and store.queued() == []
        assert [(f.path.name, f.reason) for f in store.failures()] == [("note.txt", LINK_OUTSIDE)]


def test_a_queued_file_that_became_a_link_outside_is_refused_when_its_turn_comes(tmp_path: Path,
                                                                                tiny_bundle: Path) -> None:
    docs, outside, db = _docs_and_secret(tmp_path)
    write_text(docs / "note.txt", "A note that is swapped for a link after it was queued.")
    write_text(docs / "other.txt", "Another note about rivers.")
    with LibraryStore(db) as store:
        assert store.add_source(docs) == 2
    (docs / "note.txt").unlink()
    os.symlink(outside / "secret.txt", docs / "note.txt")
    list(index_queue(db, Bundle(tiny_bundle)))
    with LibraryStore(db) as store:
        assert [(f.path.name, f.reason) for f in store.failures()] == [("note.txt", LINK_OUTSIDE)]
        assert [d.path.name for d in store.documents()] == ["other.txt"]
    assert "Zanzibarian" not in _pages_text(db)


def test_hostile_files_in_a_watched_folder_are_listed_and_never_read(tmp_path: Path, tiny_bundle: Path) -> None:
    db, watched = tmp_path / "lib.sqlite3", tmp_path / "watched"
    watched.mkdir()
    with LibraryStore(db) as store:
        store.add_source(watched, watch=True)
    watcher = FolderWatcher(db, lambda paths: None, debounce_s=0.2)
    watcher.start()
    try:
        hostile_folder(watched / "docs", tmp_path / "outside")
        with LibraryStore(db) as store:
            wait_for(lambda: len(store.failures()) == len(HOSTILE), "every hostile file listed")
            wait_for(lambda: {p.name for p in store.queued()} == {"good.txt", "inner.txt"}, "the good files queued")
    finally:
        watcher.stop()
    list(index_queue(db, Bundle(tiny_bundle)))
    with LibraryStore(db) as store:
        failures = [{"path": str(f.path), "reason": f.reason} for f in store.failures()]
        assert _reasons(failures, watched / "docs") == HOSTILE
        assert sorted(d.path.name for d in store.documents()) == ["good.txt", "inner.txt"]
    assert "Zanzibarian" not in _pages_text(db)
