"""The folder watcher on real files: created, modified, renamed and deleted files reach the library (queued, moved
without re-indexing, dropped) and on_change is told; stop() ends its threads."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

from bertdesk.core.bundles.bundle import Bundle
from bertdesk.core.library.indexer import index_queue
from bertdesk.core.library.store import LibraryStore
from bertdesk.core.library.watch import FolderWatcher
from tests.core.library.documents import write_markdown, write_text

WAIT_S = 15.0


def wait_for(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError(f"not seen within {WAIT_S} s: {what}")


def test_watched_folder_changes_reach_the_library(tmp_path: Path, tiny_bundle: Path) -> None:
    docs, outside = tmp_path / "docs", tmp_path / "elsewhere"
    docs.mkdir()
    outside.mkdir()
    write_markdown(docs / "kept.md", "Kept", ["A note that stays."])
    write_text(docs / "moved.txt", "A note that is renamed.")
    write_text(docs / "deleted.txt", "A note that is deleted.")
    db = tmp_path / "lib.sqlite3"
    embedder = Bundle(tiny_bundle)
    with LibraryStore(db) as store:
        store.add_source(docs, watch=True)
    list(index_queue(db, embedder))
    reported: list[Path] = []
    lock = threading.Lock()

    def on_change(paths: list[Path]) -> None:
        with lock:
            reported.extend(paths)

    store = LibraryStore(db)
    watcher = FolderWatcher(db, on_change, debounce_s=0.2)
    watcher.start()
    try:
        moved_id = store.document_at(docs / "moved.txt").id
        write_text(docs / "new.txt", "A new note.")
        (docs / ".hidden.txt").write_text("never indexed")
        (docs / "photo.jpg").write_bytes(b"\xff\xd8")
        wait_for(lambda: docs / "new.txt" in store.queued(), "a new file queued")
        write_markdown(docs / "kept.md", "Kept", ["A note that stays, and changed."])
        wait_for(lambda: docs / "kept.md" in store.queued(), "a changed file queued")
        (docs / "moved.txt").rename(docs / "renamed.txt")
        wait_for(lambda: store.document_at(docs / "renamed.txt") is not None, "a renamed file followed")
        assert store.document_at(docs / "renamed.txt").id == moved_id  # the same document: not indexed again
        assert store.document_at(docs / "moved.txt") is None
        (docs / "sub").mkdir()
        write_text(docs / "sub" / "inner.txt", "A note in a folder that is renamed.")
        wait_for(lambda: docs / "sub" / "inner.txt" in store.queued(), "a file in a new folder queued")
        watcher.stop()
        list(index_queue(db, embedder))
        inner_id = store.document_at(docs / "sub" / "inner.txt").id
        watcher.start()
        (docs / "sub").rename(docs / "renamed sub")
        wait_for(lambda: store.document_at(docs / "renamed sub" / "inner.txt") is not None, "a renamed folder")
        assert store.document_at(docs / "renamed sub" / "inner.txt").id == inner_id
        (docs / "deleted.txt").unlink()
        wait_for(lambda: store.document_at(docs / "deleted.txt") is None, "a deleted file dropped")
        (docs / "renamed.txt").rename(outside / "renamed.txt")
        wait_for(lambda: store.document_at(docs / "renamed.txt") is None, "a file moved out dropped")
        assert (outside / "renamed.txt").read_text() == "A note that is renamed."

        def told() -> bool:
            with lock:
                return {docs / "new.txt", docs / "kept.md", docs / "deleted.txt"} <= set(reported)

        wait_for(told, "on_change told")
        assert store.queued() == []  # the renamed folder's file was not queued again
    finally:
        watcher.stop()
        store.close()
    list(index_queue(db, embedder))
    with LibraryStore(db) as store:
        assert {d.path.name for d in store.documents()} == {"kept.md", "new.txt", "inner.txt"}
        assert store.queued() == []


def test_a_watched_single_file_is_followed(tmp_path: Path, tiny_bundle: Path) -> None:
    write_text(tmp_path / "one.txt", "First words.")
    write_text(tmp_path / "other.txt", "Not part of the library.")
    db = tmp_path / "lib.sqlite3"
    with LibraryStore(db) as store:
        store.add_source(tmp_path / "one.txt", watch=True)
    list(index_queue(db, Bundle(tiny_bundle)))
    changed = threading.Event()
    watcher = FolderWatcher(db, lambda paths: changed.set(), debounce_s=0.1)
    watcher.start()
    try:
        write_text(tmp_path / "other.txt", "Changed, still not part of it.")
        write_text(tmp_path / "one.txt", "Second words.")
        assert changed.wait(WAIT_S)
        with LibraryStore(db) as store:
            assert store.queued() == [tmp_path / "one.txt"]
    finally:
        watcher.stop()
