"""The Ask tab: extractive question answering over pasted or loaded text, explained; sentence retrieval without a
question-answering model."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QObject, QPoint, Qt
from PySide6.QtGui import QColor, QFont, QMouseEvent, QTextCharFormat, QTextCursor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QTextEdit,
    QVBoxLayout,
    QWidget,
)

from bertdesk.core.bundles import TASK_QA
from bertdesk.core.errors import BertdeskError
from bertdesk.core.files import read_text_file
from bertdesk.core.qa import Answer, CharToToken, QAResult, RetrievalResult, SentenceHit, qa_mode, windows_holding
from bertdesk.ui.error_text import error_text
from bertdesk.ui.tabs.ask.ask_jobs import AskRun, answer_job, retrieve_job
from bertdesk.ui.tabs.ask.options_box import AskSettings, SettingsBox
from bertdesk.ui.tabs.ask.texts import (
    EXPLANATION,
    GET_MODEL_ELSEWHERE,
    NEEDS_INPUT,
    NO_MODEL_BANNER,
    QA_BANNER,
    RETRIEVAL_BANNER,
)
from bertdesk.ui.tabs.ask.why import WhyPanel
from bertdesk.ui.tabs.base import AnalysisTab
from bertdesk.ui.widgets import Explanation, TextBox, replace_text

if TYPE_CHECKING:
    from bertdesk.core.bundles import Bundle, BundleInfo

#: The best answer's highlight, and the others' (more transparent the lower they rank).
BEST_COLOR = QColor(255, 179, 0)
OTHER_COLOR = QColor(255, 213, 79)
HIGHLIGHT_TEXT = QColor(0, 0, 0)
#: The unfolded explanation's height at most (it scrolls beyond), so that a 700-pixel window still fits.
EXPLANATION_HEIGHT = 120
DETAIL_HINT = "Hover the context to read the model's start and end probabilities at a token."


class _HoverFilter(QObject):
    """Reports the character under the mouse in the context box (-1 when it leaves)."""

    def __init__(self, edit: QPlainTextEdit, tab: AskTab) -> None:
        super().__init__(edit)
        self._edit, self._tab = edit, tab
        edit.viewport().setMouseTracking(True)
        edit.viewport().installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt override)
        """Follow the mouse over the context."""
        if event.type() == QEvent.Type.MouseMove and isinstance(event, QMouseEvent):
            self._tab.context_hovered(self._char_at(event.position().toPoint()))
        elif event.type() == QEvent.Type.Leave:
            self._tab.context_hovered(-1)
        return False

    def _char_at(self, pos: QPoint) -> int:
        cursor = self._edit.cursorForPosition(pos)
        position = cursor.position()
        if pos.x() < self._edit.cursorRect(cursor).center().x():
            position -= 1
        block = cursor.block()
        if position < block.position() or position >= block.position() + block.length() - 1:
            return -1
        return position


class AskTab(AnalysisTab[AskRun, AskRun]):
    """A question and a context in; the answers listed and highlighted in the context; why, below."""

    key = "ask"
    title = "Ask"
    serves = frozenset({TASK_QA})
    running_text = "answering"

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._run: AskRun | None = None  # the run shown (complete or partial)
        self._char_to_token: CharToToken | None = None
        self._highlights_shown = False
        self._placing_cursors = False
        self._shown_spans: list[tuple[int, int]] = []
        self.partials_shown = 0  # partial results put on show during the latest run
        self._why_timer = self.add_timer(0, self._show_why)
        self._build()
        self._connect()

    # --- construction --------------------------------------------------------------------------------------

    def _build(self) -> None:
        self.banner = QLabel(NO_MODEL_BANNER, self)
        self.banner.setWordWrap(True)
        self.banner.setTextFormat(Qt.TextFormat.RichText)
        self.banner.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.banner.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred)
        self.question_edit = QLineEdit(self)
        self.question_edit.setPlaceholderText("Ask a question about the context, e.g. “What is the capital of France?”")
        self.question_edit.setToolTip("The question: segment A of each window the model reads.")
        self.question_edit.setClearButtonEnabled(True)
        self.get_model_button = QPushButton("Get a question-answering model…", self)
        self.get_model_button.setToolTip(
            "Open the model manager on its question-answering models (Models → Manage models…): download one, then "
            "pick it in the Model list."
        )
        self.get_model_button.hide()
        question_label = QLabel("&Question", self)
        question_label.setBuddy(self.question_edit)

        self.context_edit = TextBox(self)
        self.context_edit.setPlaceholderText(
            "Paste the text the answer is in (segment B), or load a text file. Any length: a long text is read in "
            "overlapping windows."
        )
        self.context_edit.setToolTip("The context: the answer is a span of this text, highlighted once found.")
        self.context_edit.setLineWrapMode(QPlainTextEdit.LineWrapMode.WidgetWidth)
        self.context_edit.setTabChangesFocus(True)
        self._hover_filter = _HoverFilter(self.context_edit, self)
        self.context_info = QLabel("", self)
        self.context_info.setToolTip("The context's size as the model reads it.")
        self.load_button = QPushButton("Load file…", self)
        self.load_button.setToolTip("Load a text file as the context (its encoding is detected).")

        self.answers_label = QLabel("<b>Answers</b>", self)
        self.answers_table = QTableWidget(0, 3, self)
        self.answers_table.setHorizontalHeaderLabels(["Answer", "Score", "Window"])
        self.answers_table.verticalHeader().hide()
        self.answers_table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.answers_table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.answers_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.answers_table.setWordWrap(False)
        header = self.answers_table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.ResizeToContents)
        self.answers_table.setToolTip("Click an answer to select it in the context.")
        self.answers_table.setMinimumHeight(90)
        self.answers_note = QLabel("", self)
        self.answers_note.setWordWrap(True)
        self.answers_note.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred)
        self.progress_bar = QProgressBar(self)
        self.progress_bar.setRange(0, 1000)
        self.progress_bar.setTextVisible(False)
        self.progress_bar.setMaximumHeight(10)
        self.progress_label = QLabel("", self)
        self.cancel_button = QPushButton("Cancel", self)
        self.cancel_button.setToolTip("Stop answering (Esc); the answers found so far stay, marked out of date.")
        self.settings_box = SettingsBox(self)

        self.why = WhyPanel(self)
        self.detail = QLabel(DETAIL_HINT, self)
        self.detail.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.detail.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.explain = Explanation("How does this work? Extractive vs abstractive QA", EXPLANATION, self,
                                   max_height=EXPLANATION_HEIGHT)

        question_row = QHBoxLayout()
        question_row.addWidget(question_label)
        question_row.addWidget(self.question_edit, 1)
        question_row.addWidget(self.settings_box.toggle)

        context_column = QWidget(self)
        context_head = QHBoxLayout()
        context_head.addWidget(QLabel("<b>Context</b>", context_column))
        context_head.addWidget(self.context_info, 1)
        context_head.addWidget(self.load_button)
        context_layout = QVBoxLayout(context_column)
        context_layout.setContentsMargins(0, 0, 0, 0)
        context_layout.addLayout(context_head)
        context_layout.addWidget(self.context_edit, 1)

        answers_column = QWidget(self)
        progress_row = QHBoxLayout()
        progress_row.addWidget(self.progress_bar, 1)
        progress_row.addWidget(self.progress_label)
        progress_row.addWidget(self.cancel_button)
        answers_layout = QVBoxLayout(answers_column)
        answers_layout.setContentsMargins(0, 0, 0, 0)
        answers_layout.addWidget(self.answers_label)
        answers_layout.addWidget(self.stale_label)
        answers_layout.addWidget(self.answers_table, 1)
        answers_layout.addWidget(self.answers_note)
        answers_layout.addLayout(progress_row)
        self._set_progress_visible(False)

        self.main_split = QSplitter(Qt.Orientation.Horizontal, self)
        self.main_split.addWidget(context_column)
        self.main_split.addWidget(answers_column)
        self.main_split.setStretchFactor(0, 3)
        self.main_split.setStretchFactor(1, 2)
        self.main_split.setChildrenCollapsible(False)
        self.splitter = QSplitter(Qt.Orientation.Vertical, self)
        self.splitter.addWidget(self.main_split)
        self.splitter.addWidget(self.why)
        self.splitter.setStretchFactor(0, 5)
        self.splitter.setStretchFactor(1, 4)
        self.splitter.setChildrenCollapsible(False)

        banner_row = QHBoxLayout()
        banner_row.addWidget(self.banner, 1)
        banner_row.addWidget(self.get_model_button, 0, Qt.AlignmentFlag.AlignVCenter)
        layout = QVBoxLayout(self)
        layout.addLayout(banner_row)
        layout.addLayout(question_row)
        layout.addWidget(self.settings_box)
        layout.addWidget(self.splitter, 1)
        layout.addWidget(self.detail)
        layout.addWidget(self.explain)

    def _connect(self) -> None:
        self.question_edit.textChanged.connect(self.input_changed)
        self.context_edit.textChanged.connect(self._context_changed)
        self.settings_box.changed.connect(self.input_changed)
        self.load_button.clicked.connect(self._choose_file)
        self.cancel_button.clicked.connect(self.cancel)
        self.runner.progress.connect(self._progress)
        self.answers_table.itemSelectionChanged.connect(self._answer_selected)
        # A click on the row already selected (the best answer is, at first) changes no selection.
        self.answers_table.clicked.connect(lambda index: self.show_answer(index.row()))
        self.get_model_button.clicked.connect(self.get_qa_model)
        self.why.show_in_tokens.connect(lambda question, window: self.open_in_tab.emit("tokens", question, window))

    # --- AnalysisTab ---------------------------------------------------------------------------------------

    def model_fits(self, bundle: Bundle) -> bool:
        """Whether `bundle` answers with spans (`run_analysis`); with any other the tab retrieves sentences
        (`run_unfit`)."""
        return qa_mode(bundle) == "span"

    def set_bundle(self, bundle: Bundle, infos: list[BundleInfo] | None = None) -> None:
        """Answer with `bundle`: span QA with a question-answering model, else sentence retrieval (said so)."""
        super().set_bundle(bundle, infos)
        fits = self.model_fits(bundle)
        self.banner.setText((QA_BANNER if fits else RETRIEVAL_BANNER).format(model=f"<b>{bundle.info.name}</b>"))
        self.get_model_button.setVisible(not fits)

    def get_qa_model(self) -> None:
        """Open the window's model manager on its question-answering models (or say where it is)."""
        if not self.request_model_manager(TASK_QA):
            self.status_message.emit(GET_MODEL_ELSEWHERE)

    def run_analysis(self) -> None:
        """Answer the question from the context on a worker thread, window by window."""
        inputs = self._inputs()
        if inputs is not None:
            bundle, question, context, settings = inputs
            self.submit(lambda handle: answer_job(handle, bundle, question, context, settings), "answer")

    def run_unfit(self) -> None:
        """No question-answering model: rank the context's sentences by cosine similarity to the question."""
        inputs = self._inputs()
        if inputs is not None:
            bundle, question, context, settings = inputs
            self.submit(lambda handle: retrieve_job(handle, bundle, question, context, settings), "retrieve")

    def _inputs(self) -> tuple[Bundle, str, str, AskSettings] | None:
        question, context = self.question_edit.text(), self.context_edit.toPlainText()
        if self.bundle is None:
            return None
        if not question.strip() or not context.strip():
            self.answers_note.setText(NEEDS_INPUT)
            return None
        return self.bundle, question, context, self.settings_box.settings()

    def set_input_text(self, text: str, into: QWidget | None = None) -> bool:
        """Text dropped on the question box becomes the question (on one line); any other text replaces the context,
        as one step Ctrl+Z undoes."""
        if into is not None and (into is self.question_edit or self.question_edit.isAncestorOf(into)):
            self.question_edit.setText(" ".join(text.split()))
            return True
        replace_text(self.context_edit, text)
        return True

    def save_state(self) -> dict:
        """The question, the context and the settings."""
        return {
            "question": self.question_edit.text(),
            "context": self.context_edit.toPlainText(),
            "settings": self.settings_box.settings().to_dict(),
        }

    def restore_state(self, state: dict) -> None:
        """Restore what `save_state()` kept."""
        if not isinstance(state, dict):
            return
        if isinstance(state.get("question"), str):
            self.question_edit.setText(state["question"])
        if isinstance(state.get("context"), str):
            self.context_edit.setPlainText(state["context"])
        if "settings" in state:
            self.settings_box.set_settings(AskSettings.from_dict(state["settings"]))

    def on_started(self) -> None:
        """A run began: show its progress."""
        self.partials_shown = 0
        self.progress_bar.setValue(0)
        self.progress_label.setText("starting")
        self._set_progress_visible(True)

    def on_partial(self, value: AskRun) -> None:
        """Answers from the windows done so far (the runner delivers the latest at most every
        PARTIAL_INTERVAL_S)."""
        self._show_run(value)
        self.partials_shown += 1
        result = value.result
        assert isinstance(result, QAResult)  # retrieval yields no partial results
        self.answers_note.setText(
            f"So far: answers from windows 1–{result.windows_done} of {result.windows_total}; the final "
            "ranking replaces them."
        )

    def on_result(self, result: AskRun) -> None:
        """The final ranking: replaces the partial answers; the why panel follows the best answer."""
        self._set_progress_visible(False)
        self._show_run(result)
        self.detail.setVisible(not result.is_retrieval)  # hovering the context reads no probabilities then
        self._char_to_token = result.char_to_token
        self._select_row(0)
        if not self.context_edit.hasFocus():
            self._scroll_to(0)
        self._why_timer.start()  # the why panel at the next turn of the event loop: two short stalls, not one

    def on_error(self, message: str) -> None:
        """Show the error where the answers were, and in the status bar."""
        self._why_timer.stop()
        self._set_progress_visible(False)
        self._run = None
        self._char_to_token = None
        self.answers_table.setRowCount(0)
        self.context_edit.setExtraSelections([])
        self.why.set_run(None, None)
        self.answers_note.setText(message)
        self.status_message.emit(message)

    def on_cancelled(self) -> None:
        """Cancelled: the answers found so far stay, marked out of date."""
        self._set_progress_visible(False)
        self.answers_note.setText("Cancelled. Edit the question, the context or a setting to answer again.")

    def _show_why(self) -> None:
        run = self._run
        if run is not None and (run.is_retrieval or run.result.complete):
            rows = self.answers_table.selectionModel().selectedRows()
            self.why.set_run(run, self._answer_at(rows[0].row() if rows else 0))

    # --- results -------------------------------------------------------------------------------------------

    def shown_run(self) -> AskRun | None:
        """The run whose answers are shown (partial or complete), if any."""
        return self._run

    def answers(self) -> list[Answer] | list[SentenceHit]:
        """The answers (or retrieved sentences) listed, best first."""
        run = self._run
        if run is None:
            return []
        return run.result.sentences if isinstance(run.result, RetrievalResult) else run.result.answers

    def highlighted_spans(self) -> list[tuple[int, int]]:
        """The character spans of the context highlighted as answers, best first (Python indices)."""
        run = self._run
        if run is None:
            return []
        return [(a.start, a.end) for a in self.answers() if a.end > a.start] if self._highlights_shown else []

    def selected_span(self) -> tuple[int, int] | None:
        """The context's selected characters (Python indices), if any."""
        cursor = self.context_edit.textCursor()
        if not cursor.hasSelection() or self._run is None:
            return None
        utf16 = self._run.utf16
        return utf16.from_utf16(cursor.selectionStart()), utf16.from_utf16(cursor.selectionEnd())

    def _show_run(self, run: AskRun) -> None:
        self._run = run
        result = run.result
        retrieval = isinstance(result, RetrievalResult)
        self.answers_label.setText(
            "<b>Best sentences</b> (sentence retrieval, not span QA)" if retrieval else "<b>Answers</b> (spans of "
            "the context)"
        )
        self.answers_table.setHorizontalHeaderLabels(["Sentence" if retrieval else "Answer", "Score", "Where"])
        rows = self.answers()
        self.answers_table.blockSignals(True)
        self.answers_table.setRowCount(len(rows))
        for row, item in enumerate(rows):
            if retrieval:
                text, score, where = item.text, f"cosine {item.score:.3f}", f"sentence {item.index + 1}"
            else:
                text = "(no answer)" if item.is_null else item.text
                score, where = f"{item.score:.1%}", f"window {item.window + 1}"
            cells = [QTableWidgetItem(text), QTableWidgetItem(score), QTableWidgetItem(where)]
            cells[0].setToolTip(text)
            cells[1].setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            if row == 0:
                font = QFont(self.answers_table.font())
                font.setBold(True)
                cells[0].setFont(font)
            for column, cell in enumerate(cells):
                self.answers_table.setItem(row, column, cell)
        self.answers_table.blockSignals(False)
        self._highlight_answers()
        if retrieval:
            self.answers_note.setText(
                f"{result.num_sentences:,} sentences ranked by cosine similarity to the question (1 = same "
                "direction); the best is highlighted in the context."
            )
            self.context_info.setText(f"{result.num_sentences:,} sentences")
        else:
            done = result.windows_total
            self.answers_note.setText(
                "Score: the answer's P(start) × P(end), summed over the windows where the same text was found."
                if result.complete else ""
            )
            self.context_info.setText(
                f"{len(result.context_offsets):,} tokens · {done} window{'s' if done != 1 else ''} of "
                f"≤ {run.settings.options.max_seq_len} tokens"
            )

    def _highlight_answers(self) -> None:
        """Colour the answers in the context, the best one strongest (only while it is the context they answer)."""
        run = self._run
        if run is None or not self.is_current():
            self._highlights_shown = False
            self._shown_spans = []
            self.context_edit.setExtraSelections([])
            return
        spans = [(a.start, a.end) for a in self.answers() if a.end > a.start]
        if self._highlights_shown and spans == self._shown_spans:
            return  # the same answers again (partial results often are): Qt re-lays out their paragraphs
        self._shown_spans = spans
        selections = []
        cursors = self._span_cursors(run, spans)
        for rank, cursor in reversed(list(enumerate(cursors))):
            char_format = QTextCharFormat()
            color = QColor(BEST_COLOR if rank == 0 else OTHER_COLOR)
            if rank:
                color.setAlpha(max(70, 170 - 30 * rank))
            char_format.setBackground(color)
            char_format.setForeground(HIGHLIGHT_TEXT)
            selection = QTextEdit.ExtraSelection()
            selection.cursor = cursor
            selection.format = char_format
            selections.append(selection)
        self.context_edit.setExtraSelections(selections)
        self._highlights_shown = True

    def _span_cursors(self, run: AskRun, spans: list[tuple[int, int]]) -> list[QTextCursor]:
        """Cursors selecting `spans` (Python indices) of the context.

        Placing a cursor computes its x position in the laid-out line, which costs ~10 ms in a long paragraph
        (60,000 words pasted as one line); inside an edit block Qt skips that. The empty edit block changes nothing
        but emits textChanged once, which is not an edit of the context.
        """
        document = self.context_edit.document()
        block = QTextCursor(document)
        self._placing_cursors = True
        block.beginEditBlock()
        try:
            cursors = []
            for start, end in spans:
                cursor = QTextCursor(document)
                cursor.setPosition(run.utf16.to_utf16(start))
                cursor.setPosition(run.utf16.to_utf16(end), QTextCursor.MoveMode.KeepAnchor)
                cursors.append(cursor)
        finally:
            block.endEditBlock()
            self._placing_cursors = False
        return cursors

    def _answer_at(self, row: int) -> Answer | None:
        rows = self.answers()
        item = rows[row] if 0 <= row < len(rows) else None
        return item if isinstance(item, Answer) else None

    def _select_row(self, row: int) -> None:
        if 0 <= row < self.answers_table.rowCount():
            self.answers_table.blockSignals(True)
            self.answers_table.selectRow(row)
            self.answers_table.blockSignals(False)

    def _answer_selected(self) -> None:
        rows = self.answers_table.selectionModel().selectedRows()
        if rows:
            self.show_answer(rows[0].row())

    def show_answer(self, row: int) -> None:
        """Scroll to answer `row` in the context and select it; the why panel shows its window."""
        run = self._run
        rows = self.answers()
        if run is None or not 0 <= row < len(rows):
            return
        item = rows[row]
        self._select_row(row)
        if isinstance(item, Answer) and run is not None and not self.runner.is_running():
            self.why.set_answer(item)
        if item.end <= item.start or not self.is_current():
            return
        cursor = QTextCursor(self.context_edit.document())
        cursor.setPosition(run.utf16.to_utf16(item.start))
        cursor.setPosition(run.utf16.to_utf16(item.end), QTextCursor.MoveMode.KeepAnchor)
        self.context_edit.setTextCursor(cursor)
        self.context_edit.centerCursor()

    def _scroll_to(self, row: int) -> None:
        """Bring answer `row` into view in the context (the caret goes to its start; nothing is selected)."""
        rows = self.answers()
        if self._run is None or not 0 <= row < len(rows) or rows[row].end <= rows[row].start or not self.is_current():
            return
        cursor = QTextCursor(self.context_edit.document())
        cursor.setPosition(self._run.utf16.to_utf16(rows[row].start))
        self.context_edit.setTextCursor(cursor)
        self.context_edit.centerCursor()

    # --- hover ---------------------------------------------------------------------------------------------

    def context_hovered(self, position: int) -> None:
        """The mouse is over character `position` (Qt units) of the context (-1: it left): say what the model made
        of the token there."""
        run = self._run
        lookup = self._char_to_token
        if position < 0 or run is None or lookup is None or not self.is_current() or run.is_retrieval:
            self.detail.setText(DETAIL_HINT)
            return
        token = lookup.token_at(run.utf16.from_utf16(position))
        result = run.result
        assert isinstance(result, QAResult)
        if token is None:
            self.detail.setText(DETAIL_HINT)
            return
        holding = windows_holding(result, token)
        picked = self.why.picked_window()
        window = picked if picked in holding else holding[0]
        detail = result.windows[window]
        k = token - detail.token_start
        piece = run.bundle.tokenizer.id_to_token(int(detail.input_ids[detail.context_position + k]))
        also = f" (also in window{'s' if len(holding) > 2 else ''} " + ", ".join(
            str(w + 1) for w in holding if w != window
        ) + ")" if len(holding) > 1 else ""
        self.detail.setText(
            f"“{piece}”: context token {token} · in window {window + 1}{also}: "
            f"P(start) {float(detail.start_probs[k]):.3g}, P(end) {float(detail.end_probs[k]):.3g}"
        )

    # --- inputs --------------------------------------------------------------------------------------------

    def _context_changed(self) -> None:
        if self._placing_cursors:
            return
        if self._highlights_shown:  # once: clearing costs a re-layout of the paragraphs they were in
            self.context_edit.setExtraSelections([])
            self._highlights_shown = False
            self._shown_spans = []
        self.input_changed()

    def _choose_file(self) -> None:
        name, _ = QFileDialog.getOpenFileName(self, "Load the context", "", "Text files (*.txt *.md);;All files (*)")
        if name:
            self.load_context_file(Path(name))

    def load_context_file(self, path: Path) -> bool:
        """Replace the context with a text file's text (undoable); a file that is not usable text is refused with
        a message."""
        try:
            text, encoding = read_text_file(path)
        except BertdeskError as exc:
            self.status_message.emit(error_text(exc))
            return False
        if not text.strip():
            self.status_message.emit(f"{path.name} has no text; the context was left as it is.")
            return False
        self.set_input_text(text)
        self.status_message.emit(f"Loaded {path.name} ({len(text):,} characters, {encoding}).")
        return True

    def _progress(self, fraction: float, text: str) -> None:
        self.progress_bar.setValue(round(fraction * 1000))
        self.progress_label.setText(text)

    def _set_progress_visible(self, visible: bool) -> None:
        for widget in (self.progress_bar, self.progress_label, self.cancel_button):
            widget.setVisible(visible)
