"""The Library tab: a view of a library session (`session.LibrarySession`: your documents imported and indexed in the
background, resumable, watched folders kept in sync), and questions asked of them, each answer opened at its page
with the words highlighted."""

from __future__ import annotations

from html import escape
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
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

from bertdesk.core.library import SUPPORTED_SUFFIXES
from bertdesk.ui.tabs.base import AnalysisTab
from bertdesk.ui.tabs.library.answers import AnswersList, make_up_html
from bertdesk.ui.tabs.library.choices import FilterCombo, ReaderCombo
from bertdesk.ui.tabs.library.library_jobs import AskOutcome, Snapshot
from bertdesk.ui.tabs.library.session import ImportStatus, LibrarySession
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
from bertdesk.ui.widgets import Explanation

if TYPE_CHECKING:
    from bertdesk.core.bundles import Bundle, BundleInfo
    from bertdesk.core.library import LibraryAnswer

#: The unfolded explanation's height at most (it scrolls beyond).
EXPLANATION_HEIGHT = 150
SEARCHING = "Searching the library…"
#: The library's share of the tab's width, and its width at least and at most (until the user drags the handle).
LEFT_SHARE = 0.4
LEFT_WIDTH = (430, 560)
#: Text longer than this given to the tab is not taken as a question.
MAX_QUESTION_CHARS = 500


class LibraryTab(AnalysisTab[AskOutcome, None]):
    """Left: the library (sources, documents, progress, import log). Right: ask, answers, and the answer's page.
    What the library does is `session`'s; the tab shows it, asks it, and answers questions with its model."""

    key = "library"
    title = "Library"
    running_text = "answering"

    def __init__(
        self,
        parent: QWidget | None = None,
        *,
        session: LibrarySession | None = None,
        db_path: str | Path | None = None,
        embedder: str | Path | None = None,
    ) -> None:
        """`session`: the library shown (the window's; started here if it was not). Without one the tab makes its
        own over `db_path` (default: `library.sqlite3` in the data folder) with `embedder` (the embedding model's
        folder, default: the default model), and passes on its status messages (the window shows those of its own
        session)."""
        super().__init__(parent)
        if session is None:
            session = LibrarySession(self, db_path=db_path, embedder=embedder)
            session.status_message.connect(self.status_message)
        self.session = session
        self._outcome: AskOutcome | None = None
        self._outcome_key: tuple | None = None
        self._run_key: tuple | None = None
        self._installed: list[BundleInfo] = []
        self._build()
        self._connect()
        self.setAcceptDrops(True)
        self.reader_combo.fill(None, [])
        self._catch_up()
        session.start()

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
        session = self.session
        self.sources.add_files.connect(self._choose_files)
        self.sources.add_folder.connect(self._choose_folder)
        self.sources.remove_requested.connect(self._remove_selected)
        self.sources.cancel_requested.connect(session.cancel_indexing)
        self.sources.resume_requested.connect(session.start_indexing)
        self.sources.retry_requested.connect(session.retry)
        self.question_edit.returnPressed.connect(self.ask)
        self.question_edit.textChanged.connect(self._inputs_edited)
        self.ask_button.clicked.connect(self.ask)
        self.filter_combo.activated.connect(self._inputs_edited)
        self.reader_combo.activated.connect(self._inputs_edited)
        self.answers.answer_chosen.connect(self.show_answer)
        self.make_up_button.toggled.connect(self._make_up_toggled)
        self.viewer.status_message.connect(self.status_message)
        session.listed.connect(self._show_snapshot)
        session.import_changed.connect(self._show_import)
        session.problem.connect(self._show_problem)
        session.embedder_failed.connect(self._embedder_failed)
        self.add_runner(self.viewer.page_runner)

    # --- the session's library -----------------------------------------------------------------------------

    def _catch_up(self) -> None:
        """Show what the session did before the tab was built (it may have run in the background)."""
        session = self.session
        self._show_problem(session.problem_text)
        if session.snapshot is not None:
            self._show_snapshot(session.snapshot)
        self._show_import(session.import_status)

    def _show_problem(self, message: str) -> None:
        """A problem with the library (one line) above the documents; "" hides it."""
        self.message_label.setText(message)
        self.message_label.setVisible(bool(message))

    def _show_snapshot(self, snapshot: Snapshot) -> None:
        self.sources.set_library(snapshot.sources, snapshot.documents)
        self.sources.set_failures(snapshot.failures)
        stats = snapshot.stats
        self.sources.stats_label.setText(
            f"{stats.documents} documents · {stats.pages} pages · {stats.passages} passages · "
            f"{stats.db_bytes / 1e6:.1f} MB" if stats.documents else ""
        )
        self.sources.set_resume(self.session.waiting())
        if not self.filter_combo.fill(snapshot):
            self._inputs_edited()  # the folder or document searched left the library

    def _show_import(self, status: ImportStatus) -> None:
        if not status.running:
            self.sources.set_progress(None, status.note)
            return
        self.sources.set_resume(0)
        if status.progress is None:
            self.sources.set_starting(status.note)
        else:
            self.sources.set_progress(status.progress)

    def _embedder_failed(self, message: str) -> None:
        if self.answers_note.text() == SEARCHING:  # a question was waiting for it
            self.answers_note.setText(f"The question was not asked: {message}")

    # --- adding and removing -------------------------------------------------------------------------------

    def add_paths(self, paths: list[Path], *, watch: bool | None = None) -> None:
        """Add files and folders to the library (folders watched if `watch`, by default the checkbox) and index
        them in the background; a path that cannot be added is reported, the others are added."""
        self.session.add_paths(paths, watch=self.sources.watch_check.isChecked() if watch is None else watch)

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
        self.session.remove(kind, ident)

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
        snapshot = self.session.snapshot
        if snapshot is not None and not snapshot.documents:
            self.answers_note.setText(NO_DOCUMENTS_TO_ASK)
            return
        key = self._inputs_key()
        reader = self.reader_combo.reader(self.bundle)
        document_ids, folder = self.filter_combo.scope()
        self.answers_note.setText(SEARCHING)

        def submit() -> None:
            self._run_key = key
            self.submit(self.session.question_job(question, reader, document_ids, folder), "ask")

        self.session.with_embedder(submit)

    def _inputs_key(self) -> tuple:
        reader = self.reader_combo.reader(self.bundle)
        return (self.question_edit.text().strip(), self.filter_combo.currentData(),
                id(reader) if reader is not None and not isinstance(reader, str) else reader)

    def on_result(self, result: AskOutcome) -> None:
        """The answers: listed, the best one opened."""
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
        """Esc: cancel the question being answered, else the import (a page being rendered goes on)."""
        if self.runner.is_running():
            self.runner.cancel()
            return True
        if self.session.is_importing():
            self.session.cancel_indexing()
            return True
        return False

    def is_busy(self) -> bool:
        """Also while the session reads, changes or indexes the library."""
        return super().is_busy() or self.session.is_busy()

    def stop(self) -> None:
        """Also stop the session: its watcher, the import and the library operations."""
        super().stop()
        self.session.stop()

    def shutdown(self, timeout_ms: int = 5000) -> None:
        """Stop, then wait for every job's thread, the session's too."""
        super().shutdown(timeout_ms)
        self.session.shutdown(timeout_ms)
