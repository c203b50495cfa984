"""Per-token line plots: named series over a text's tokens (e.g. answer start/end probabilities), with window
boundaries as dashed lines and a chosen span (the answer) shaded."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QObject, QPointF, Qt
from PySide6.QtGui import QColor, QFontMetricsF, QPalette, QResizeEvent
from PySide6.QtWidgets import QWidget

from bertdesk.core.files import CurvesData
from bertdesk.ui.widgets.plot_axes import LabelAxis, style_plot
from bertdesk.ui.widgets.plot_frame import PlotFrame

#: Okabe–Ito colours: told apart with every common colour-vision deficiency.
SERIES_COLORS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9")
BOUNDARY_COLOR = QColor(120, 120, 120)
SPAN_COLOR = QColor(255, 193, 7, 70)
#: Up to this many tokens each point is marked with a dot.
MAX_DOTTED = 80
HINT = "Hover over the plot to read each series at a token."
#: The token labels' share of the widget's height at most, and the characters they keep at least.
LABEL_SHARE = 0.22
MIN_LABEL_CHARS = 5


class _TokenAxis(LabelAxis):
    """A LabelAxis whose `set_room` caps the labels' length in pixels, so that a short plot keeps most of its height
    for the curves."""

    _room = math.inf

    def set_room(self, pixels: float) -> None:
        """Elide labels longer than `pixels` (and never longer than MAX_LABEL_CHARS characters)."""
        if pixels != self._room:
            self._room = pixels
            self.set_labels(self._raw)

    def _limit(self, metrics: QFontMetricsF) -> float:
        return min(super()._limit(metrics), self._room)


class Curves(PlotFrame):
    """Named series over token positions with a token-labelled x-axis, boundaries, a shaded span, and Export.

    The plot items are made once and their data replaced, the window boundaries are one dashed path, and the y range
    is set from the data: replacing 1,500-token curves costs a few milliseconds on the GUI thread.
    """

    kind = "curves"

    def __init__(self, parent: QWidget | None = None, placeholder: str = "Nothing to show yet.") -> None:
        super().__init__(parent)
        self._data: CurvesData | None = None
        self._x_name = ""
        self._series: list[pg.PlotDataItem] = []
        self._names: list[str] = []
        self._hovered = -1
        self._plot_widget = pg.PlotWidget(axisItems={"bottom": _TokenAxis("bottom", self.font())})
        self._plot_widget.setObjectName("curves-plot")
        plot = self._plot = self._plot_widget.getPlotItem()
        plot.hideButtons()
        plot.setMenuEnabled(False)
        plot.showGrid(y=True, alpha=0.15)
        plot.setClipToView(True)
        plot.setDownsampling(auto=True, mode="peak")
        plot.disableAutoRange()  # set from the data: auto-range walks every item's bounds on each change
        plot.getAxis("left").enableAutoSIPrefix(False)  # probabilities read as 0.15, not "150 (x0.001)"
        style_plot(plot, self._plot_widget, self.palette())
        base = self.palette().color(QPalette.ColorRole.Base)
        self._legend = plot.addLegend(offset=(-10, 4), brush=QColor(base.red(), base.green(), base.blue(), 210),
                                      colCount=4)  # one row: a short plot keeps its curves in view
        self._legend.setLabelTextColor(self.palette().color(QPalette.ColorRole.Text))
        self._boundaries = pg.PlotCurveItem(
            pen=pg.mkPen(BOUNDARY_COLOR, width=1, style=Qt.PenStyle.DashLine), connect="pairs"
        )
        self._span = pg.LinearRegionItem((0, 1), movable=False, brush=SPAN_COLOR, pen=SPAN_COLOR)
        self._span.setZValue(-10)
        for item in (self._boundaries, self._span):
            plot.addItem(item)
            item.hide()

        self._hover = self._frame(self._plot_widget, placeholder, HINT, "curves-hover")
        # Every mouse move (the scene's sigMouseMoved drops moves closer than 10 ms apart).
        self._plot_widget.viewport().installEventFilter(self)
        self.clear()

    def set_curves(
        self,
        x_labels: Sequence[str],
        series: Mapping[str, Sequence[float] | np.ndarray],
        boundaries: Sequence[int] = (),
        span: tuple[int, int] | None = None,
        title: str = "",
        y_label: str = "",
        x_name: str = "",
    ) -> None:
        """Plot each named series over the tokens `x_labels` (or over what `x_name` names, e.g. "layer": then the
        read-out says "layer 5: …" instead of a token's "#5 piece: …").

        `boundaries`: token indices a new window starts at, drawn as dashed lines before those tokens.
        `span`: (first, last) token indices to shade, e.g. the chosen answer. No tokens shows the placeholder.
        """
        data = CurvesData(tuple(x_labels), dict(series), tuple(boundaries), span, title)
        self._data = data
        self._x_name = x_name
        self._hovered = -1
        self._hover.setText(HINT)
        count = len(data.x_labels)
        if count == 0 or not data.series:
            self._set_series({})
            self._boundaries.hide()
            self._span.hide()
            self._stack.setCurrentWidget(self._placeholder)
            return
        values = {name: np.asarray(v, np.float64) for name, v in data.series.items()}
        self._set_series(values)
        low, high = _y_range(values)
        x = np.arange(count)
        dotted = count <= MAX_DOTTED
        for item, (i, y) in zip(self._series, enumerate(values.values()), strict=True):
            color = SERIES_COLORS[i % len(SERIES_COLORS)]
            item.setData(x, y, symbol="o" if dotted else None, symbolSize=5, symbolBrush=color, symbolPen=None)
        if data.boundaries:
            lines = np.repeat(np.asarray(data.boundaries, np.float64) - 0.5, 2)
            self._boundaries.setData(lines, np.tile([low, high], len(data.boundaries)))
        self._boundaries.setVisible(bool(data.boundaries))
        if data.span is not None:
            self._span.setRegion((data.span[0] - 0.5, data.span[1] + 0.5))
        self._span.setVisible(data.span is not None)
        self._plot.getAxis("bottom").set_labels(data.x_labels)
        self._plot.setTitle(title or None)
        self._plot.setLabel("left", y_label)
        view = self._plot.getViewBox()
        view.setLimits(xMin=-0.5, xMax=count - 0.5)
        view.setRange(xRange=(-0.5, count - 0.5), yRange=(low, high), padding=0)
        self._stack.setCurrentWidget(self._plot_widget)

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 (Qt's name)
        """Token labels take at most LABEL_SHARE of the height (elided beyond)."""
        super().resizeEvent(event)
        room = max(self.fontMetrics().averageCharWidth() * MIN_LABEL_CHARS, self.height() * LABEL_SHARE)
        self._plot.getAxis("bottom").set_room(room)

    def _set_series(self, values: Mapping[str, np.ndarray]) -> None:
        """One line item per series name, made again (with the legend) only when the names change."""
        names = list(values)
        if names == self._names:
            return
        for item in self._series:
            self._plot.removeItem(item)
        self._legend.clear()
        self._series = [
            pg.PlotDataItem(name=name, pen=pg.mkPen(SERIES_COLORS[i % len(SERIES_COLORS)], width=2), connect="finite")
            for i, name in enumerate(names)
        ]
        for item in self._series:
            self._plot.addItem(item)
        self._names = names

    def clear(self) -> None:
        """Show the placeholder."""
        self.set_curves((), {})

    def curves(self) -> CurvesData | None:
        """The series, tokens, boundaries and span shown, or None when nothing is shown."""
        return self._data if self._data is not None and self._data.x_labels and self._data.series else None

    def boundary_positions(self) -> list[float]:
        """Where the boundary lines are drawn on the x-axis (half a token before each boundary token)."""
        if not self._boundaries.isVisible() or self._boundaries.xData is None:
            return []
        return [float(x) for x in self._boundaries.xData[::2]]

    def span_region(self) -> tuple[float, float] | None:
        """The shaded x range, or None."""
        return tuple(self._span.getRegion()) if self._span.isVisible() else None

    def token_at(self, scene_pos: QPointF) -> int | None:
        """The token index under a point of the plot's scene, or None outside the plot."""
        data = self.curves()
        view = self._plot.getViewBox()
        if data is None or not view.sceneBoundingRect().contains(scene_pos):
            return None
        index = math.floor(view.mapSceneToView(scene_pos).x() + 0.5)
        return index if 0 <= index < len(data.x_labels) else None

    def describe(self, index: int) -> str:
        """ "#index token: series value, ..." for one token ("layer label: …" when the x axis names layers)."""
        data = self._data
        values = ", ".join(f"{name} {float(v[index]):.4g}" for name, v in data.series.items())
        if self._x_name:
            return f"{self._x_name} {data.x_labels[index]}: {values}"
        return f"#{index} {data.x_labels[index]}: {values}"

    def hover_text(self) -> str:
        """The read-out under the plot."""
        return self._hover.text()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt's name)
        """Follow the mouse over the plot's viewport: the read-out names the token under it."""
        if event.type() == QEvent.Type.MouseMove:
            self._show_token(self.token_at(self._plot_widget.mapToScene(event.position().toPoint())))
        return False

    def _show_token(self, index: int | None) -> None:
        if index is not None and index != self._hovered:
            self._hovered = index
            self._hover.setText(self.describe(index))

    def export_data(self) -> CurvesData | None:
        """Tokens, series, boundaries and span, for CSV and JSON."""
        return self.curves()


def _y_range(values: Mapping[str, np.ndarray]) -> tuple[float, float]:
    """The y range that shows every finite value with a little air, from 0 when all are positive."""
    finite = [v[np.isfinite(v)] for v in values.values()]
    finite = [v for v in finite if len(v)]
    low = min(0.0, *(float(v.min()) for v in finite)) if finite else 0.0
    high = max(float(v.max()) for v in finite) if finite else 1.0
    if high <= low:
        high = low + 1.0
    air = (high - low) * 0.05
    return low - air, high + air
