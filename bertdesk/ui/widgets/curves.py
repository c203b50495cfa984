"""Per-token line plots: named series over a text's tokens (e.g. answer start/end probabilities), with window
boundaries as dashed lines and a chosen span (the answer) shaded."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QObject, QPointF, Qt
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSizePolicy, QStackedWidget, QVBoxLayout, QWidget

from bertdesk.core.export import CurvesData
from bertdesk.ui.widgets.export_action import ExportButton
from bertdesk.ui.widgets.plot_axes import LabelAxis, style_plot

#: Okabe–Ito colours: told apart with every common colour-vision deficiency.
SERIES_COLORS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9")
BOUNDARY_COLOR = QColor(120, 120, 120)
SPAN_COLOR = QColor(255, 193, 7, 70)
#: Up to this many tokens each point is marked with a dot.
MAX_DOTTED = 80
HINT = "Hover over the plot to read each series at a token."


class Curves(QWidget):
    """Named series over token positions with a token-labelled x-axis, boundaries, a shaded span, and Export."""

    def __init__(self, parent: QWidget | None = None, placeholder: str = "Nothing to show yet.") -> None:
        super().__init__(parent)
        self._data: CurvesData | None = None
        self._items: list[pg.GraphicsObject] = []
        self._hovered = -1
        self._plot_widget = pg.PlotWidget(axisItems={"bottom": LabelAxis("bottom", self.font())})
        self._plot_widget.setObjectName("curves-plot")
        plot = self._plot = self._plot_widget.getPlotItem()
        plot.hideButtons()
        plot.setMenuEnabled(False)
        plot.showGrid(y=True, alpha=0.15)
        plot.setClipToView(True)
        plot.setDownsampling(auto=True, mode="peak")
        plot.getAxis("left").enableAutoSIPrefix(False)  # probabilities read as 0.15, not "150 (x0.001)"
        style_plot(plot, self._plot_widget, self.palette())
        base = self.palette().color(QPalette.ColorRole.Base)
        self._legend = plot.addLegend(offset=(-10, 10), brush=QColor(base.red(), base.green(), base.blue(), 210))
        self._legend.setLabelTextColor(self.palette().color(QPalette.ColorRole.Text))

        self._placeholder = QLabel(placeholder, alignment=Qt.AlignmentFlag.AlignCenter)
        self._placeholder.setObjectName("curves-placeholder")
        self._stack = QStackedWidget()
        self._stack.addWidget(self._placeholder)
        self._stack.addWidget(self._plot_widget)
        self._hover = QLabel(HINT)
        self._hover.setObjectName("curves-hover")
        # A long read-out (sentence labels) is cut at the window's edge instead of widening the window.
        self._hover.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.export_button = ExportButton(self, self)
        footer = QHBoxLayout()
        footer.addWidget(self._hover, 1)
        footer.addWidget(self.export_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self._stack, 1)
        layout.addLayout(footer)
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
    ) -> None:
        """Plot each named series over the tokens `x_labels`.

        `boundaries`: token indices a new window starts at, drawn as dashed lines before those tokens.
        `span`: (first, last) token indices to shade, e.g. the chosen answer. No tokens shows the placeholder.
        """
        data = CurvesData(tuple(x_labels), dict(series), tuple(boundaries), span, title)
        self._data = data
        self._hovered = -1
        self._hover.setText(HINT)
        for item in self._items:
            self._plot.removeItem(item)
        self._items = []
        self._legend.clear()
        count = len(data.x_labels)
        if count == 0 or not data.series:
            self._stack.setCurrentWidget(self._placeholder)
            return
        x = np.arange(count)
        for i, (name, values) in enumerate(data.series.items()):
            color = SERIES_COLORS[i % len(SERIES_COLORS)]
            dots = (
                {"symbol": "o", "symbolSize": 5, "symbolBrush": color, "symbolPen": None} if count <= MAX_DOTTED else {}
            )
            curve = pg.PlotDataItem(x, values, name=name, pen=pg.mkPen(color, width=2), connect="finite", **dots)
            self._add(curve)
        for boundary in data.boundaries:
            pen = pg.mkPen(BOUNDARY_COLOR, width=1, style=Qt.PenStyle.DashLine)
            self._add(pg.InfiniteLine(pos=boundary - 0.5, angle=90, pen=pen, movable=False))
        if data.span is not None:
            first, last = data.span
            region = pg.LinearRegionItem((first - 0.5, last + 0.5), movable=False, brush=SPAN_COLOR, pen=SPAN_COLOR)
            region.setZValue(-10)
            self._add(region)
        self._plot.getAxis("bottom").set_labels(data.x_labels)
        self._plot.setTitle(title or None)
        self._plot.setLabel("left", y_label)
        view = self._plot.getViewBox()
        view.setLimits(xMin=-0.5, xMax=count - 0.5)
        self._plot.setXRange(-0.5, count - 0.5, padding=0)
        self._plot.enableAutoRange(axis="y")
        self._stack.setCurrentWidget(self._plot_widget)

    def _add(self, item: pg.GraphicsObject) -> None:
        self._plot.addItem(item)
        self._items.append(item)

    def clear(self) -> None:
        """Show the placeholder."""
        self.set_curves((), {})

    def curves(self) -> CurvesData | None:
        """The series, tokens, boundaries and span shown, or None when nothing is shown."""
        return self._data if self._data is not None and self._data.x_labels and self._data.series else None

    def boundary_positions(self) -> list[float]:
        """Where the boundary lines are drawn on the x-axis (half a token before each boundary token)."""
        return [item.value() for item in self._items if isinstance(item, pg.InfiniteLine)]

    def span_region(self) -> tuple[float, float] | None:
        """The shaded x range, or None."""
        regions = [item.getRegion() for item in self._items if isinstance(item, pg.LinearRegionItem)]
        return tuple(regions[0]) if regions else None

    def token_at(self, scene_pos: QPointF) -> int | None:
        """The token index under a point of the plot's scene, or None outside the plot."""
        data = self.curves()
        view = self._plot.getViewBox()
        if data is None or not view.sceneBoundingRect().contains(scene_pos):
            return None
        index = math.floor(view.mapSceneToView(scene_pos).x() + 0.5)
        return index if 0 <= index < len(data.x_labels) else None

    def describe(self, index: int) -> str:
        """ "#index token: series value, ..." for one token."""
        data = self._data
        values = ", ".join(f"{name} {float(v[index]):.4g}" for name, v in data.series.items())
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

    def export_view(self) -> QWidget:
        """The plot, for PNG and SVG."""
        return self._stack.currentWidget()

    def export_name(self) -> str:
        """The title, or "curves"."""
        return (self._data.title if self._data else "") or "curves"
