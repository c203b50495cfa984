"""The viewers of an answer: its page's text with the passage and the answer highlighted, and a PDF page rendered
with the answer's boxes painted on it."""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import (
    QColor,
    QImage,
    QPainter,
    QPalette,
    QPixmap,
    QResizeEvent,
    QTextCharFormat,
    QTextCursor,
    QWheelEvent,
)
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
#: Zoom steps over the fitted width (Ctrl+wheel, the zoom buttons).
ZOOMS = (1.0, 1.5, 2.0, 3.0)
#: A page opens at least this wide on screen (zoomed past the viewer's width if needed): a page's text is legible.
READABLE_WIDTH = 600
_SINGLE_NEWLINE = re.compile(r"(?<!\n)\n(?!\n)")


def unwrap_lines(text: str) -> str:
    """`text` with its single line breaks (a PDF's text layer ends every printed line with one) as spaces, so that it
    flows in the viewer; paragraph breaks stay, and every character keeps its offset."""
    return _SINGLE_NEWLINE.sub(" ", text)

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
        self._zoom = 0  # index into ZOOMS
        self.label = QLabel(self)
        self.label.setAlignment(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop)
        self.label.setWordWrap(True)
        self.setWidget(self.label)
        self.setWidgetResizable(True)
        # A page is white: on a darker ground its edges show.
        self.label.setAutoFillBackground(True)
        self.label.setBackgroundRole(QPalette.ColorRole.Mid)
        self.setAlignment(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop)
        self.set_message("")

    def set_message(self, text: str) -> None:
        """Show `text` in place of a page (why there is none, or that it is being rendered)."""
        self._zoom = 0
        self._image = None
        self._boxes = []
        self.label.setPixmap(QPixmap())
        self.label.setText(text)

    def set_page(self, rgba: np.ndarray, boxes: Sequence[Box]) -> None:
        """Show the page `rgba` with the answer's `boxes` painted, scrolled so that the first box is in view."""
        self._image = page_image(rgba, boxes)
        self._boxes = list(boxes)
        self.label.setText("")
        self._zoom = 0
        while self._zoom < len(ZOOMS) - 1 and self.shown_width() < READABLE_WIDTH:
            self._zoom += 1
        self._rescale()
        self.scroll_to_answer()

    def scroll_to_answer(self) -> None:
        """Scroll the answer's first box into view (a third down the viewer)."""
        if not self._boxes:
            return
        x0, y0, x1, _ = self._boxes[0]
        scale, view = self.scale(), self.viewport()
        self.widget().adjustSize()
        self.verticalScrollBar().setValue(max(0, int(y0 * scale - view.height() / 3)))
        # From the page's left edge when the box is in view there; a box wider than the viewer from its start; else
        # centred on the box.
        if x1 * scale + 20 <= view.width():
            left = 0
        elif (x1 - x0) * scale + 40 > view.width():
            left = int(x0 * scale - 20)
        else:
            left = int((x0 + x1) / 2 * scale - view.width() / 2)
        self.horizontalScrollBar().setValue(max(0, left))

    def zoom(self) -> float:
        """The zoom over the fitted width."""
        return ZOOMS[self._zoom]

    def zoom_by(self, steps: int) -> None:
        """Zoom in (`steps` > 0) or out by ZOOMS steps, keeping the answer in view; 0 fits the width again."""
        self._zoom = 0 if steps == 0 else max(0, min(len(ZOOMS) - 1, self._zoom + steps))
        self._rescale()
        self.scroll_to_answer()

    def wheelEvent(self, event: QWheelEvent) -> None:  # noqa: N802 (Qt override)
        """Ctrl+wheel zooms; the wheel alone scrolls."""
        if event.modifiers() & Qt.KeyboardModifier.ControlModifier and self._image is not None:
            self.zoom_by(1 if event.angleDelta().y() > 0 else -1)
            event.accept()
            return
        super().wheelEvent(event)

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
        fit = max(MIN_PAGE_WIDTH, min(self.viewport().width() - 2, MAX_PAGE_WIDTH))
        return round(fit * self.zoom())

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
