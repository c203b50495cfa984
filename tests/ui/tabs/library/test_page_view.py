"""The answer viewers on their own: a page image (numpy RGBA, the contract of pdf_pages.render_page) with the
answer's boxes painted, zoom, and the page text with passage and answer highlighted at exact offsets."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtWidgets import QApplication

from bertdesk.ui.tabs.library.page_view import (
    BOX_EDGE,
    READABLE_WIDTH,
    PageView,
    PassageView,
    page_image,
    unwrap_lines,
)


def white_page(width: int = 600, height: int = 800) -> np.ndarray:
    page = np.full((height, width, 4), 255, dtype=np.uint8)
    page[100:110, 50:550, :3] = 0  # a line of "print"
    return page


def test_page_image_paints_the_boxes_where_they_are_and_nowhere_else():
    image = page_image(white_page(), [(40.0, 300.0, 240.0, 330.0)])
    inside, outside = image.pixelColor(140, 315), image.pixelColor(400, 315)
    assert inside.red() > 240 and inside.blue() < 180, "the answer colour, see-through over white"
    assert (outside.red(), outside.green(), outside.blue()) == (255, 255, 255)
    edge = image.pixelColor(40, 315)
    assert abs(edge.red() - BOX_EDGE.red()) < 60 and edge.blue() < 100
    assert image.pixelColor(300, 105).red() == 0, "the page itself is kept"


def test_page_image_refuses_what_is_not_rgba():
    with pytest.raises(ValueError, match="RGBA"):
        page_image(np.zeros((10, 10, 3), dtype=np.uint8), [])


def test_page_view_opens_legible_scrolled_to_the_answer_and_zooms(qtbot):
    view = PageView()
    qtbot.addWidget(view)
    view.resize(400, 300)
    view.show()
    view.set_page(white_page(1400, 1980), [(700.0, 1500.0, 900.0, 1530.0)])
    assert view.has_page() and view.shown_width() >= READABLE_WIDTH
    assert view.label.pixmap().width() == view.shown_width()
    top = view.shown_box_top()
    assert view.verticalScrollBar().value() <= top <= view.verticalScrollBar().value() + view.viewport().height()
    before = view.shown_width()
    view.zoom_by(1)
    assert view.shown_width() > before
    QApplication.sendEvent(view.viewport(), QWheelEvent(
        QPointF(10, 10), QPointF(10, 10), QPoint(0, 0), QPoint(0, -120), Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.ControlModifier, Qt.ScrollPhase.NoScrollPhase, False,
    ))
    assert view.shown_width() == before, "Ctrl+wheel zooms out"
    view.zoom_by(0)
    assert view.shown_width() == view.viewport().width() - 2, "Fit: the viewer's width"
    view.set_message("No page")
    assert not view.has_page() and view.label.text() == "No page"


def test_passage_view_highlights_the_exact_spans_beyond_the_basic_plane(qtbot):
    view = PassageView()
    qtbot.addWidget(view)
    text = "𝔄 heading\nThe bridge 🌉 opened in 1887, they say. More text."
    start = text.index("1887")
    view.show_text(text, (text.index("The"), text.index(" More")), (start, start + 4))
    passage, answer = view.highlighted()
    assert answer == "1887"
    assert passage == "The bridge 🌉 opened in 1887, they say."


def test_unwrap_lines_keeps_offsets_and_paragraphs():
    text = "A line\nwrapped here.\n\nNew paragraph\nagain."
    flat = unwrap_lines(text)
    assert flat == "A line wrapped here.\n\nNew paragraph again."
    assert len(flat) == len(text)


def test_documents_are_listed_in_natural_order():
    from bertdesk.ui.tabs.library.sources import natural_key

    titles = ["Report 10", "report 2", "Report 1", "Annex"]
    assert sorted(titles, key=natural_key) == ["Annex", "Report 1", "report 2", "Report 10"]
