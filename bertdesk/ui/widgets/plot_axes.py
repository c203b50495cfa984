"""A pyqtgraph axis that names the integer positions 0..n-1 (tokens, classes) legibly, and the plots' colours.

Labels are thinned to every k-th one (k = 1, 2, 5, 10, 20, ...) so that none overlap at the current zoom, elided
when long (only the ones drawn, when they are drawn), and drawn vertically on a horizontal axis, so a 128-token axis
still reads.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Sequence

import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QFont, QFontMetricsF, QPainter, QPalette

#: Longest label drawn, in average character widths; longer ones end in "…".
MAX_LABEL_CHARS = 20
#: Tick length and the gap between a tick and its label, in pixels.
TICK_LENGTH = 4
TEXT_GAP = 3
#: The axis's depth is measured on this many of the longest labels (by characters), not on all of them.
LONGEST_MEASURED = 40


class _ElidedLabels(Sequence[str]):
    """Labels cleaned and elided on first use: an axis draws a few dozen of thousands."""

    def __init__(self, labels: tuple[str, ...], metrics: QFontMetricsF, limit: float) -> None:
        self._raw, self._metrics, self._limit = labels, metrics, limit
        self._done: dict[int, str] = {}

    def __len__(self) -> int:
        return len(self._raw)

    def __getitem__(self, index):  # unannotated: Sequence's overloads
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        text = self._done.get(index)
        if text is None:
            label = str(self._raw[index])
            text = self._metrics.elidedText(" ".join(label.split()) or label, Qt.TextElideMode.ElideRight, self._limit)
            self._done[index] = text
        return text


class LabelAxis(pg.AxisItem):
    """An axis whose ticks are labelled positions: `set_labels(["[CLS]", "the", ...])` names 0, 1, ...

    On "top" and "bottom" the labels run vertically; on "left" and "right" horizontally.
    """

    def __init__(self, orientation: str, font: QFont | None = None) -> None:
        super().__init__(orientation, maxTickLength=TICK_LENGTH)
        # The base class draws no text: this class places (and rotates) every label itself.
        self.setStyle(showValues=False, tickLength=TICK_LENGTH, tickTextOffset=TEXT_GAP)
        self.setTickFont(font or QFont())
        self._raw: tuple[str, ...] = ()
        self._labels: Sequence[str] = ()
        self._values: list[int] = []
        self._drawn: list[tuple[int, str]] = []
        self.set_labels(())

    def set_labels(self, labels: Sequence[str]) -> None:
        """Name the positions 0..len(labels)-1; control characters and runs of spaces show as one space.

        Labels are cleaned and elided when drawn, and the axis is made deep enough for the LONGEST_MEASURED longest:
        setting 1,500 labels costs about a millisecond, not the ~20 ms of eliding them all on the GUI thread.
        """
        metrics = self._metrics()
        self._raw = raw = tuple(labels)
        self._labels = _ElidedLabels(raw, metrics, self._limit(metrics))
        longest = heapq.nlargest(LONGEST_MEASURED, range(len(raw)), key=lambda i: len(str(raw[i])))
        widest = max((metrics.horizontalAdvance(self._labels[i]) for i in longest), default=0.0)
        extent = math.ceil(widest) + TICK_LENGTH + TEXT_GAP + 4
        if self.orientation in ("top", "bottom"):
            self.setHeight(extent)
        else:
            self.setWidth(extent)
        self.picture = None
        self.update()

    def _limit(self, metrics: QFontMetricsF) -> float:
        """The longest a label may be drawn, in pixels."""
        return metrics.averageCharWidth() * MAX_LABEL_CHARS

    def drawn_labels(self) -> list[tuple[int, str]]:
        """The (position, text) pairs drawn at the last paint: what a reader can see."""
        return list(self._drawn)

    def pitch(self) -> float:
        """Pixels a label needs along the axis: one line of text and a little air."""
        return self._metrics().height() + 2

    def tickValues(self, minVal: float, maxVal: float, size: float) -> list:  # noqa: N802, N803 (pyqtgraph's names)
        """Every k-th position inside the view, k chosen so that labels `pitch()` apart fit in `size` pixels."""
        low, high = sorted((minVal, maxVal))
        first, last = max(0, math.ceil(low)), min(len(self._labels) - 1, math.floor(high))
        if first > last or size <= 0:
            self._values = []
            return []
        step = nice_step(self.pitch() * max(high - low, 1e-9) / size)
        self._values = list(range(math.ceil(first / step) * step, last + 1, step))
        return [(step, self._values)]

    def generateDrawSpecs(self, p: QPainter) -> tuple | None:  # noqa: N802 (pyqtgraph's name)
        """The base class's line and ticks, and this class's labels as (position in pixels, text) pairs."""
        specs = super().generateDrawSpecs(p)
        if specs is None:
            return None
        axis_spec, tick_specs, _ = specs
        bounds = self.mapRectFromParent(self.geometry())
        start, stop = self.range
        horizontal = self.orientation in ("top", "bottom")
        length = bounds.width() if horizontal else bounds.height()
        scale = length / (stop - start) if stop != start else 0.0
        self._drawn = [(value, self._labels[value]) for value in self._values]
        if horizontal:
            text_specs = [((value - start) * scale, text) for value, text in self._drawn]
        else:
            text_specs = [(length - (value - start) * scale, text) for value, text in self._drawn]
        return axis_spec, tick_specs, text_specs

    def drawPicture(self, p: QPainter, axisSpec: tuple, tickSpecs: list, textSpecs: list) -> None:  # noqa: N802, N803
        """Draw the line, the ticks and the labels (rotated on a horizontal axis)."""
        p.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        p.setRenderHint(QPainter.RenderHint.TextAntialiasing, True)
        pen, start, stop = axisSpec
        p.setPen(pen)
        p.drawLine(start, stop)
        for pen, start, stop in tickSpecs:
            p.setPen(pen)
            p.drawLine(start, stop)
        p.setFont(self.style["tickFont"])
        p.setPen(self.textPen())
        bounds = self.mapRectFromParent(self.geometry())
        gap = TICK_LENGTH + TEXT_GAP
        height = self._metrics().height()
        right = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
        left = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
        for position, text in textSpecs:
            if self.orientation == "left":
                p.drawText(QRectF(0, position - height / 2, bounds.width() - gap, height), right, text)
            elif self.orientation == "right":
                p.drawText(QRectF(gap, position - height / 2, bounds.width() - gap, height), left, text)
            else:
                p.save()
                p.translate(position, bounds.bottom() - gap if self.orientation == "top" else bounds.top() + gap)
                p.rotate(-90)
                room = bounds.height() - gap
                if self.orientation == "top":
                    p.drawText(QRectF(0, -height / 2, room, height), left, text)
                else:
                    p.drawText(QRectF(-room, -height / 2, room, height), right, text)
                p.restore()

    def _metrics(self) -> QFontMetricsF:
        return QFontMetricsF(self.style["tickFont"] or QFont())


def nice_step(minimum: float) -> int:
    """The smallest of 1, 2, 5, 10, 20, 50, ... that is at least `minimum`."""
    step = 1
    while step < minimum:
        for factor in (2, 2.5, 2):  # 1 → 2 → 5 → 10
            step = int(step * factor)
            if step >= minimum:
                break
    return step


def style_plot(plot: pg.PlotItem, view: pg.GraphicsView, palette: QPalette) -> None:
    """Draw `plot` in the window's colours (light or dark theme) instead of pyqtgraph's black background."""
    view.setBackground(palette.color(QPalette.ColorRole.Base))
    text = palette.color(QPalette.ColorRole.Text)
    for name in ("left", "right", "top", "bottom"):
        axis = plot.getAxis(name)
        axis.setPen(pg.mkPen(text))
        axis.setTextPen(pg.mkPen(text))
    plot.titleLabel.setAttr("color", text.name())
