"""The viewers of an answer: its page's text with the passage and the answer highlighted, and a PDF page rendered
with the answer's boxes painted on it."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QImage, QPainter, QPixmap, QResizeEvent, QTextCharFormat, QTextCursor
from PySide6.QtWidgets import QLabel, QScrollArea, QTextEdit, QWidget

#: The answer's highlight (text and page boxes) and the passage's lighter shade around it.
ANSWER_COLOR = QColor(255, 179, 0)
ANSWER_TEXT = QColor(0, 0, 0)
PASSAGE_COLOR = QColor(255, 236, 179)
#: The boxes painted over a rendered page: the answer colour, see-through, with a darker outline.
BOX_FILL = QColor(255, 179, 0, 110)
BOX_EDGE = QColor(200, 110, 0)
#: A page is shown at most this wide (wider viewers centre it), at least this wide (narrower ones scroll).
MAX_PAGE_WIDTH = 1400
MIN_PAGE_WIDTH = 240

Box = tuple[float, float, float, float]


def page_image(rgba: np.ndarray, boxes: Sequence[Box]) -> QImage:
    """A QImage of the (H, W, 4) uint8 RGBA page `rgba` with `boxes` ((x0, y0, x1, y1) pixels) painted on it."""
    if rgba.ndim != 3 or rgba.shape[2] != 4 or rgba.dtype != np.uint8:
        raise ValueError(f"a page image must be (H, W, 4) uint8 RGBA, not {rgba.shape} {rgba.dtype}")
    data = np.ascontiguousarray(rgba)
    height, width = data.shape[:2]
    image = QImage(data.data, width, height, width * 4, QImage.Format.Format_RGBA8888).copy()
    if boxes:
        painter = QPainter(image)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(BOX_EDGE)
        painter.setBrush(BOX_FILL)
        for x0, y0, x1, y1 in boxes:
            painter.drawRect(QRectF(x0, y0, max(1.0, x1 - x0), max(1.0, y1 - y0)))
        painter.end()
    return image


class PageView(QScrollArea):
    """A rendered page, scaled to the viewer's width, scrolled to the answer's first box."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._image: QImage | None = None
        self._boxes: list[Box] = []
        self.label = QLabel(self)
        self.label.setAlignment(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop)
        self.label.setWordWrap(True)
        self.setWidget(self.label)
        self.setWidgetResizable(True)
        self.setAlignment(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop)
        self.set_message("")

    def set_message(self, text: str) -> None:
        """Show `text` in place of a page (why there is none, or that it is being rendered)."""
        self._image = None
        self._boxes = []
        self.label.setPixmap(QPixmap())
        self.label.setText(text)

    def set_page(self, rgba: np.ndarray, boxes: Sequence[Box]) -> None:
        """Show the page `rgba` with the answer's `boxes` painted, scrolled so that the first box is in view."""
        self._image = page_image(rgba, boxes)
        self._boxes = list(boxes)
        self.label.setText("")
        self._rescale()
        if self._boxes:
            self.verticalScrollBar().setValue(max(0, int(self.shown_box_top() - self.viewport().height() / 3)))

    def has_page(self) -> bool:
        """Whether a page (not a message) is on show."""
        return self._image is not None

    def boxes(self) -> list[Box]:
        """The answer's boxes on the page, in the rendered image's pixels."""
        return list(self._boxes)

    def scale(self) -> float:
        """Shown pixels per rendered pixel."""
        if self._image is None or self._image.width() == 0:
            return 1.0
        return self.shown_width() / self._image.width()

    def shown_width(self) -> int:
        """The page's width on screen."""
        if self._image is None:
            return 0
        width = self.viewport().width() - 2
        return max(MIN_PAGE_WIDTH, min(width, MAX_PAGE_WIDTH, max(self._image.width(), MIN_PAGE_WIDTH)))

    def shown_box_top(self) -> float:
        """The top of the first answer box on screen (0 without boxes)."""
        return min((box[1] for box in self._boxes), default=0.0) * self.scale()

    def image(self) -> QImage | None:
        """The rendered page with the boxes painted (full size), if a page is on show."""
        return self._image

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 (Qt override)
        """Keep the page as wide as the viewer."""
        super().resizeEvent(event)
        self._rescale()

    def _rescale(self) -> None:
        if self._image is None:
            return
        pixmap = QPixmap.fromImage(self._image).scaledToWidth(
            self.shown_width(), Qt.TransformationMode.SmoothTransformation
        )
        self.label.setPixmap(pixmap)


class PassageView(QTextEdit):
    """The text of an answer's page, read-only: its passage shaded, the answer highlighted and scrolled into view."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setReadOnly(True)
        self.setAcceptRichText(False)
        self._answer: tuple[int, int] = (0, 0)
        self._passage: tuple[int, int] = (0, 0)

    def show_text(self, text: str, passage: tuple[int, int], answer: tuple[int, int]) -> None:
        """Show `text` (plain: nothing in it is read as markup) with the `passage` and `answer` spans (Python
        character offsets into `text`) highlighted."""
        self.setPlainText(text)
        self._passage, self._answer = passage, answer
        selections = []
        for (start, end), fmt in ((passage, self._format(PASSAGE_COLOR)), (answer, self._answer_format())):
            if end <= start:
                continue
            cursor = QTextCursor(self.document())
            cursor.setPosition(_qt_position(text, start))
            cursor.setPosition(_qt_position(text, end), QTextCursor.MoveMode.KeepAnchor)
            selection = QTextEdit.ExtraSelection()
            selection.cursor, selection.format = cursor, fmt
            selections.append(selection)
        self.setExtraSelections(selections)
        cursor = QTextCursor(self.document())
        cursor.setPosition(_qt_position(text, answer[0] if answer[1] > answer[0] else passage[0]))
        self.setTextCursor(cursor)
        self.ensureCursorVisible()

    def highlighted(self) -> tuple[str, str]:
        """The passage's and the answer's highlighted text, as shown."""
        found = ["", ""]
        for index, selection in enumerate(self.extraSelections()[:2]):
            found[index] = selection.cursor.selectedText().replace("\u2029", "\n")
        if len(self.extraSelections()) == 1:  # only the answer (an empty passage span)
            return "", found[0]
        return found[0], found[1]

    @staticmethod
    def _format(color: QColor) -> QTextCharFormat:
        fmt = QTextCharFormat()
        fmt.setBackground(color)
        return fmt

    def _answer_format(self) -> QTextCharFormat:
        fmt = self._format(ANSWER_COLOR)
        fmt.setForeground(ANSWER_TEXT)
        return fmt


def _qt_position(text: str, index: int) -> int:
    """A Python character offset into `text` as a Qt document position (UTF-16 code units)."""
    index = max(0, min(index, len(text)))
    prefix = text[:index]
    return index + sum(1 for ch in prefix if ord(ch) > 0xFFFF)
