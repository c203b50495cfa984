"""pdf_pages: a page rendered as RGBA pixels, and the boxes of page_text[start:end] lying on those very characters —
offsets from extract_document agree with PDFium's character indices although PDFium writes "\\r\\n" line breaks."""

from __future__ import annotations

import ctypes
import threading
from itertools import pairwise
from pathlib import Path

import numpy as np
import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
import pytest
from hypothesis import given
from hypothesis import strategies as st

from bertdesk.core.library.format_pdf import char_indices, page_text, raw_page_text
from bertdesk.core.library.format_types import normalise_characters
from bertdesk.core.library.formats import ExtractionError, extract_document
from bertdesk.core.library.pdf_pages import render_page, text_boxes
from tests.core.library.documents import UNICODE_FONT, write_pdf

WIDTH = 1000
LINES = [f"Line {n:02d} of the survey records weather, tides and the harbour traffic." for n in range(1, 21)]


@pytest.fixture(scope="module")
def survey(tmp_path_factory) -> Path:
    """Four pages; page 3 has twenty lines with the word "Zanzibar" planted on line 12 (after eleven line breaks)."""
    lines = list(LINES)
    lines[11] = "Line 12 of the survey names the ship Zanzibar in the harbour."
    pages = ["First page.", "Second page.", "\n".join(lines), "Last page."]
    return write_pdf(tmp_path_factory.mktemp("pdf") / "survey.pdf", pages, title="Survey")


def _darkness(image: np.ndarray, box: tuple[float, float, float, float]) -> float:
    """How much darker than white the pixels under `box` are, on average (0 = white, 255 = black)."""
    x0, y0, x1, y1 = (int(round(v)) for v in box)
    return 255.0 - float(image[y0:y1 + 1, x0:x1 + 1, :3].mean())


def test_render_page_is_rgba_of_the_asked_width(survey):
    image = render_page(survey, 3, width_px=WIDTH)
    assert image.dtype == np.uint8 and image.ndim == 3 and image.shape[1:] == (WIDTH, 4)
    assert image.shape[0] == pytest.approx(WIDTH * 297 / 210, abs=2)  # A4
    assert (image[0, 0] == [255, 255, 255, 255]).all()
    assert (image[..., 3] == 255).all() and image[..., :3].min() < 100  # opaque, and some dark text


def test_page_offsets_agree_with_pdfium_characters(survey):
    text = extract_document(survey).pages[2]
    document = pdfium.PdfDocument(survey)
    try:
        textpage = document[2].get_textpage()
        raw = raw_page_text(textpage)
        assert "\r\n" in raw and "\r" not in text
        indices = char_indices(raw)
        assert len(indices) == len(text) and textpage.count_chars() == len(raw)
        assert all(chr(pdfium_c.FPDFText_GetUnicode(textpage, indices[offset])) == char
                   for offset, char in enumerate(text))
    finally:
        document.close()


def test_planted_word_boxes_lie_on_the_word(survey):
    text = extract_document(survey).pages[2]
    start = text.index("Zanzibar")
    image = render_page(survey, 3, width_px=WIDTH)
    word = text_boxes(survey, 3, start, start + len("Zanzibar"), width_px=WIDTH)
    assert len(word) == 1
    x0, y0, x1, y1 = word[0]
    assert 0 <= x0 < x1 <= WIDTH and 0 <= y0 < y1 <= image.shape[0]
    assert _darkness(image, word[0]) > 40  # ink under the box
    bottom = image.shape[0] - 100
    background = (x0, bottom - (y1 - y0), x1, bottom)  # the same box near the page's foot, below every line
    assert _darkness(image, background) < 1
    one_letter = text_boxes(survey, 3, start, start + 1, width_px=WIDTH)[0]
    assert (one_letter[2] - one_letter[0]) * 4 < x1 - x0  # "Z" is a fraction of "Zanzibar"
    assert one_letter[0] == pytest.approx(x0, abs=1)
    before = text_boxes(survey, 3, start - len("ship "), start - 1, width_px=WIDTH)[0]
    assert before[2] < x0 and before[1] == pytest.approx(y0, abs=2)  # "ship" just left of it on the same line


def test_every_line_start_box_is_at_the_left_margin_one_line_lower(survey):
    """Offsets after n line breaks still land on the right character: were "\\r\\n" counted as one character in one
    place and two in the other, the box of "Line 20" would start 19 characters off."""
    text = extract_document(survey).pages[2]
    boxes = [text_boxes(survey, 3, text.index(f"Line {n:02d}"), text.index(f"Line {n:02d}") + 7, width_px=WIDTH)
             for n in range(1, 21)]
    assert all(len(found) == 1 for found in boxes)
    lefts = [found[0][0] for found in boxes]
    tops = [found[0][1] for found in boxes]
    assert max(lefts) - min(lefts) <= 1
    assert all(later > earlier for earlier, later in pairwise(tops))
    widths = [found[0][2] - found[0][0] for found in boxes]
    assert max(widths) - min(widths) <= 8  # "Line 11" is a little narrower than "Line 08", never a word longer


def test_a_span_across_lines_gives_a_box_per_line(survey):
    text = extract_document(survey).pages[2]
    start = text.index("Line 03")
    end = text.index("Line 05") + len("Line 05")
    boxes = text_boxes(survey, 3, start, end, width_px=WIDTH)
    assert len(boxes) == 3
    assert boxes[0][1] < boxes[1][1] < boxes[2][1]


@pytest.mark.parametrize("rotation", [90, 180, 270])
def test_boxes_follow_a_rotated_page(tmp_path, rotation):
    upright = write_pdf(tmp_path / "upright.pdf", ["Some text on a page.\nThe ship Zanzibar arrived at noon."])
    document = pdfium.PdfDocument(upright)
    document[0].set_rotation(rotation)
    document.save(tmp_path / "turned.pdf")
    document.close()
    path = tmp_path / "turned.pdf"
    text = extract_document(path).pages[0]
    start = text.index("Zanzibar")
    image = render_page(path, 1, width_px=WIDTH)
    assert (image.shape[0] < WIDTH) == (rotation != 180)  # landscape when turned a quarter
    boxes = text_boxes(path, 1, start, start + len("Zanzibar"), width_px=WIDTH)
    assert len(boxes) == 1 and _darkness(image, boxes[0]) > 40
    x0, y0, x1, y1 = boxes[0]
    assert (y1 - y0 > x1 - x0) == (rotation != 180)  # the word runs down or up the image


def test_unicode_page_offsets(tmp_path):
    path = write_pdf(tmp_path / "u.pdf", ["Grüße aus Köln.\nΕλληνικά και кириллица: ответ здесь."],
                     font_path=UNICODE_FONT)
    text = extract_document(path).pages[0]
    start = text.index("ответ")
    box = text_boxes(path, 1, start, start + len("ответ"), width_px=WIDTH)
    image = render_page(path, 1, width_px=WIDTH)
    assert len(box) == 1 and _darkness(image, box[0]) > 40


def test_word_hyphenated_across_lines_is_joined_and_boxed_on_both_lines(tmp_path):
    path = write_pdf(tmp_path / "h.pdf", ["The harbour master keeps an exam-\nple of every tide table."])
    text = extract_document(path).pages[0]
    assert "an example of every" in text and "\ufffe" not in text
    start = text.index("example")
    boxes = text_boxes(path, 1, start, start + len("example"), width_px=WIDTH)
    assert len(boxes) == 2 and boxes[0][1] < boxes[1][1]
    image = render_page(path, 1, width_px=WIDTH)
    assert all(_darkness(image, box) > 40 for box in boxes)


@given(raw=st.text(alphabet=st.sampled_from("ab \r\n\ufffe\t\x00\x0c\u2028é"), max_size=60))
def test_page_text_maps_each_character_to_its_pdfium_index(raw):
    text = page_text(raw)
    indices = char_indices(raw)
    assert len(indices) == len(text) and indices == sorted(set(indices))
    assert all(text[offset] == normalise_characters(raw[index]) for offset, index in enumerate(indices))
    assert "\r" not in text and "\ufffe" not in text


def test_empty_and_clamped_spans(survey):
    assert text_boxes(survey, 3, 10, 10, width_px=WIDTH) == []
    assert text_boxes(survey, 3, 10**6, 10**6 + 5, width_px=WIDTH) == []
    assert len(text_boxes(survey, 1, -5, 5, width_px=WIDTH)) == 1


def test_missing_page_and_bad_file(survey, tmp_path):
    with pytest.raises(ExtractionError, match="has no page 5"):
        render_page(survey, 5, width_px=WIDTH)
    with pytest.raises(ExtractionError, match="has no page 0"):
        text_boxes(survey, 0, 0, 3, width_px=WIDTH)
    broken = tmp_path / "broken.pdf"
    broken.write_bytes(b"%PDF-1.4\nnothing else")
    with pytest.raises(ExtractionError, match="damaged PDF"):
        render_page(broken, 1, width_px=WIDTH)


def test_render_while_another_thread_extracts(survey, tmp_path):
    """PDFium is not thread-safe: the indexer's extraction and the window's rendering share one lock."""
    big = write_pdf(tmp_path / "big.pdf", [" ".join(LINES)] * 60)
    failures: list[BaseException] = []

    def extract() -> None:
        try:
            for _ in range(3):
                assert len(extract_document(big).pages) == 60
        except BaseException as exc:  # reported below, in the test's thread
            failures.append(exc)

    worker = threading.Thread(target=extract)
    worker.start()
    try:
        for _ in range(20):
            assert render_page(survey, 3, width_px=300).shape[1] == 300
    finally:
        worker.join()
    assert not failures


def test_pdfium_text_length_counts_generated_line_breaks(survey):
    """The premise of char_indices: PDFium's text has exactly one character per character index, "\\r" and "\\n" of
    a generated line break included."""
    document = pdfium.PdfDocument(survey)
    try:
        textpage = document[2].get_textpage()
        text = textpage.get_text_range()
        assert len(text) == textpage.count_chars() and text.count("\r\n") == 19
        box = ctypes.c_double(), ctypes.c_double(), ctypes.c_double(), ctypes.c_double()
        assert pdfium_c.FPDFText_GetCharBox(textpage, text.index("Zanzibar"), *(ctypes.byref(v) for v in box))
    finally:
        document.close()
