"""“Why this answer”: the start/end probability curves over the windows with each window's null score, and one
window laid out as the model reads it ([CLS] question [SEP] slice [SEP], segments and attention mask)."""

from __future__ import annotations

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSizePolicy,
    QSpinBox,
    QSplitter,
    QStackedWidget,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from bertdesk.core.qa import Answer, CurveView, QAResult, curve_view, window_tokenization, windows_around
from bertdesk.ui.tabs.ask.ask_jobs import AskRun
from bertdesk.ui.tabs.ask.texts import (
    CURVES_CAPTION,
    LAYOUT_CAPTION,
    LAYOUT_PADDING,
    RETRIEVAL_WHY,
    WINDOWS_CAPTION,
)
from bertdesk.ui.tabs.ask.window_strip import StripLegend, WindowStrip
from bertdesk.ui.widgets import Curves

_Index = QModelIndex | QPersistentModelIndex
WINDOW_HEADERS = ("Window", "Tokens", "Null score")
#: Rows measured to size the windows table's columns.
WIDTH_SAMPLE_ROWS = 40
#: The panel's height in lines when it only says that sentence retrieval has no curves.
RETRIEVAL_NOTE_LINES = 4
QWIDGETSIZE_MAX = 16777215


def _caption(text: str, parent: QWidget) -> QLabel:
    label = QLabel(text, parent)
    label.setWordWrap(True)
    label.setTextFormat(Qt.TextFormat.RichText)
    label.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)
    label.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
    return label


class WindowsModel(QAbstractTableModel):
    """The windows of a QA result, one row each (a lazy model: thousands of windows cost nothing to show)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._result: QAResult | None = None

    def set_result(self, result: QAResult | None) -> None:
        """Show the windows of `result` (None: none)."""
        self.beginResetModel()
        self._result = result
        self.endResetModel()

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: N802, B008 (Qt's name and default)
        """One row per window."""
        return 0 if parent.isValid() or self._result is None else len(self._result.windows)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: N802, B008 (Qt's name and default)
        """Window, context tokens, null score."""
        return 0 if parent.isValid() else len(WINDOW_HEADERS)

    def headerData(  # noqa: N802 (Qt's name)
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> object:
        """The column names."""
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return WINDOW_HEADERS[section]
        return None

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        """The cell's text (numbers right-aligned)."""
        if self._result is None or not index.isValid():
            return None
        window = self._result.windows[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            column = index.column()
            if column == 0:
                return f"{window.index + 1}"
            if column == 1:
                return f"{window.token_start}–{window.token_end - 1}"
            return f"{window.null_score:.2e}"
        if role == Qt.ItemDataRole.ToolTipRole:
            return (
                f"Window {window.index + 1}: context tokens {window.token_start}–{window.token_end - 1}, characters "
                f"{window.char_start:,}–{window.char_end:,}; null score {window.null_score:.3g}"
            )
        if role == Qt.ItemDataRole.TextAlignmentRole and index.column() != 0:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None


class WhyPanel(QWidget):
    """The curves and windows page and the window-layout page, with one window picked for both."""

    window_picked = Signal(int)
    #: "Show this window in the Tokens tab": (question, the window's slice of the context).
    show_in_tokens = Signal(str, str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._run: AskRun | None = None
        self._answer: Answer | None = None
        self._view: CurveView | None = None
        self._picked = -1
        self.curves = Curves(self, placeholder="The start and end probabilities appear once the answers are in.")
        self.curves.setMinimumHeight(110)
        self.windows_model = WindowsModel(self)
        self.windows_table = QTableView(self)
        self.windows_table.setModel(self.windows_model)
        self.windows_table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.windows_table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.windows_table.verticalHeader().hide()
        self.windows_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        header = self.windows_table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setResizeContentsPrecision(WIDTH_SAMPLE_ROWS)  # not all of thousands of windows
        header.setStretchLastSection(True)
        self.windows_table.setToolTip("Each window's context tokens and characters, and its null score.")

        self.window_spin = QSpinBox(self)
        self.window_spin.setRange(1, 1)
        self.window_spin.setPrefix("Window ")
        self.window_spin.setToolTip("Pick the window shown here and centred in the curves.")
        self.tokens_button = QPushButton("Show this window in the Tokens tab", self)
        self.tokens_button.setToolTip(
            "Open the question and this window's slice of the context as a text pair in the Tokens tab: every "
            "token with its id, segment and offsets."
        )
        self.tokens_button.setEnabled(False)
        self.layout_caption = _caption("", self)
        self.layout_view = WindowStrip(self)
        self.layout_view.set_placeholder("The window the model reads appears once the answers are in.")
        self.layout_legend = StripLegend(self)

        curves_page = QWidget(self)
        side = QWidget(curves_page)
        side_layout = QVBoxLayout(side)
        side_layout.setContentsMargins(0, 0, 0, 0)
        side_layout.addWidget(_caption(WINDOWS_CAPTION, side))
        side_layout.addWidget(self.windows_table, 1)
        split = QSplitter(Qt.Orientation.Horizontal, curves_page)
        split.addWidget(self.curves)
        split.addWidget(side)
        split.setStretchFactor(0, 4)
        split.setStretchFactor(1, 1)
        side.setMinimumWidth(230)
        split.setChildrenCollapsible(False)
        curves_layout = QVBoxLayout(curves_page)
        curves_layout.setContentsMargins(4, 4, 4, 4)
        curves_layout.addWidget(_caption(CURVES_CAPTION, curves_page))
        curves_layout.addWidget(split, 1)

        layout_page = QWidget(self)
        top = QHBoxLayout()
        controls = QVBoxLayout()
        controls.addWidget(self.window_spin)
        controls.addWidget(self.tokens_button)
        controls.addStretch(1)
        top.addLayout(controls)
        top.addWidget(self.layout_caption, 1)
        page_layout = QVBoxLayout(layout_page)
        page_layout.setContentsMargins(4, 4, 4, 4)
        page_layout.addLayout(top)
        page_layout.addWidget(self.layout_view, 1)
        page_layout.addWidget(self.layout_legend)

        self.pages = QTabWidget(self)
        self.pages.setDocumentMode(True)
        self.pages.addTab(curves_page, "Why this answer: start and end probabilities")
        self.pages.addTab(layout_page, "A window as the model sees it")
        self.retrieval_note = _caption(RETRIEVAL_WHY, self)
        self.retrieval_note.setAlignment(Qt.AlignmentFlag.AlignTop)
        self.stack = QStackedWidget(self)
        self.stack.addWidget(self.pages)
        self.stack.addWidget(self.retrieval_note)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(self.stack)

        self.window_spin.valueChanged.connect(lambda value: self.pick_window(value - 1))
        self.windows_table.clicked.connect(lambda index: self.pick_window(index.row()))
        self.tokens_button.clicked.connect(self._show_in_tokens)

    # --- content -------------------------------------------------------------------------------------------

    def set_run(self, run: AskRun | None, answer: Answer | None) -> None:
        """Show a complete run (None: nothing), its curves centred on `answer`'s window (or the first)."""
        self._run = run
        self._answer = answer
        self._picked = -1
        self.tokens_button.setEnabled(False)
        if run is not None and run.is_retrieval:
            self.stack.setCurrentWidget(self.retrieval_note)
            # a note of a few lines: the context and the sentences above get the height
            self.setMaximumHeight(self.fontMetrics().lineSpacing() * RETRIEVAL_NOTE_LINES)
            self.windows_model.set_result(None)
            return
        self.setMaximumHeight(QWIDGETSIZE_MAX)
        self.stack.setCurrentWidget(self.pages)
        result = run.result if run is not None else None
        self.windows_model.set_result(result)
        if result is None or not result.windows:
            self._view = None
            self.curves.clear()
            self.layout_view.set_tokenization(None)
            self.layout_caption.setText("")
            return
        self.window_spin.blockSignals(True)
        self.window_spin.setRange(1, len(result.windows))
        self.window_spin.setSuffix(f" of {len(result.windows)}")
        self.window_spin.blockSignals(False)
        self.pick_window(answer.window if answer is not None and not answer.is_null else 0, force=True)

    def set_answer(self, answer: Answer | None) -> None:
        """Shade `answer` in the curves and pick its window."""
        self._answer = answer
        if self._run is not None and not self._run.is_retrieval and answer is not None and not answer.is_null:
            self.pick_window(answer.window, force=True)

    def picked_window(self) -> int:
        """The index of the window shown (-1: none)."""
        return self._picked

    def pick_window(self, index: int, force: bool = False) -> None:
        """Show window `index` in the layout and centre the curves on it."""
        run = self._run
        if run is None or run.is_retrieval:
            return
        result = run.result
        assert isinstance(result, QAResult)
        index = min(max(index, 0), len(result.windows) - 1)
        if index == self._picked and not force:
            return
        self._picked = index
        self.window_spin.blockSignals(True)
        self.window_spin.setValue(index + 1)
        self.window_spin.blockSignals(False)
        self.windows_table.selectRow(index)
        self._show_curves(run, result, index)
        self._show_layout(run, result, index)
        self.tokens_button.setEnabled(True)
        self.window_picked.emit(index)

    def window_texts(self) -> tuple[str, str] | None:
        """The question and the picked window's slice of the context (its characters from the first context token
        to the last), or None."""
        run = self._run
        if run is None or run.is_retrieval or self._picked < 0:
            return None
        detail = run.result.windows[self._picked]
        return run.question, run.context[detail.char_start : detail.char_end]

    def _show_in_tokens(self) -> None:
        texts = self.window_texts()
        if texts is not None:
            self.show_in_tokens.emit(*texts)

    def _show_curves(self, run: AskRun, result: QAResult, index: int) -> None:
        answer = self._answer
        shaded = (answer.window, answer.start, answer.end) if answer is not None and not answer.is_null else None
        shown = windows_around(len(result.windows), index)
        view = curve_view(run.bundle.tokenizer, result, shown, shaded)
        self._view = view
        which = (
            f"window {shown.start + 1}" if len(shown) == 1
            else f"windows {shown.start + 1}–{shown.stop} of {len(result.windows)}"
        )
        self.curves.set_curves(
            view.labels, {"P(start)": view.start_probs, "P(end)": view.end_probs}, view.boundaries, view.span,
            title=f"Where the answer starts and ends ({which})", y_label="probability",
        )

    def _show_layout(self, run: AskRun, result: QAResult, index: int) -> None:
        detail = result.windows[index]
        width = run.batch_widths[index] if run.batch_widths else len(detail.input_ids)
        tokenization = window_tokenization(
            run.bundle.tokenizer, run.question, run.context, detail, result.context_offsets, pad_to=width
        )
        self.layout_view.set_tokenization(tokenization)
        types = [t.type_id for t in tokenization.tokens]
        question_type = next((t.type_id for t in tokenization.tokens if t.segment == 0), 0)
        context_type = next((t.type_id for t in tokenization.tokens if t.segment == 1), 1)
        pads = width - len(detail.input_ids)
        padding = LAYOUT_PADDING.format(pads=pads, width=width) if pads > 0 else ""
        self.layout_caption.setText(LAYOUT_CAPTION.format(
            window=index + 1, total=len(result.windows), a=question_type, b=context_type,
            first=detail.token_start, last=detail.token_end - 1, count=len(result.context_offsets),
            real=len(types) - pads, padding=padding,
        ))

    def curve_view(self) -> CurveView | None:
        """The curves' data as shown, or None."""
        return self._view if self._run is not None and not self._run.is_retrieval else None
