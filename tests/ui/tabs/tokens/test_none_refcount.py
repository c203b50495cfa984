"""Painting the token view must not leak or steal references to None.

PySide6 6.12.0 on Python < 3.12 (where None is not immortal) decrements None's reference count on every call of a
void method (`QPainter.setPen`, `drawRect`, ...): after enough paints None is deallocated and the interpreter aborts
with "Fatal Python error: none_dealloc". This test paints the view thousands of times and fails — before the abort
— as soon as None's count falls.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from PySide6.QtCore import QEvent, QPoint, QPointF, Qt
from PySide6.QtGui import QImage, QMouseEvent
from PySide6.QtWidgets import QApplication

from bertdesk.core.bundles.tokenizer import load_tokenizer
from bertdesk.core.tokens.tokenization import tokenize
from bertdesk.ui.tabs.tokens.view import TokenView

PAINTS = 2000
#: None's count moves a little as the interpreter caches and frees objects; a broken binding loses hundreds per
#: paint (one per void call, about ten per chip).
NOISE = 20

TEXT = "Tokenizers split unfamiliar words into wordpieces: \"unbelievably\" and \"bertdesk\" become several pieces."


def _hover(view: TokenView, pos: QPoint) -> None:
    event = QMouseEvent(
        QEvent.Type.MouseMove,
        QPointF(pos),
        QPointF(view.viewport().mapToGlobal(pos)),
        Qt.MouseButton.NoButton,
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.NoModifier,
    )
    QApplication.sendEvent(view.viewport(), event)


@pytest.mark.slow
def test_painting_the_token_view_keeps_nones_refcount(qtbot, default_bundle_dir: Path) -> None:
    tokenizer = load_tokenizer(default_bundle_dir / "tokenizer.json")
    # A pair with a short maximum length: chips, joined pieces, [UNK]-free words, the type-id band, ids and the
    # struck-out truncated tokens are all painted.
    tokenization = tokenize(tokenizer, TEXT, "a second segment with more words", max_length=24)
    view = TokenView()
    qtbot.addWidget(view)
    view.resize(500, 300)
    view.set_show_ids(True)
    view.set_tokenization(tokenization)
    view.show()
    assert view.rendered_count() == len(tokenization.tokens)
    canvas = QImage(view.viewport().size(), QImage.Format.Format_ARGB32_Premultiplied)
    view.viewport().render(canvas)  # first paint: fonts and caches settle

    before = sys.getrefcount(None)
    lowest = before
    for paint in range(PAINTS):
        index = paint % view.rendered_count()
        _hover(view, view.piece_rect(index).center())
        view.set_highlighted({(index + 3) % view.rendered_count()})
        view.viewport().render(canvas)
        lowest = min(lowest, sys.getrefcount(None))
        # Stop at the first sign of the leak, long before None's count reaches zero and the process aborts.
        assert before - lowest <= NOISE, (
            f"None's reference count fell from {before} to {lowest} after {paint + 1} paints of "
            f"{view.rendered_count()} chips (a PySide6 release that decrements None on void calls?)"
        )
    assert sys.getrefcount(None) >= before - NOISE
