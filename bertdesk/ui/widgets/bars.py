"""Labelled values as horizontal bars, largest at the top, each with its value printed: class probabilities, scores."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyqtgraph as pg
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QWidget

from bertdesk.core.files import BarsData
from bertdesk.ui.widgets.plot_axes import LabelAxis, style_plot
from bertdesk.ui.widgets.plot_frame import PlotFrame

BAR_COLOR = QColor("#8fa9c8")
TOP_COLOR = QColor("#1f6fd1")
#: A value printed inside its bar when the bar is longer than this share of the axis, else after its end.
INSIDE_SHARE = 0.8
#: Fewer bars than this are drawn as if there were this many, so two bars do not fill the height.
MIN_ROWS = 6


class Bars(PlotFrame):
    """Sorted horizontal bars of label → value with the value printed, and Export (all bars, not only shown)."""

    kind = "bars"

    def __init__(
        self, parent: QWidget | None = None, placeholder: str = "Nothing to show yet.", max_bars: int = 30
    ) -> None:
        super().__init__(parent)
        self._max_bars = max_bars
        self._data: BarsData | None = None
        self._texts: list[pg.TextItem] = []
        self._plot_widget = pg.PlotWidget(axisItems={"left": LabelAxis("left", self.font())})
        self._plot_widget.setObjectName("bars-plot")
        plot = self._plot = self._plot_widget.getPlotItem()
        plot.invertY(True)
        plot.hideButtons()
        plot.setMenuEnabled(False)
        plot.setMouseEnabled(x=False, y=False)
        plot.showGrid(x=True, alpha=0.15)
        plot.getAxis("bottom").setStyle(maxTickLevel=0)  # grid lines at labelled values only
        self._bars = pg.BarGraphItem(x0=[], y=[], height=0.7, width=[])
        plot.addItem(self._bars)
        style_plot(plot, self._plot_widget, self.palette())

        self._note = self._frame(self._plot_widget, placeholder, "", "bars-note")
        self.clear()

    def set_bars(
        self,
        labels: Sequence[str],
        values: Sequence[float] | np.ndarray,
        kind: str = "probability",
        title: str = "",
        highlight_top: bool = True,
        value_format: str | None = None,
    ) -> None:
        """Show `values` sorted largest first (NaN last), the top `max_bars` of them.

        `kind` "probability" draws the axis 0..1 and prints percentages; "score" fits the axis to the values
        (negative ones grow left) and prints them with 3 decimals. `value_format` (e.g. "{:.2f}") overrides.
        """
        if kind not in ("probability", "score"):
            raise ValueError(f"kind must be 'probability' or 'score', not {kind!r}")
        unsorted = BarsData(tuple(labels), np.asarray(values), title)
        order = np.argsort(-unsorted.values, kind="stable")
        self._data = data = BarsData(tuple(unsorted.labels[i] for i in order), unsorted.values[order], title)
        for text in self._texts:
            self._plot.removeItem(text)
        self._texts = []
        count = min(len(data.labels), self._max_bars)
        if count == 0:
            self._stack.setCurrentWidget(self._placeholder)
            self._note.setText("")
            return
        shown = np.nan_to_num(data.values[:count].astype(np.float64), nan=0.0)
        low, high = (0.0, 1.0) if kind == "probability" else (min(0.0, shown.min()), max(0.0, shown.max()))
        if high == low:
            high = low + 1.0
        positions = np.arange(count)
        brushes = [TOP_COLOR if highlight_top and i == 0 else BAR_COLOR for i in range(count)]
        self._bars.setOpts(x0=np.zeros(count), y=positions, width=shown, height=0.7, brushes=brushes, pens=brushes)
        fmt = value_format or ("{:.1%}" if kind == "probability" else "{:.3f}")
        for i in range(count):
            self._texts.append(self._value_text(fmt, float(data.values[i]), float(shown[i]), i, high - low))
        self._plot.getAxis("left").set_labels(data.labels[:count])
        self._plot.setTitle(title or None)
        self._plot.setXRange(low, high, padding=0.02)
        self._plot.setYRange(-0.5, max(count, MIN_ROWS) - 0.5, padding=0)
        more = len(data.labels) - count
        self._note.setText(f"Showing the top {count:,} of {len(data.labels):,}; Export writes all." if more else "")
        self._stack.setCurrentWidget(self._plot_widget)

    def _value_text(self, fmt: str, value: float, drawn: float, row: int, span: float) -> pg.TextItem:
        """The printed value of one bar: inside a long bar (in white), after the end of a short one."""
        inside = abs(drawn) > INSIDE_SHARE * span
        outward = drawn >= 0
        anchor_x = (1.0 if outward else 0.0) if inside else (0.0 if outward else 1.0)
        color = QColor("white") if inside else self.palette().color(QPalette.ColorRole.Text)
        text = pg.TextItem("NaN" if np.isnan(value) else fmt.format(value), color=color, anchor=(anchor_x, 0.5))
        text.setPos(drawn, row)
        self._plot.addItem(text)
        return text

    def clear(self) -> None:
        """Show the placeholder."""
        self.set_bars((), ())

    def bars(self) -> BarsData | None:
        """Every bar, sorted as shown (largest first), or None when there are none."""
        return self._data if self._data is not None and self._data.labels else None

    def shown_labels(self) -> list[str]:
        """The labels drawn, top to bottom."""
        return list(self._data.labels[: len(self._texts)]) if self._data else []

    def value_texts(self) -> list[str]:
        """The printed values, top to bottom."""
        return [text.textItem.toPlainText() for text in self._texts]

    def export_data(self) -> BarsData | None:
        """All bars, sorted, for CSV and JSON."""
        return self.bars()
