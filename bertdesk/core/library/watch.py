"""Keeping watched sources in sync while the app runs: watchdog reports file changes, which are debounced and turned
into queue rows (new or changed files), moved documents (renames: no re-indexing) or dropped documents (deletions;
the library never deletes a file)."""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from pathlib import Path

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer

from bertdesk.core.errors import BertdeskError
from bertdesk.core.library.folder_scan import (
    FileState,
    Skipped,
    absolute,
    is_hidden,
    printable,
    scan_folder,
    skip_reason,
    storable,
)
from bertdesk.core.library.formats import file_kind
from bertdesk.core.library.records import SourceInfo
from bertdesk.core.library.store import LibraryStore

log = logging.getLogger(__name__)

#: Quiet time after the last event before the changes are applied (editors write a file in several steps).
DEBOUNCE_S = 0.5
#: Changes are applied at the latest this long after the first one, even while events keep coming.
MAX_DELAY_S = 5.0

_CHANGED = {"created", "modified", "closed"}


class _Forward(FileSystemEventHandler):
    """Hands every watchdog event to the watcher's own thread (watchdog's thread must not touch the database)."""

    def __init__(self, events: queue.Queue) -> None:
        self._events = events

    def on_any_event(self, event: FileSystemEvent) -> None:
        self._events.put(event)


class FolderWatcher:
    """Watches the library's sources marked `watch` (a watchdog Observer) and keeps the library in step: new and
    changed files are queued, renamed ones moved, deleted ones dropped; then `on_change(paths)` is called on the
    watcher's thread with the paths concerned (index the queue from there, or signal a thread that does)."""

    def __init__(self, db_path: Path, on_change: Callable[[list[Path]], None], *,
                 debounce_s: float = DEBOUNCE_S) -> None:
        self.db_path = db_path
        self._on_change = on_change
        self._debounce_s = debounce_s
        self._events: queue.Queue[FileSystemEvent | None] = queue.Queue()
        self._observer: Observer | None = None
        self._thread: threading.Thread | None = None
        self._sources: list[SourceInfo] = []

    @property
    def sources(self) -> list[SourceInfo]:
        """The watched sources, as of start()."""
        return list(self._sources)

    def start(self) -> None:
        """Start watching every source marked `watch` that exists now."""
        if self._thread is not None:
            raise RuntimeError("the watcher is already running")
        with LibraryStore(self.db_path) as store:
            self._sources = [s for s in store.sources() if s.watch]
        observer = Observer()
        handler = _Forward(self._events)
        for source in self._sources:
            if source.is_folder and source.path.is_dir():
                observer.schedule(handler, str(source.path), recursive=True)
            elif not source.is_folder and source.path.parent.is_dir():
                observer.schedule(handler, str(source.path.parent), recursive=False)
        observer.start()
        self._observer = observer
        self._thread = threading.Thread(target=self._work, name="library-watcher", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop watching; changes already seen are applied first. Returns once both threads have ended."""
        if self._observer is not None:
            self._observer.stop()
            self._observer.join()
            self._observer = None
        if self._thread is not None:
            self._events.put(None)
            self._thread.join()
            self._thread = None

    def _work(self) -> None:
        with LibraryStore(self.db_path) as store:
            pending: list[FileSystemEvent] = []
            first = 0.0
            while True:
                timeout = None
                if pending:
                    timeout = max(0.0, min(self._debounce_s, first + MAX_DELAY_S - time.monotonic()))
                try:
                    event = self._events.get(timeout=timeout)
                except queue.Empty:
                    self._flush(store, pending)
                    pending = []
                    continue
                if event is None:
                    self._flush(store, pending)
                    return
                if not pending:
                    first = time.monotonic()
                pending.append(event)

    def _flush(self, store: LibraryStore, events: list[FileSystemEvent]) -> None:
        changed: dict[Path, None] = {}
        for event in events:
            try:
                for path in self._apply(store, event):
                    changed[path] = None
            except (BertdeskError, OSError) as exc:  # a locked database, a file gone again: the watcher goes on
                log.warning("library watcher: %s", exc)
        if changed:
            self._on_change(list(changed))

    def _watched(self, path: Path) -> SourceInfo | None:
        """The watched source that holds `path` as a file the library reads, or None."""
        for source in sorted(self._sources, key=lambda s: len(s.path.parts), reverse=True):
            if path == source.path or (source.is_folder and source.path in path.parents):
                if source.is_folder and is_hidden(path.relative_to(source.path)):
                    return None
                return source
        return None

    def _apply(self, store: LibraryStore, event: FileSystemEvent) -> list[Path]:
        """Carry out one event; returns the paths whose library state changed."""
        path = absolute(Path(str(event.src_path)))
        kind = event.event_type
        if kind == "deleted":
            if not storable(path) or self._watched(path) is None:
                return []
            store.drop_path(path)
            return [path]
        if kind == "moved":
            target = absolute(Path(str(event.dest_path)))
            source = self._watched(target)
            if source is not None and storable(path) and storable(target):
                moved = store.move_path(path, target, source.id)
                return [path, target] if moved or self._queue(store, target, source) else []
            # out of the watched folders, or from or to a name that is not UTF-8 (the library cannot hold it)
            changed = [path] if storable(path) and self._watched(path) and store.drop_path(path) else []
            return changed + [target] if source is not None and self._queue(store, target, source) else changed
        if kind in _CHANGED and not (event.is_directory and kind == "modified"):
            source = self._watched(path)
            return [path] if source is not None and self._queue(store, path, source) else []
        return []

    @staticmethod
    def _queue(store: LibraryStore, path: Path, source: SourceInfo) -> bool:
        """Queue a new or changed file, or a folder's files; True if anything was queued or logged as skipped (with
        the reason, as the walk of an added folder does: see `skip_reason`)."""
        folder = source.path if source.is_folder else None
        if storable(path) and path.is_dir() and not path.is_symlink():  # a link to a folder is never followed
            scan = scan_folder(path, folder)
            store.record_skipped(scan.skipped, source.id)
            files = [f for f in scan.files if store.document_at(f) is None]
            return sum(store.queue_path(f, source.id) for f in files) > 0 or bool(scan.skipped)
        if file_kind(path) is None or path.is_dir():
            return False
        try:
            reason = skip_reason(path, folder)
        except FileNotFoundError:
            return False
        if reason is not None:
            store.record_skipped([Skipped(printable(path), reason)], source.id)
            return True
        document = store.document_at(path)
        state = FileState.of(path)
        if document is not None and (document.size, document.mtime) == (state.size, state.mtime):
            return False  # a folder move reported file by file after the folder's documents moved
        return store.queue_path(path, source.id)
