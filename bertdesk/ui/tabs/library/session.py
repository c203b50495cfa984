"""The library session: one library's database operations (one at a time, off the GUI thread), its embedding model,
the indexing of the files waiting (resumable) and its watched folders kept in sync. A QObject without widgets that
says what happens by its signals: the main window starts one for the default library, so that the library is kept
in sync whether or not the Library tab is built, and the tab is a view of it."""

from __future__ import annotations

import contextlib
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QTimer, Signal

from bertdesk.core.errors import BertdeskError, LibraryError
from bertdesk.core.jobs import JobHandle
from bertdesk.core.library import FolderWatcher, IndexProgress, LibraryStore, default_db_path, index_queue
from bertdesk.ui.error_text import error_text
from bertdesk.ui.tabs.library.library_jobs import (
    AskOutcome,
    OpOutcome,
    Snapshot,
    StoreOp,
    ask_job,
    open_embedder,
    rescan_unless_read_only,
    run_op,
)
from bertdesk.ui.workers import JobRunner

if TYPE_CHECKING:
    from bertdesk.core.bundles import Bundle

#: Changes the folder watcher reports closer together than this are indexed together.
WATCH_SETTLE_MS = 500
#: While indexing, the library is listed again at most this often (a library of small files finishes many a second).
LIST_INTERVAL_S = 1.0
#: The description of the operation that opens the embedding model (its failure is told to what waited for it).
OPEN_EMBEDDER = "open the embedding model"


@dataclass
class _Op:
    description: str
    fn: Callable[[JobHandle], object]
    then: Callable[[object], None] | None


@dataclass(frozen=True)
class ImportStatus:
    """What the import is doing, as the progress area shows it."""

    #: The latest progress the import reported (kept once it ended; None before its first report).
    progress: IndexProgress | None = None
    #: Before the first report: what is starting; once the import ended: how it ended ("" for nothing to say).
    note: str = ""
    #: The import is starting (the model being opened, say) or under way: it can be cancelled.
    running: bool = False


def _count(n: int, noun: str) -> str:
    return f"{n:,} {noun}" if n == 1 else f"{n:,} {noun}s"


def import_summary(progress: IndexProgress) -> str:
    """What an import run did, in words: the files imported (failed ones not counted among them) and the failures."""
    imported = progress.files_done - progress.failures
    failed = f"{_count(progress.failures, 'file')} could not be imported (listed below)."
    if imported == 0 and progress.failures:
        return f"Nothing was imported: {failed}"
    note = (f"Imported {_count(imported, 'file')}: {_count(progress.pages, 'page')}, "
            f"{_count(progress.passages, 'passage')}.")
    return f"{note} {failed}" if progress.failures else note


class LibrarySession(QObject):
    """The library at `db_path` and what runs on it: operations queued one at a time, the embedding model opened
    when first needed, the import of the files waiting, and the watched folders (their changes indexed). `start()`
    rescans the library and resumes an interrupted import."""

    #: The library was listed again (a Snapshot, also kept as `snapshot`).
    listed = Signal(object)
    #: The import's state changed (an ImportStatus, also kept as `import_status`).
    import_changed = Signal(object)
    #: A problem with the library, one line ("" once an addition went well); kept as `problem_text`.
    problem = Signal(str)
    #: The embedding model could not be opened (why): a question waiting for it is not asked.
    embedder_failed = Signal(str)
    #: What the status bar should say (problems, an import resumed, files changed since the last start).
    status_message = Signal(str)
    #: Paths the folder watcher reported (emitted on its thread, delivered on the GUI thread).
    watched_changed = Signal(object)

    def __init__(
        self,
        parent: QObject | None = None,
        *,
        db_path: str | Path | None = None,
        embedder: str | Path | None = None,
    ) -> None:
        """`db_path`: the library database (default: `library.sqlite3` in the data folder); `embedder`: the
        embedding model's folder (default: the one the library was indexed with, else the default model)."""
        super().__init__(parent)
        self._db_path = Path(db_path) if db_path is not None else None
        self._embedder_location = embedder
        self.embedder: Bundle | None = None
        self._embedder_waiters: list[Callable[[], None]] = []
        self._opening_embedder = False
        self.index_runner: JobRunner[object, IndexProgress] = JobRunner(self)
        self.ops_runner: JobRunner[object, None] = JobRunner(self)
        self._ops: deque[_Op] = deque()
        self._op: _Op | None = None
        self._started = False
        self._watcher: FolderWatcher | None = None
        self._watched_paths: frozenset[Path] = frozenset()
        self.snapshot: Snapshot | None = None
        self.import_status = ImportStatus()
        self.problem_text = ""
        self._index_again = False  # files were queued while indexing: index again when it ends
        self._resuming = 0  # files left by an interrupted run, being resumed
        self._refresh_pending = False
        self._listed_at = 0.0  # when indexing last listed the library again (time.monotonic)
        self._list_cost = 0.0  # how long showing the last listing took on the GUI thread, in seconds
        self._watch_timer = QTimer(self)
        self._watch_timer.setSingleShot(True)
        self._watch_timer.setInterval(WATCH_SETTLE_MS)
        self._watch_timer.timeout.connect(lambda: self.refresh(then_index=True))
        self.watched_changed.connect(lambda _paths: self._watch_timer.start())
        self.index_runner.partial.connect(self._index_partial)
        self.index_runner.finished.connect(self._index_finished)
        self.index_runner.errored.connect(self._index_errored)
        self.index_runner.cancelled.connect(self._index_cancelled)
        self.ops_runner.finished.connect(self._op_finished)
        self.ops_runner.errored.connect(self._op_errored)
        self.ops_runner.cancelled.connect(self._next_op)
        # Deleted with jobs under way (by a parent that did not shut it down): their outcomes are dropped, not
        # delivered to runners whose timers are gone.
        runners = (self.index_runner, self.ops_runner)
        self.destroyed.connect(lambda: [runner.cancel_all() for runner in runners])

    def start(self) -> None:
        """Rescan the library (files changed while the app was closed) and resume an interrupted import; once."""
        if self._started:
            return
        self._started = True
        self._enqueue(_Op("rescan the library", self._store_op(rescan_unless_read_only, writes=None),
                          self._rescanned))

    # --- the database and the serial library operations ---------------------------------------------------

    @property
    def db_path(self) -> Path:
        """The library database file (the default one is found on first use: StorageError if the data folder
        cannot be created)."""
        if self._db_path is None:
            self._db_path = default_db_path()
        return self._db_path

    @property
    def watcher(self) -> FolderWatcher | None:
        """The folder watcher while the library has watched folders (and they can be watched), else None."""
        return self._watcher

    def _store_op(self, op: StoreOp, *, writes: bool | None = True) -> Callable[[JobHandle], OpOutcome]:
        db_path = self._db_path  # None: the default, found on the worker thread (its error is reported there)
        return lambda handle: run_op(db_path or default_db_path(), op, handle, writes=writes)

    def _enqueue(self, op: _Op) -> None:
        """Run `op` after the operations before it (they share the database one at a time)."""
        self._ops.append(op)
        if self._op is None:
            self._next_op()

    def _next_op(self) -> None:
        self._op = self._ops.popleft() if self._ops else None
        if self._op is not None:
            self.ops_runner.submit(self._op.fn, self._op.description)

    def _op_finished(self, value: object) -> None:
        op = self._op
        if isinstance(value, OpOutcome):
            self._listed(value.snapshot)
            value = value.value
        if op is not None and op.then is not None:
            op.then(value)
        self._next_op()

    def _op_errored(self, message: str) -> None:
        op = self._op
        self._say(message)
        if op is not None and op.description == OPEN_EMBEDDER:
            self._opening_embedder = False
            self._embedder_waiters.clear()
            self._set_import(ImportStatus(note=f"The embedding model could not be opened: {message}"))
            self.embedder_failed.emit(message)
        self._next_op()

    def _say(self, message: str) -> None:
        """A problem with the library (one line; "" clears it), also for the status bar."""
        self.problem_text = message
        self.problem.emit(message)
        if message:
            self.status_message.emit(message)

    def _set_import(self, status: ImportStatus) -> None:
        self.import_status = status
        self.import_changed.emit(status)

    def refresh(self, *, then_index: bool = False) -> None:
        """List the library again (off the GUI thread); with `then_index`, index the files waiting."""
        if not then_index and self._refresh_pending:
            return
        self._refresh_pending = True

        def done(_value: object) -> None:
            self._refresh_pending = False
            if then_index and self.snapshot is not None and self.snapshot.queued:
                self.start_indexing()

        self._enqueue(_Op("list the library", self._store_op(lambda store, handle: None, writes=False), done))

    def _listed(self, snapshot: Snapshot) -> None:
        self.snapshot = snapshot
        started = time.monotonic()
        self.listed.emit(snapshot)
        self._list_cost = time.monotonic() - started
        watched = frozenset(s.path for s in snapshot.sources if s.watch)
        if watched != self._watched_paths:
            self._watched_paths = watched
            self._restart_watcher()

    def waiting(self) -> int:
        """How many files an interrupted or cancelled import left in the queue, while no import runs (0 else)."""
        return self.snapshot.queued if self.snapshot is not None and not self.import_status.running else 0

    def _rescanned(self, changes: object) -> None:
        queued = self.snapshot.queued if self.snapshot is not None else 0
        if queued:
            self._resuming = queued
            self.status_message.emit(f"Library: resuming the import interrupted last time ({queued} files left).")
            self.start_indexing()
        elif isinstance(changes, int) and changes:
            self.status_message.emit(f"Library: {changes} file(s) changed on disk since the last start.")

    # --- adding, removing, retrying ------------------------------------------------------------------------

    def add_paths(self, paths: list[Path], *, watch: bool) -> None:
        """Add files and folders to the library (folders watched if `watch`) and index them in the background; a
        path that cannot be added is reported, the others are added."""
        paths = [Path(p) for p in paths]

        def add(store: LibraryStore, handle: JobHandle) -> tuple[int, list[str]]:
            queued, problems = 0, []
            for path in paths:
                handle.check()
                try:
                    queued += store.add_source(path, watch=watch and path.is_dir())
                except LibraryError as exc:
                    problems.append(f"{path.name}: {error_text(exc)}")
            return queued, problems

        def added(value: object) -> None:
            assert isinstance(value, tuple)
            queued, problems = value
            self._say("; ".join(problems))
            if queued:
                self.start_indexing()
            elif not problems:
                self.status_message.emit("Nothing new to import: those files are in the library already.")

        self._enqueue(_Op("add to the library", self._store_op(add), added))

    def remove(self, kind: str, ident: int) -> None:
        """Remove a document ("document") or a source and its documents ("source") from the library; files on disk
        are not touched."""

        def remove(store: LibraryStore, handle: JobHandle) -> None:
            if kind == "source":
                store.remove_source(ident)
            else:
                store.remove_document(ident)

        self._enqueue(_Op("remove from the library", self._store_op(remove), None))

    def retry(self, path: Path | None) -> None:
        """Import a failed file again (None: every failed file)."""
        self._enqueue(_Op(
            "retry an import", self._store_op(lambda store, handle: store.retry(path)),
            lambda count: self.start_indexing() if count else None,
        ))

    # --- the embedding model and indexing ------------------------------------------------------------------

    def with_embedder(self, then: Callable[[], None]) -> None:
        """Call `then()` once the embedding model is open (now if it is); if it cannot be opened, `then` is
        dropped and `embedder_failed` says why."""
        if self.embedder is not None:
            then()
            return
        self._embedder_waiters.append(then)
        if self._opening_embedder:
            return
        self._opening_embedder = True
        location, db_path = self._embedder_location, self._db_path

        def opened(bundle: object) -> None:
            self._opening_embedder = False
            self.embedder = bundle  # type: ignore[assignment]
            waiters, self._embedder_waiters = self._embedder_waiters, []
            for waiter in waiters:
                waiter()

        self._enqueue(_Op(
            OPEN_EMBEDDER, lambda handle: open_embedder(db_path or default_db_path(), location, handle), opened,
        ))

    def question_job(
        self, question: str, reader: Bundle | str | None, document_ids: list[int] | None, folder: Path | None
    ) -> Callable[[JobHandle], AskOutcome]:
        """The job that answers `question` from the library (call it from `with_embedder`: it needs the model)."""
        db_path, embedder = self.db_path, self.embedder
        assert embedder is not None
        return lambda handle: ask_job(handle, db_path, question, embedder, reader, document_ids, folder)

    def start_indexing(self) -> None:
        """Index the files waiting in the queue (opening the embedding model first if needed)."""
        if self.index_runner.is_running():
            self._index_again = True
            return
        self._set_import(ImportStatus(
            note=f"Resuming the import interrupted last time: {self._resuming} files left…" if self._resuming
            else "Starting the import…",
            running=True,
        ))
        self.with_embedder(self._submit_index)

    def _submit_index(self) -> None:
        if self.index_runner.is_running():
            self._index_again = True
            return
        db_path, embedder = self.db_path, self.embedder
        assert embedder is not None
        self.index_runner.submit(lambda handle: index_queue(db_path, embedder, handle), "index the library")

    def is_importing(self) -> bool:
        """Whether files are being indexed."""
        return self.index_runner.is_running()

    def cancel_indexing(self) -> None:
        """Stop the import; finished files stay, the rest waits in the queue (`start_indexing` resumes)."""
        self._embedder_waiters = [w for w in self._embedder_waiters if w != self._submit_index]
        self._index_again = False
        if self.index_runner.is_running():
            self.index_runner.cancel()
        else:
            self._set_import(ImportStatus(note="Import cancelled."))
            self.refresh()

    def _index_partial(self, value: IndexProgress) -> None:
        before = self.import_status.progress
        files_before = before.files_done if before is not None else 0
        self._set_import(ImportStatus(progress=value, running=True))
        now = time.monotonic()
        # A large library takes a while to list: then it is listed less often (at most 5% of the GUI thread's time).
        interval = max(LIST_INTERVAL_S, 20 * self._list_cost)
        if value.files_done != files_before and now - self._listed_at >= interval:
            self._listed_at = now
            self.refresh()

    def _index_finished(self, _value: object) -> None:
        progress = self.import_status.progress
        note = import_summary(progress) if progress is not None else "Nothing was waiting to be imported."
        self._import_ended(note)
        again, self._index_again = self._index_again, False
        self.refresh(then_index=again)

    def _index_errored(self, message: str) -> None:
        self._index_again = False
        self._import_ended(f"The import stopped: {message}")
        self._say(message)
        self.refresh()

    def _index_cancelled(self) -> None:
        self._index_again = False
        self._import_ended("Import cancelled: the files done stay in the library; Resume continues.")
        self.refresh()

    def _import_ended(self, note: str) -> None:
        self._resuming = 0
        self._set_import(replace(self.import_status, note=note, running=False))

    # --- watched folders -----------------------------------------------------------------------------------

    def _restart_watcher(self) -> None:
        self._stop_watcher()
        if not self._watched_paths:
            return
        watcher = FolderWatcher(self.db_path, self._from_watcher_thread)
        try:
            watcher.start()
        except (BertdeskError, OSError) as exc:
            reason = error_text(exc) if isinstance(exc, BertdeskError) else str(exc)
            self._say(f"The watched folders cannot be watched: {reason}")
            return
        self._watcher = watcher

    def _stop_watcher(self) -> None:
        watcher, self._watcher = self._watcher, None
        if watcher is not None:
            watcher.stop()

    def _from_watcher_thread(self, paths: list[Path]) -> None:
        """Called on the watcher's thread: only hand the paths to the GUI thread."""
        # RuntimeError: the session is gone (the watcher is stopped before that; a last event may race it).
        with contextlib.suppress(RuntimeError):
            self.watched_changed.emit(list(paths))

    # --- running -------------------------------------------------------------------------------------------

    def is_busy(self) -> bool:
        """True while the library is read, changed or indexed, or the watcher's changes wait to be."""
        return (self.index_runner.is_running() or self.ops_runner.is_running() or bool(self._ops)
                or self._watch_timer.isActive())

    def stop(self) -> None:
        """Stop the watcher, the import and the library operations, without waiting."""
        self._stop_watcher()
        self._watch_timer.stop()
        self._ops.clear()
        self._embedder_waiters.clear()
        for runner in (self.index_runner, self.ops_runner):
            runner.cancel_all()

    def shutdown(self, timeout_ms: int = 5000) -> None:
        """Stop, then wait up to `timeout_ms` for each job's thread."""
        self.stop()
        for runner in (self.index_runner, self.ops_runner):
            runner.shutdown(timeout_ms)
