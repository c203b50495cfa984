"""LabelAxis cleans and elides only the labels it draws: thousands of labels are set at once, and hovering and
resizing a heatmap over them still read and draw the right ones."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QFontMetricsF
from pytestqt.qtbot import QtBot

from bertdesk.ui.widgets.heatmap import Heatmap
from bertdesk.ui.widgets.plot_axes import LONGEST_MEASURED, MAX_LABEL_CHARS, LabelAxis
from tests.ui.widgets.test_plot_widgets import cosines, move, shown

LONG = "a sentence far too long to print whole beside a heatmap row, number "


def names(count: int) -> list[str]:
    """Every third label a long sentence with a run of spaces, the others short tokens."""
    return [f"{LONG}  {i}" if i % 3 == 0 else f"t{i}" for i in range(count)]


def test_setting_50000_labels_elides_only_what_is_drawn(qtbot: QtBot) -> None:
    axis = LabelAxis("left")
    many = names(50_000)
    axis.set_labels(many)
    # Eliding all 50,000 took 0.7 to 1.2 s on the GUI thread; only the longest few are measured up front.
    assert len(axis._labels._done) <= LONGEST_MEASURED
    metrics = QFontMetricsF(axis.style["tickFont"])
    longest = metrics.elidedText(" ".join(many[0].split()), Qt.TextElideMode.ElideRight,
                                 metrics.averageCharWidth() * MAX_LABEL_CHARS)
    assert axis.width() >= metrics.horizontalAdvance(longest)  # deep enough for the longest label drawn


@pytest.mark.slow
def test_a_soak_of_hovers_and_resizes_over_1500_labels(qtbot: QtBot) -> None:
    count = 1500
    labels = names(count)
    heatmap = shown(qtbot, Heatmap())
    heatmap.set_matrix(cosines(count), labels, labels, title="1,500 labels")
    rng = np.random.default_rng(8)
    for width, height in [(900, 700), (520, 420), (1400, 1000), (700, 950), (900, 700)]:
        heatmap.resize(width, height)
        qtbot.wait(30)
        viewport = heatmap._graphics.viewport()
        for x, y in zip(rng.integers(0, viewport.width(), 60).tolist(), rng.integers(0, viewport.height(), 60).tolist(),
                        strict=True):
            point = QPoint(x, y)
            move(qtbot, heatmap, point)
            cell = heatmap.cell_at(heatmap._graphics.mapToScene(point))
            if cell is not None:
                assert heatmap.hover_text() == heatmap.describe(*cell)
                assert heatmap.hover_text().startswith(f"{labels[cell[0]]} × {labels[cell[1]]} = ")
        for name, length in (("left", heatmap._plot.getViewBox().height()),
                             ("top", heatmap._plot.getViewBox().width())):
            axis = heatmap._plot.getAxis(name)
            drawn = axis.drawn_labels()
            assert 2 < len(drawn) < count, (name, width, height)
            positions = [position for position, _ in drawn]
            assert (positions[1] - positions[0]) * length / count >= axis.pitch()  # thinned: no two overlap
            for position, text in drawn:
                if position % 3:
                    assert text == labels[position]
                else:  # cleaned (one space for the run) and elided
                    assert text.endswith("…") and " ".join(labels[position].split()).startswith(text[:-1])
                    assert len(text) <= MAX_LABEL_CHARS + 5
