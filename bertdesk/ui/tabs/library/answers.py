"""The answers list: answer, document, page and score, with the score's make-up on request."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTreeWidget, QTreeWidgetItem, QWidget

if TYPE_CHECKING:
    from bertdesk.core.library import LibraryAnswer

#: Answer text longer than this is cut in the list (the viewer shows it whole).
MAX_ANSWER_CHARS = 160
#: Numbers' alignment (built once: combining Qt flags is slow in Python, per row it shows).
RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
COLUMNS = ("Answer", "Document", "Page", "Score")
SCORE_TIP = (
    "With a reader: its confidence in the answer span (0–1). Passage retrieval: the fused rank score, the sum of "
    "1/(60 + rank) over the keyword and vector rankings. Score details shows how it was made."
)


def _rank(value: object) -> str:
    return f"#{value}" if isinstance(value, int) else "not found"


def _number(value: object, digits: int = 3) -> str:
    return f"{value:.{digits}f}" if isinstance(value, int | float) else "—"


def make_up_lines(answer: LibraryAnswer) -> list[str]:
    """The score's make-up in plain words, one line each: the two ranks, the fused score, the boost, the reader."""
    make_up = answer.make_up or {}
    lines = [
        f"Keyword search (BM25) rank: {_rank(make_up.get('bm25_rank'))}",
        f"Vector search (dense) rank: {_rank(make_up.get('dense_rank'))}",
        f"Fused score (reciprocal rank fusion, k = 60): {_number(make_up.get('fused'), 4)}",
    ]
    boost = make_up.get("phrase_boost")
    if isinstance(boost, int | float) and boost:
        lines.append(f"Exact-phrase boost: +{boost:.4f}")
    reader = make_up.get("reader_score")
    lines.append(
        f"Reader score (span QA): {_number(reader)}" if reader is not None else "Reader: none (passage retrieval)"
    )
    lines.append(f"Score shown: {answer.score:.3f}")
    return lines


def make_up_html(answer: LibraryAnswer, separator: str = "<br>") -> str:
    """`make_up_lines` as escaped HTML, one a line (or joined by `separator`)."""
    return separator.join(escape(line) for line in make_up_lines(answer))


def short(text: str, limit: int = MAX_ANSWER_CHARS) -> str:
    """`text` on one line, cut to `limit` characters with an ellipsis."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


class AnswersList(QTreeWidget):
    """The answers, best first; a click (or the keyboard) selects one and `answer_chosen` says which."""

    answer_chosen = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._answers: list[LibraryAnswer] = []
        self.setColumnCount(len(COLUMNS))
        self.setHeaderLabels(list(COLUMNS))
        self.setRootIsDecorated(False)
        self.setUniformRowHeights(True)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setMouseTracking(True)
        header = self.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(3, QHeaderView.ResizeMode.ResizeToContents)
        header.resizeSection(1, 160)
        self.headerItem().setToolTip(3, SCORE_TIP)
        self.setToolTip("Click an answer to open its page; hover it for the score's make-up.")
        self.itemSelectionChanged.connect(self._selection_changed)

    def set_answers(self, answers: Sequence[LibraryAnswer]) -> None:
        """List `answers` (best first) and select none."""
        self._answers = list(answers)
        self.blockSignals(True)
        self.clear()
        for answer in self._answers:
            texts = [short(answer.text), short(answer.title, 60), str(answer.page), f"{answer.score:.3f}"]
            item = QTreeWidgetItem(texts)
            item.setToolTip(0, f"<p>{escape(short(answer.text, 600))}</p>{make_up_html(answer)}")
            item.setToolTip(1, escape(str(answer.path)))
            item.setToolTip(3, make_up_html(answer))
            item.setTextAlignment(2, RIGHT)
            item.setTextAlignment(3, RIGHT)
            self.addTopLevelItem(item)
        self.blockSignals(False)

    def answers(self) -> list[LibraryAnswer]:
        """The answers listed, best first."""
        return list(self._answers)

    def select(self, row: int) -> None:
        """Select the answer at `row` (as a click does)."""
        item = self.topLevelItem(row)
        if item is not None:
            self.setCurrentItem(item)
            item.setSelected(True)

    def selected_row(self) -> int:
        """The selected answer's row, or -1."""
        items = self.selectedItems()
        return self.indexOfTopLevelItem(items[0]) if items else -1

    def _selection_changed(self) -> None:
        row = self.selected_row()
        if row >= 0:
            self.answer_chosen.emit(row)
