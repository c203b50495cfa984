"""The Library tab: your documents imported and indexed in the background (resumable, watched folders kept in
sync), and questions asked of them, each answer opened at its page with the words highlighted."""

from __future__ import annotations

import contextlib
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QDragEnterEvent, QDropEvent, QResizeEvent
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QSplitter,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from bertdesk.core.errors import BertdeskError, LibraryError
from bertdesk.core.jobs import JobHandle
from bertdesk.core.library.formats import SUPPORTED_SUFFIXES
from bertdesk.core.library.indexer import IndexProgress, index_queue
from bertdesk.core.library.store import LibraryStore, default_db_path
from bertdesk.core.library.watch import FolderWatcher
from bertdesk.ui.tabs.base import AnalysisTab
from bertdesk.ui.tabs.library.answers import AnswersList, make_up_html
from bertdesk.ui.tabs.library.choices import FilterCombo, ReaderCombo
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
from bertdesk.ui.tabs.library.sources import SourcesPanel
from bertdesk.ui.tabs.library.texts import (
    ASK_FIRST,
    EXPLANATION,
    LIBRARY_CAPTION,
    MAKE_UP_HINT,
    NO_ANSWERS,
    NO_DOCUMENTS_TO_ASK,
    QA_BANNER,
    REMOVE_CONFIRM,
    RETRIEVAL_BANNER,
)
from bertdesk.ui.tabs.library.viewer import AnswerViewer
from bertdesk.ui.widgets.explanation import Explanation
from bertdesk.ui.workers import JobRunner

if TYPE_CHECKING:
    from bertdesk.core.bundles.bundle import Bundle, BundleInfo
    from bertdesk.core.library.ask import LibraryAnswer

#: Changes the folder watcher reports closer together than this are indexed together.
WATCH_SETTLE_MS = 500
#: The unfolded explanation's height at most (it scrolls beyond).
EXPLANATION_HEIGHT = 150
SEARCHING = "Searching the library…"
#: The library's share of the tab's width, and its width at least and at most (until the user drags the handle).
LEFT_SHARE = 0.4
LEFT_WIDTH = (430, 560)
#: Text longer than this given to the tab is not taken as a question.
MAX_QUESTION_CHARS = 500
#: While indexing, the documents are listed again at most this often (a library of small files finishes many a
#: second).
LIST_INTERVAL_S = 1.0


@dataclass
class _Op:
    description: str
    fn: Callable[[JobHandle], object]
    then: Callable[[object], None] | None


class LibraryTab(AnalysisTab):
    """Left: the library (sources, documents, progress, import log). Right: ask, answers, and the answer's page."""

    key = "library"
    title = "Library"
    running_text = "answering"

    #: Paths the folder watcher reported (emitted on its thread, delivered on the GUI thread).
    watched_changed = Signal(object)

    def __init__(
        self,
        parent: QWidget | None = None,
        *,
        db_path: str | Path | None = None,
        embedder: str | Path | None = None,
    ) -> None:
        """`db_path`: the library database (default: `library.sqlite3` in the data folder); `embedder`: the
        embedding model's folder (default: the default model)."""
        super().__init__(parent)
        self._db_path = Path(db_path) if db_path is not None else None
        self._embedder_location = embedder
        self.embedder: Bundle | None = None
        self._embedder_waiters: list[Callable[[], None]] = []
        self._opening_embedder = False
        self.index_runner = JobRunner(self)
        self.ops_runner = JobRunner(self)
        self._ops: deque[_Op] = deque()
        self._op: _Op | None = None
        self._watcher: FolderWatcher | None = None
        self._watched_paths: frozenset[Path] = frozenset()
        self.snapshot: Snapshot | None = None
        self._index_again = False  # files were queued while indexing: index again when it ends
        self._resuming = 0  # files left by an interrupted run, being resumed
        self._last_progress: IndexProgress | None = None
        self._refresh_pending = False
        self._listed_at = 0.0  # when indexing last listed the documents again (time.monotonic)
        self._list_cost = 0.0  # how long the last listing took on the GUI thread, in seconds
        self._outcome: AskOutcome | None = None
        self._outcome_key: tuple | None = None
        self._run_key: tuple | None = None
        self._installed: list[BundleInfo] = []
        self._watch_timer = QTimer(self)
        self._watch_timer.setSingleShot(True)
        self._watch_timer.setInterval(WATCH_SETTLE_MS)
        self._watch_timer.timeout.connect(lambda: self.refresh(then_index=True))
        self._build()
        self._connect()
        self.setAcceptDrops(True)
        self.reader_combo.fill(None, [])
        self._enqueue(_Op("rescan the library", self._store_op(rescan_unless_read_only, writes=None),
                          self._rescanned))

    # --- construction --------------------------------------------------------------------------------------

    def _build(self) -> None:
        self.sources = SourcesPanel(self)
        self.message_label = QLabel("", self)
        self.message_label.setWordWrap(True)
        self.message_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.message_label.hide()
        caption = QLabel(LIBRARY_CAPTION, self)
        caption.setWordWrap(True)
        left = QWidget(self)
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addWidget(QLabel("<b>Library</b>", left))
        left_layout.addWidget(caption)
        left_layout.addWidget(self.message_label)
        left_layout.addWidget(self.sources, 1)

        self.question_edit = QLineEdit(self)
        self.question_edit.setPlaceholderText("Ask your documents a question, e.g. “When was the bridge opened?”")
        self.question_edit.setClearButtonEnabled(True)
        question_label = QLabel("&Question", self)
        question_label.setBuddy(self.question_edit)
        self.ask_button = QPushButton("Ask", self)
        self.ask_button.setToolTip("Search the library and answer (Enter).")
        self.filter_combo = FilterCombo(self)
        self.reader_combo = ReaderCombo(self)
        self.banner = QLabel(RETRIEVAL_BANNER, self)
        self.banner.setWordWrap(True)
        self.banner.setTextFormat(Qt.TextFormat.RichText)
        self.answers_note = QLabel(ASK_FIRST, self)
        self.answers_note.setWordWrap(True)
        self.answers = AnswersList(self)
        self.answers.setMinimumHeight(3 * self.fontMetrics().height() + 36)  # three answers without scrolling
        self.make_up_button = QToolButton(self)
        self.make_up_button.setText("Score details")
        self.make_up_button.setCheckable(True)
        self.make_up_button.setAutoRaise(True)
        self.make_up_button.setArrowType(Qt.ArrowType.RightArrow)
        self.make_up_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.make_up_button.setToolTip("How the selected answer's score was made.")
        self.make_up_label = QLabel(MAKE_UP_HINT, self)
        self.make_up_label.setWordWrap(True)
        self.make_up_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.make_up_label.hide()

        self.viewer = AnswerViewer(self)
        # The viewer's parts, by the names the tests and the window use.
        self.page_view, self.passage_view = self.viewer.page_view, self.viewer.passage_view
        self.source_label, self.open_button = self.viewer.source_label, self.viewer.open_button
        self.zoom_buttons, self.page_runner = self.viewer.zoom_buttons, self.viewer.page_runner

        ask_row = QHBoxLayout()
        ask_row.addWidget(question_label)
        ask_row.addWidget(self.question_edit, 1)
        ask_row.addWidget(self.ask_button)
        choice_row = QHBoxLayout()
        choice_row.addWidget(QLabel("Search in", self))
        choice_row.addWidget(self.filter_combo, 1)
        choice_row.addWidget(QLabel("Reader", self))
        choice_row.addWidget(self.reader_combo, 1)
        answers_box = QWidget(self)
        answers_layout = QVBoxLayout(answers_box)
        answers_layout.setContentsMargins(0, 0, 0, 0)
        answers_layout.addWidget(self.stale_label)
        answers_layout.addWidget(self.answers_note)
        answers_layout.addWidget(self.answers, 1)
        # The selected answer's score make-up heads its viewer: the list keeps its rows when it is unfolded.
        viewer_column = QWidget(self)
        viewer_layout = QVBoxLayout(viewer_column)
        viewer_layout.setContentsMargins(0, 0, 0, 0)
        viewer_layout.addWidget(self.make_up_button)
        viewer_layout.addWidget(self.make_up_label)
        viewer_layout.addWidget(self.viewer, 1)
        self.right_split = QSplitter(Qt.Orientation.Vertical, self)
        self.right_split.addWidget(answers_box)
        self.right_split.addWidget(viewer_column)
        self.right_split.setStretchFactor(0, 1)
        self.right_split.setStretchFactor(1, 2)
        self.right_split.setChildrenCollapsible(False)
        right = QWidget(self)
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(0, 0, 0, 0)
        right_layout.addLayout(ask_row)
        right_layout.addLayout(choice_row)
        right_layout.addWidget(self.banner)
        right_layout.addWidget(self.right_split, 1)

        self.main_split = QSplitter(Qt.Orientation.Horizontal, self)
        self.main_split.addWidget(left)
        self.main_split.addWidget(right)
        self.main_split.setChildrenCollapsible(False)
        self._split_placed_by_user = False
        self.main_split.splitterMoved.connect(self._split_moved)

        self.explain = Explanation("How does this work? Passages, two searches, fusion, the reader", EXPLANATION,
                                   self, max_height=EXPLANATION_HEIGHT)

        layout = QVBoxLayout(self)
        layout.addWidget(self.main_split, 1)
        layout.addWidget(self.explain)

    def _connect(self) -> None:
        self.sources.add_files.connect(self._choose_files)
        self.sources.add_folder.connect(self._choose_folder)
        self.sources.remove_requested.connect(self._remove_selected)
        self.sources.cancel_requested.connect(self.cancel_indexing)
        self.sources.resume_requested.connect(self.start_indexing)
        self.sources.retry_requested.connect(self.retry)
        self.question_edit.returnPressed.connect(self.ask)
        self.question_edit.textChanged.connect(self._inputs_edited)
        self.ask_button.clicked.connect(self.ask)
        self.filter_combo.activated.connect(self._inputs_edited)
        self.reader_combo.activated.connect(self._inputs_edited)
        self.answers.answer_chosen.connect(self.show_answer)
        self.make_up_button.toggled.connect(self._make_up_toggled)
        self.viewer.status_message.connect(self.status_message)
        self.watched_changed.connect(self._watcher_reported)
        for runner, started, partial, finished, errored, cancelled in (
            (self.index_runner, None, self._index_partial, self._index_finished, self._index_errored,
             self._index_cancelled),
            (self.ops_runner, None, None, self._op_finished, self._op_errored, self._op_cancelled),
        ):
            for signal, slot in ((runner.started, started), (runner.partial, partial), (runner.finished, finished),
                                 (runner.errored, errored), (runner.cancelled, cancelled)):
                if slot is not None:
                    signal.connect(slot)

    # --- the database and the serial library operations ---------------------------------------------------

    @property
    def db_path(self) -> Path:
        """The library database file (the default one is found on first use: StorageError if the data folder
        cannot be created)."""
        if self._db_path is None:
            self._db_path = default_db_path()
        return self._db_path

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
            self._show_snapshot(value.snapshot)
            value = value.value
        if op is not None and op.then is not None:
            op.then(value)
        self._next_op()

    def _op_errored(self, message: str) -> None:
        op = self._op
        self._say(message)
        if op is not None and op.description == "open the embedding model":
            self._opening_embedder = False
            self._embedder_waiters.clear()
            self.sources.set_progress(None, f"The embedding model could not be opened: {message}")
            if self.answers_note.text() == SEARCHING:  # a question was waiting for it
                self.answers_note.setText(f"The question was not asked: {message}")
        self._next_op()

    def _op_cancelled(self) -> None:
        self._next_op()

    def _say(self, message: str) -> None:
        """Show a problem with the library (one line) above the documents and in the status bar."""
        self.message_label.setText(message)
        self.message_label.setVisible(bool(message))
        if message:
            self.status_message.emit(message)

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

    def _show_snapshot(self, snapshot: Snapshot) -> None:
        self.snapshot = snapshot
        started = time.monotonic()
        self.sources.set_library(snapshot.sources, snapshot.documents)
        self._list_cost = time.monotonic() - started
        self.sources.set_failures(snapshot.failures)
        stats = snapshot.stats
        self.sources.stats_label.setText(
            f"{stats.documents} documents · {stats.pages} pages · {stats.passages} passages · "
            f"{stats.db_bytes / 1e6:.1f} MB" if stats.documents else ""
        )
        waiting = snapshot.queued if not self.index_runner.is_running() and not self._embedder_waiters else 0
        self.sources.set_resume(waiting)
        if not self.filter_combo.fill(snapshot):
            self._inputs_edited()  # the folder or document searched left the library
        watched = frozenset(s.path for s in snapshot.sources if s.watch)
        if watched != self._watched_paths:
            self._watched_paths = watched
            self._restart_watcher()

    def _rescanned(self, changes: object) -> None:
        queued = self.snapshot.queued if self.snapshot is not None else 0
        if queued:
            self._resuming = queued
            self.status_message.emit(f"Library: resuming the import interrupted last time ({queued} files left).")
            self.start_indexing()
        elif isinstance(changes, int) and changes:
            self.status_message.emit(f"Library: {changes} file(s) changed on disk since the last start.")

    # --- adding, removing, retrying ------------------------------------------------------------------------

    def add_paths(self, paths: list[Path], *, watch: bool | None = None) -> None:
        """Add files and folders to the library (folders watched if `watch`, by default the checkbox) and index
        them in the background; a path that cannot be added is reported, the others are added."""
        if watch is None:
            watch = self.sources.watch_check.isChecked()
        paths = [Path(p) for p in paths]

        def add(store: LibraryStore, handle: JobHandle) -> tuple[int, list[str]]:
            queued, problems = 0, []
            for path in paths:
                handle.check()
                try:
                    queued += store.add_source(path, watch=watch and path.is_dir())
                except LibraryError as exc:
                    problems.append(f"{path.name}: {exc}")
            return queued, problems

        def added(value: object) -> None:
            queued, problems = value  # type: ignore[misc]
            self._say("; ".join(problems))
            if queued:
                self.start_indexing()
            elif not problems:
                self.status_message.emit("Nothing new to import: those files are in the library already.")

        self._enqueue(_Op("add to the library", self._store_op(add), added))

    def _choose_files(self) -> None:
        patterns = " ".join(f"*{suffix}" for suffix in sorted(SUPPORTED_SUFFIXES))
        files, _ = QFileDialog.getOpenFileNames(
            self, "Add files to the library", "", f"Documents ({patterns});;All files (*)"
        )
        if files:
            self.add_paths([Path(f) for f in files])

    def _choose_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Add a folder to the library")
        if folder:
            self.add_paths([Path(folder)])

    def _remove_selected(self) -> None:
        selected = self.sources.selected()
        if selected is None:
            return
        kind, ident = selected
        what = f"the folder “{self.sources.selected_label()}” and its documents" if kind == "source" else (
            f"“{self.sources.selected_label()}”"
        )
        answer = QMessageBox.question(self, "Remove from the library", REMOVE_CONFIRM.format(what=what))
        if answer != QMessageBox.StandardButton.Yes:
            return
        self.remove(kind, ident)

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

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802 (Qt override)
        """Files and folders dropped on the tab are added to the library."""
        if any(url.isLocalFile() for url in event.mimeData().urls()):
            event.acceptProposedAction()
        else:
            super().dragEnterEvent(event)

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802 (Qt override)
        """Add the dropped files and folders."""
        paths = [Path(url.toLocalFile()) for url in event.mimeData().urls() if url.isLocalFile()]
        if paths:
            event.acceptProposedAction()
            self.add_paths(paths)
        else:
            super().dropEvent(event)

    # --- indexing ------------------------------------------------------------------------------------------

    def _with_embedder(self, then: Callable[[], None]) -> None:
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
            "open the embedding model", lambda handle: open_embedder(db_path or default_db_path(), location, handle),
            opened,
        ))

    def start_indexing(self) -> None:
        """Index the files waiting in the queue (opening the embedding model first if needed)."""
        if self.index_runner.is_running():
            self._index_again = True
            return
        self.sources.set_resume(0)
        self.sources.set_starting(
            f"Resuming the import interrupted last time: {self._resuming} files left…" if self._resuming
            else "Starting the import…"
        )
        self._with_embedder(self._submit_index)

    def _submit_index(self) -> None:
        if self.index_runner.is_running():
            self._index_again = True
            return
        db_path, embedder = self.db_path, self.embedder
        assert embedder is not None
        self._last_progress = None
        self.index_runner.submit(lambda handle: index_queue(db_path, embedder, handle), "index the library")

    def cancel_indexing(self) -> None:
        """Stop the import; finished files stay, the rest waits in the queue (Resume)."""
        self._embedder_waiters = [w for w in self._embedder_waiters if w != self._submit_index]
        self._index_again = False
        if self.index_runner.is_running():
            self.index_runner.cancel()
        else:
            self.sources.set_progress(None, "Import cancelled.")
            self.refresh()

    def _index_partial(self, value: object) -> None:
        assert isinstance(value, IndexProgress)
        files_before = self._last_progress.files_done if self._last_progress is not None else 0
        self._last_progress = value
        self.sources.set_progress(value)
        now = time.monotonic()
        # A large library takes a while to list: then it is listed less often (at most 5% of the GUI thread's time).
        interval = max(LIST_INTERVAL_S, 20 * self._list_cost)
        if value.files_done != files_before and now - self._listed_at >= interval:
            self._listed_at = now
            self.refresh()

    def _index_finished(self, _value: object) -> None:
        self._resuming = 0
        progress = self._last_progress
        if progress is not None:
            note = f"Imported {progress.files_done} file(s): {progress.pages} pages, {progress.passages} passages."
            if progress.failures:
                note += f" {progress.failures} could not be imported (listed below)."
        else:
            note = "Nothing was waiting to be imported."
        self.sources.set_progress(None, note)
        again, self._index_again = self._index_again, False
        self.refresh(then_index=again)

    def _index_errored(self, message: str) -> None:
        self._resuming = 0
        self._index_again = False
        self.sources.set_progress(None, f"The import stopped: {message}")
        self._say(message)
        self.refresh()

    def _index_cancelled(self) -> None:
        self._resuming = 0
        self._index_again = False
        self.sources.set_progress(None, "Import cancelled: the files done stay in the library; Resume continues.")
        self.refresh()

    # --- watched folders -----------------------------------------------------------------------------------

    def _restart_watcher(self) -> None:
        self._stop_watcher()
        if not self._watched_paths:
            return
        watcher = FolderWatcher(self.db_path, self._from_watcher_thread)
        try:
            watcher.start()
        except (BertdeskError, OSError) as exc:
            self._say(f"The watched folders cannot be watched: {exc}")
            return
        self._watcher = watcher

    def _stop_watcher(self) -> None:
        watcher, self._watcher = self._watcher, None
        if watcher is not None:
            watcher.stop()

    def _from_watcher_thread(self, paths: list[Path]) -> None:
        """Called on the watcher's thread: only hand the paths to the GUI thread."""
        # RuntimeError: the tab is gone (the watcher is stopped before that; a last event may race it).
        with contextlib.suppress(RuntimeError):
            self.watched_changed.emit(list(paths))

    def _watcher_reported(self, paths: object) -> None:
        self._watch_timer.start()

    # --- asking --------------------------------------------------------------------------------------------

    def ask(self) -> None:
        """Ask the library the question in the box (Enter, the Ask button)."""
        self.run_analysis()

    def run_analysis(self) -> None:
        """Answer the question from the library on a worker thread (the embedding model opened first if needed)."""
        question = self.question_edit.text().strip()
        if not question:
            self.answers_note.setText(ASK_FIRST)
            return
        if self.snapshot is not None and not self.snapshot.documents:
            self.answers_note.setText(NO_DOCUMENTS_TO_ASK)
            return
        key = self._inputs_key()
        reader = self.reader_combo.reader(self.bundle)
        document_ids, folder = self.filter_combo.scope()
        db_path = self.db_path
        self.answers_note.setText(SEARCHING)

        def submit() -> None:
            embedder = self.embedder
            assert embedder is not None
            self._run_key = key
            self.submit(
                lambda handle: ask_job(handle, db_path, question, embedder, reader, document_ids, folder), "ask"
            )

        self._with_embedder(submit)

    def _inputs_key(self) -> tuple:
        reader = self.reader_combo.reader(self.bundle)
        return (self.question_edit.text().strip(), self.filter_combo.currentData(),
                id(reader) if reader is not None and not isinstance(reader, str) else reader)

    def on_result(self, result: object) -> None:
        """The answers: listed, the best one opened."""
        assert isinstance(result, AskOutcome)
        self._outcome, self._outcome_key = result, self._run_key
        answers = result.result.answers
        self.answers.set_answers(answers)
        spanqa = result.result.mode != "retrieval"
        self.banner.setText(
            QA_BANNER.format(reader=f"<b>{escape(result.result.reader or '')}</b>") if spanqa else RETRIEVAL_BANNER
        )
        note = result.result.note if result.result.note and spanqa else ""
        self.answers_note.setText(note if answers else NO_ANSWERS)
        self.answers_note.setVisible(bool(self.answers_note.text()))
        if answers:
            self.answers.select(0)
        else:
            self._clear_viewer()

    def on_error(self, message: str) -> None:
        """Show the problem where the answers go."""
        self._outcome = None
        self.answers.set_answers([])
        self._clear_viewer()
        self.answers_note.setText(message)
        self.answers_note.show()
        self.status_message.emit(message)

    def on_cancelled(self) -> None:
        """The question was not answered."""
        self.answers_note.setText("Cancelled. Press Enter to ask again.")
        self.answers_note.show()

    def is_current(self) -> bool:
        """Whether the answers shown answer the question, filter and reader chosen now."""
        return self._outcome is not None and self._outcome_key == self._inputs_key()

    def stale_reason(self) -> str:
        """Out of date after an edit of the question, filter or reader (asking is explicit: Enter)."""
        if self._outcome is None:
            return ""
        if self.runner.is_running():
            return f"{self.running_text} again…"
        if not self.is_current():
            return "the question, the filter or the reader changed; press Enter to ask again"
        return ""

    def _inputs_edited(self) -> None:
        self.show_stale(self.stale_reason())
        self.state_changed.emit()

    # --- readers -------------------------------------------------------------------------------------------

    def set_bundle(self, bundle: Bundle, infos: list[BundleInfo] | None = None) -> None:
        """The window's model: the reader when it answers questions (unless another one was chosen). The library's
        embedding model does not change with it."""
        self.bundle = bundle
        if infos is not None:
            self._installed = list(infos)
        self.reader_combo.fill(self.bundle, self._installed)
        if self.runner.is_running() or (self._outcome is not None and self.reader_combo.is_window_model()):
            self.run_analysis()  # the question asked is answered again with the new model
        self.show_stale(self.stale_reason())

    def set_installed(self, infos: list[BundleInfo]) -> None:
        """Offer the installed question-answering models as readers."""
        self._installed = list(infos)
        self.reader_combo.fill(self.bundle, self._installed)

    # --- the viewer ----------------------------------------------------------------------------------------

    def shown_answers(self) -> list[LibraryAnswer]:
        """The answers listed, best first."""
        return self.answers.answers()

    def show_answer(self, row: int) -> None:
        """Open the answer at `row`: its page's text with the passage and answer highlighted, the PDF page."""
        outcome = self._outcome
        if outcome is None or not 0 <= row < len(outcome.result.answers):
            return
        answer = outcome.result.answers[row]
        self.viewer.show_answer(answer, outcome.page_texts.get(answer.passage_id))
        self.make_up_label.setText(make_up_html(answer, " · "))  # a line or two: the viewer keeps its room

    def selected_answer(self) -> LibraryAnswer | None:
        """The answer open in the viewer."""
        row = self.answers.selected_row()
        answers = self.shown_answers()
        return answers[row] if 0 <= row < len(answers) else None

    def open_file(self) -> None:
        """Open the selected answer's document in the system's viewer."""
        self.viewer.open_file()

    def _clear_viewer(self) -> None:
        self.viewer.clear()
        self.make_up_label.setText(MAKE_UP_HINT)

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 (Qt override)
        """Until the user drags the handle: the library LEFT_SHARE of the width, within LEFT_WIDTH (its titles stay
        readable at 1024 pixels, and a wide window gives its room to the page)."""
        super().resizeEvent(event)
        if not self._split_placed_by_user:
            total = sum(self.main_split.sizes()) or self.main_split.width()
            left = max(LEFT_WIDTH[0], min(LEFT_WIDTH[1], round(total * LEFT_SHARE)))
            self.main_split.setSizes([left, max(0, total - left)])

    def _split_moved(self) -> None:
        self._split_placed_by_user = True

    def _make_up_toggled(self, on: bool) -> None:
        self.make_up_label.setVisible(on)
        self.make_up_button.setArrowType(Qt.ArrowType.DownArrow if on else Qt.ArrowType.RightArrow)

    # --- AnalysisTab ---------------------------------------------------------------------------------------

    def set_input_text(self, text: str, into: QWidget | None = None) -> bool:
        """Text given to the tab (pasted, or a sample) becomes the question and is asked; a whole text (an opened or
        dropped file's) is declined: files join the library through Add files… or a drop on the tab."""
        question = " ".join(text.split())
        if len(question) > MAX_QUESTION_CHARS:
            self.status_message.emit(
                "That text is too long for a question. To add a file to the library, use Add files… or drop it on "
                "the library's list."
            )
            return False
        self.question_edit.setText(question)
        self.ask()
        return True

    def save_state(self) -> dict:
        """The question and whether added folders are watched."""
        return {"question": self.question_edit.text(), "watch": self.sources.watch_check.isChecked()}

    def restore_state(self, state: dict) -> None:
        """Restore what `save_state()` kept."""
        if not isinstance(state, dict):
            return
        if isinstance(state.get("question"), str):
            self.question_edit.setText(state["question"])
        if isinstance(state.get("watch"), bool):
            self.sources.watch_check.setChecked(state["watch"])

    def cancel(self) -> bool:
        """Esc: cancel the question being answered, else the import."""
        if super().cancel():
            return True
        if self.index_runner.is_running():
            self.cancel_indexing()
            return True
        return False

    def is_busy(self) -> bool:
        """Also while the library is read, indexed or a page rendered."""
        return (super().is_busy() or self.index_runner.is_running() or self.ops_runner.is_running()
                or self.viewer.page_runner.is_running() or bool(self._ops) or self._watch_timer.isActive())

    def stop(self) -> None:
        """Also stop the watcher, the import, the library operations and the page rendering."""
        super().stop()
        self._stop_watcher()
        self._watch_timer.stop()
        self._ops.clear()
        self._embedder_waiters.clear()
        for runner in (self.index_runner, self.ops_runner, self.viewer.page_runner):
            runner.cancel_all()

    def shutdown(self, timeout_ms: int = 5000) -> None:
        """Stop, then wait for every job's thread."""
        super().shutdown(timeout_ms)
        for runner in (self.index_runner, self.ops_runner, self.viewer.page_runner):
            runner.shutdown(timeout_ms)
