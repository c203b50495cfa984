"""A PDF page as an image and the rectangles of a span of its text, for showing an answer where it stands on the
page. Qt-free: images are numpy arrays, rectangles are in the image's pixels (origin top-left).

Offsets are those of the page text extract_document returned (format_pdf.py maps them to PDFium's characters), so
`text_boxes(path, page, start, end)` covers exactly `page_text[start:end]`.
"""

from __future__ import annotations

import ctypes
import math
from pathlib import Path

import numpy as np
import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

from bertdesk.core.library.format_pdf import PDFIUM_LOCK, char_indices, open_pdf, raw_page_text
from bertdesk.core.library.format_types import ExtractionError

Box = tuple[float, float, float, float]


def _page(document: pdfium.PdfDocument, page: int) -> pdfium.PdfPage:
    if not 1 <= page <= len(document):
        raise ExtractionError(f"the PDF has no page {page} (it has {len(document)})")
    return document[page - 1]


def _scale(page: pdfium.PdfPage, width_px: int) -> tuple[float, tuple[int, int]]:
    """The scale that renders `page` `width_px` wide and the image's (width, height), rounded as pypdfium2 does."""
    scale = width_px / page.get_width()
    return scale, (math.ceil(page.get_width() * scale), math.ceil(page.get_height() * scale))


def render_page(path: Path, page: int, *, width_px: int) -> np.ndarray:
    """Page `page` (1-based) of the PDF at `path` as an (H, W, 4) uint8 RGBA image `width_px` wide, on white."""
    if width_px < 1:
        raise ValueError("width_px must be positive")
    with open_pdf(path) as document, PDFIUM_LOCK:
        pdf_page = _page(document, page)
        try:
            bitmap = pdf_page.render(scale=_scale(pdf_page, width_px)[0], rev_byteorder=True,
                                     force_bitmap_format=pdfium_c.FPDFBitmap_BGRA)
            try:
                return bitmap.to_numpy().copy()
            finally:
                bitmap.close()
        finally:
            pdf_page.close()


def _to_pixels(pdf_page: pdfium.PdfPage, size: tuple[int, int], x: float, y: float) -> tuple[float, float]:
    """A point in page space to image pixels, the way PDFium places it when rendering at `size`."""
    device_x, device_y = ctypes.c_int(), ctypes.c_int()
    pdfium_c.FPDF_PageToDevice(pdf_page, 0, 0, size[0], size[1], 0, x, y,
                               ctypes.byref(device_x), ctypes.byref(device_y))
    return float(device_x.value), float(device_y.value)


def text_boxes(path: Path, page: int, start: int, end: int, *, width_px: int) -> list[Box]:
    """Rectangles (x0, y0, x1, y1) in the pixels of `render_page(path, page, width_px=width_px)` covering the
    characters `page_text[start:end]` of that page's text: one rectangle per line (or run of same-size text) the span
    crosses, none for an empty span."""
    with open_pdf(path) as document, PDFIUM_LOCK:
        pdf_page = _page(document, page)
        textpage = pdf_page.get_textpage()
        try:
            indices = char_indices(raw_page_text(textpage))
            start, end = max(0, start), min(end, len(indices))
            if start >= end:
                return []
            first, last = indices[start], indices[end - 1]
            _, size = _scale(pdf_page, width_px)
            boxes = []
            for index in range(textpage.count_rects(first, last - first + 1)):
                left, bottom, right, top = textpage.get_rect(index)
                x0, y0 = _to_pixels(pdf_page, size, left, top)
                x1, y1 = _to_pixels(pdf_page, size, right, bottom)
                boxes.append((min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1)))
            return boxes
        finally:
            textpage.close()
            pdf_page.close()
