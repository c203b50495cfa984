"""The answer viewer: which document and page, the page's text with the passage and the answer highlighted, and for
a PDF the page itself rendered (off the GUI thread) with the answer boxed; Open file, zoom."""

from __future__ import annotations

from html import escape
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QSplitter,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from bertdesk.ui.tabs.library.library_jobs import RenderedPage, render_job
from bertdesk.ui.tabs.library.page_view import PageView, PassageView, unwrap_lines
from bertdesk.ui.tabs.library.texts import NOT_A_PDF
from bertdesk.ui.widgets import open_path
from bertdesk.ui.workers import JobRunner

if TYPE_CHECKING:
    from bertdesk.core.library import LibraryAnswer


def answer_spans(answer: LibraryAnswer, page_text: str | None) -> tuple[str, tuple[int, int], tuple[int, int]]:
    """The text to show for `answer` and the passage's and the answer's spans in it: the page's text when it is
    known and agrees with the passage, else the passage alone."""
    passage = (answer.passage_start, answer.passage_start + len(answer.passage_text))
    span = (answer.start, answer.end)
    if page_text is None or page_text[passage[0]:passage[1]] != answer.passage_text:
        shift = answer.passage_start
        return answer.passage_text, (0, len(answer.passage_text)), (span[0] - shift, span[1] - shift)
    return page_text, passage, span


class AnswerViewer(QWidget):
    """Shows one answer; `status_message` says what could not be done (no application opened the file)."""

    status_message = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.answer: LibraryAnswer | None = None
        self.page_runner = JobRunner(self)
        self.source_label = QLabel("", self)
        self.source_label.setWordWrap(True)
        self.source_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.source_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.open_button = QPushButton("Open file", self)
        self.open_button.setToolTip("Open the document in the system's viewer.")
        self.open_button.setEnabled(False)
        self.passage_view = PassageView(self)
        self.passage_view.setToolTip("The answer's page as text: its passage shaded, the answer highlighted.")
        self.passage_view.setPlaceholderText("Click an answer to read it here, highlighted.")
        self.page_view = PageView(self)
        self.page_view.setToolTip("The PDF page itself, the answer's words boxed.")
        self.page_view.hide()
        self.zoom_buttons: list[QToolButton] = []
        for text, steps, tip in (("−", -1, "Zoom out of the page"), ("+", 1, "Zoom into the page (Ctrl+wheel)"),
                                 ("Fit", 0, "Fit the page to the viewer's width")):
            button = QToolButton(self)
            button.setText(text)
            button.setToolTip(tip)
            button.clicked.connect(lambda _checked=False, steps=steps: self.page_view.zoom_by(steps))
            button.hide()
            self.zoom_buttons.append(button)

        source_row = QHBoxLayout()
        source_row.addWidget(self.source_label, 1)
        for button in self.zoom_buttons:
            source_row.addWidget(button)
        source_row.addWidget(self.open_button)
        self.split = QSplitter(Qt.Orientation.Horizontal, self)
        self.split.addWidget(self.passage_view)
        self.split.addWidget(self.page_view)
        self.split.setChildrenCollapsible(False)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(source_row)
        layout.addWidget(self.split, 1)

        self.open_button.clicked.connect(self.open_file)
        self.page_runner.finished.connect(self._page_rendered)
        self.page_runner.errored.connect(self._page_failed)

    def show_answer(self, answer: LibraryAnswer, page_text: str | None) -> None:
        """Open `answer`: its page's text (`page_text`, None if unknown) highlighted, and its PDF page rendered."""
        self.answer = answer
        text, passage, span = answer_spans(answer, page_text)
        if answer.kind == "pdf":  # a PDF's text layer breaks every line: shown as flowing text (same offsets)
            text = unwrap_lines(text)
        self.passage_view.show_text(text, passage, span)
        self.source_label.setText(f"<b>{escape(answer.title)}</b> — page {answer.page} · {escape(answer.path.name)}")
        self.source_label.setToolTip(escape(str(answer.path)))
        self.open_button.setEnabled(True)
        is_pdf = answer.kind == "pdf"
        for button in self.zoom_buttons:
            button.setVisible(is_pdf)
        if not is_pdf:
            self.page_runner.cancel()
            self.page_view.set_message(NOT_A_PDF.format(kind=answer.kind))
            self.page_view.hide()
            return
        if not self.page_view.isVisible():
            self.page_view.show()
            width = sum(self.split.sizes())
            self.split.setSizes([width // 3, width - width // 3])
        self.page_view.set_message(f"Rendering page {answer.page}…")
        path, page, start, end = answer.path, answer.page, answer.start, answer.end
        self.page_runner.submit(lambda handle: render_job(handle, path, page, start, end), "render the page")

    def clear(self) -> None:
        """Show no answer."""
        self.answer = None
        self.page_runner.cancel()
        self.passage_view.clear()
        self.page_view.set_message("")
        self.page_view.hide()
        self.source_label.setText("")
        self.open_button.setEnabled(False)
        for button in self.zoom_buttons:
            button.hide()

    def open_file(self) -> None:
        """Open the answer's document in the system's viewer."""
        answer = self.answer
        if answer is not None:
            open_path(self, answer.path, answer.path.name)

    def _page_rendered(self, value: object) -> None:
        assert isinstance(value, RenderedPage)
        self.page_view.set_page(value.rgba, value.boxes)

    def _page_failed(self, message: str) -> None:
        self.page_view.set_message(f"The page cannot be shown: {message}")
