"""A labelled matrix as a heatmap: cosines (diverging colours about 0) or probabilities (sequential, 0..1).

One ImageItem draws every cell and one item draws every non-finite cell (NaN grey, ±∞ grey hatched: masked
attention scores), so a 512×512 matrix draws as fast as a 3×3 one. Row 0 is at the top, as in a matrix.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QObject, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QPainter, QPainterPath, QPalette, QPen, QTransform
from PySide6.QtWidgets import QGraphicsRectItem, QWidget

from bertdesk.core.files import MatrixData
from bertdesk.ui.widgets.plot_axes import LabelAxis, style_plot
from bertdesk.ui.widgets.plot_frame import PlotFrame

#: Colour maps (pyqtgraph's bundled, perceptually uniform): blue–white–red about 0, and dark-to-bright for 0..1.
COLORMAPS = {"diverging": "CET-D1A", "sequential": "viridis"}
NAN_COLOR = QColor("#b8b8b8")
HATCH_COLOR = QColor(60, 60, 60, 150)
SELECTION_COLOR = QColor("#ff9800")
HINT = "Hover over a cell to read its value; click to select it."


class Heatmap(PlotFrame):
    """A matrix with row and column labels, a colour bar, hover read-out, cell selection and Export."""

    kind = "heatmap"

    #: (row, column) of a cell the user clicked.
    cell_clicked = Signal(int, int)
    #: (row, column) under the mouse, (-1, -1) when it leaves the cells.
    cell_hovered = Signal(int, int)

    def __init__(self, parent: QWidget | None = None, placeholder: str = "Nothing to show yet.") -> None:
        super().__init__(parent)
        self._data: MatrixData | None = None
        self._hovered = (-1, -1)
        self._selected: tuple[int, int] | None = None

        self._graphics = pg.GraphicsLayoutWidget()
        self._graphics.setObjectName("heatmap-plot")
        self._plot = self._graphics.addPlot(
            axisItems={"left": LabelAxis("left", self.font()), "top": LabelAxis("top", self.font())}
        )
        self._image = pg.ImageItem(axisOrder="row-major")
        self._image.setTransform(QTransform.fromTranslate(-0.5, -0.5))  # cell (r, c) centred on (c, r)
        self._masked = MaskedCells()
        self._selection = QGraphicsRectItem()
        pen = QPen(SELECTION_COLOR, 2)
        pen.setCosmetic(True)
        self._selection.setPen(pen)
        self._selection.setVisible(False)
        for item in (self._image, self._masked, self._selection):
            self._plot.addItem(item)
        self._set_up_plot()
        self._bar = pg.ColorBarItem(values=(-1, 1), colorMap=COLORMAPS["diverging"], interactive=False, width=14)
        self._bar.setImageItem(self._image, insert_in=self._plot)
        style_plot(self._plot, self._graphics, self.palette())
        self._bar.axis.setTextPen(pg.mkPen(self.palette().color(QPalette.ColorRole.Text)))

        self._hover = self._frame(self._graphics, placeholder, HINT, "heatmap-hover")
        self._hover.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        # Every mouse move, not the scene's sigMouseMoved: that one drops moves closer than 10 ms apart, so the
        # read-out of a quick move would stay on a cell the mouse has left.
        self._graphics.viewport().installEventFilter(self)
        self._graphics.scene().sigMouseClicked.connect(self._on_mouse_clicked)
        self._graphics.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self._graphics.customContextMenuRequested.connect(
            lambda pos: self.export_button.menu().popup(self._graphics.mapToGlobal(pos))
        )
        self.clear()

    def _set_up_plot(self) -> None:
        plot = self._plot
        plot.invertY(True)
        plot.setDefaultPadding(0.0)
        plot.hideButtons()
        plot.setMenuEnabled(False)
        plot.showAxis("top")
        plot.showAxis("right")
        for name in ("right", "bottom"):
            plot.getAxis(name).setStyle(showValues=False, tickLength=0)
            plot.getAxis(name).setTicks([[], []])

    # --- data

    def set_matrix(
        self,
        matrix: np.ndarray,
        row_labels: Sequence[str],
        col_labels: Sequence[str],
        kind: str = "diverging",
        title: str = "",
        levels: tuple[float, float] | None = None,
    ) -> None:
        """Show `matrix` (rows × columns) with its labels.

        `kind` "diverging" colours about 0 (-1..1, or ±the largest |value| beyond that: cosines, scores);
        "sequential" colours 0..1 (or min..max beyond that: probabilities). `levels` fixes the colour range.
        NaN cells are drawn grey, ±∞ cells grey hatched (masked). An empty matrix shows the placeholder.
        """
        if kind not in COLORMAPS:
            raise ValueError(f"kind must be one of {sorted(COLORMAPS)}, not {kind!r}")
        data = MatrixData(np.asarray(matrix), tuple(row_labels), tuple(col_labels), title)
        self._data = data
        self._set_hovered(-1, -1)
        self.clear_selection()
        if data.values.size == 0:
            self._stack.setCurrentWidget(self._placeholder)
            return
        values = data.values
        finite = np.isfinite(values)
        low, high = levels if levels is not None else color_levels(values[finite], kind)
        self._bar.setColorMap(COLORMAPS[kind])
        # Non-finite cells get a finite stand-in (hidden under MaskedCells) so the image needs no NaN handling.
        self._image.setImage(np.where(finite, values, low), autoLevels=False, levels=(low, high))
        self._bar.setLevels((low, high))
        self._masked.set_cells(np.isnan(values), np.isinf(values))
        rows, cols = values.shape
        self._plot.getAxis("left").set_labels(data.row_labels)
        self._plot.getAxis("top").set_labels(data.col_labels)
        self._plot.setTitle(title or None)
        view = self._plot.getViewBox()
        view.setLimits(xMin=-0.5, xMax=cols - 0.5, yMin=-0.5, yMax=rows - 0.5)
        view.setRange(xRange=(-0.5, cols - 0.5), yRange=(-0.5, rows - 0.5), padding=0)
        self._hover.setText(HINT + (" Hatched grey cells are masked (−∞)." if self._masked.has_infinite else ""))
        self._stack.setCurrentWidget(self._graphics)

    def clear(self) -> None:
        """Show the placeholder and nothing else."""
        self.set_matrix(np.zeros((0, 0)), (), ())

    def matrix(self) -> MatrixData | None:
        """The matrix shown with its labels, or None before the first `set_matrix`."""
        return self._data if self._data is not None and self._data.values.size else None

    # --- hover and selection

    def cell_at(self, scene_pos: QPointF) -> tuple[int, int] | None:
        """The (row, column) under a point of the plot's scene, or None outside the cells."""
        data = self.matrix()
        view = self._plot.getViewBox()
        if data is None or not view.sceneBoundingRect().contains(scene_pos):
            return None
        point = view.mapSceneToView(scene_pos)
        row, col = math.floor(point.y() + 0.5), math.floor(point.x() + 0.5)
        rows, cols = data.values.shape
        return (row, col) if 0 <= row < rows and 0 <= col < cols else None

    def cell_center(self, row: int, col: int) -> QPointF:
        """Where a cell's centre is drawn, in the plot view's viewport coordinates (where mouse events go)."""
        scene = self._plot.getViewBox().mapViewToScene(QPointF(col, row))
        return QPointF(self._graphics.mapFromScene(scene))

    def describe(self, row: int, col: int) -> str:
        """ "row label × column label = value" for a cell, saying what a non-finite value means."""
        data = self._data
        value = float(data.values[row, col])
        if math.isnan(value):
            shown = "no value (NaN)"
        elif math.isinf(value):
            shown = "−∞ (masked)" if value < 0 else "+∞"
        else:
            shown = f"{value:.4g}"
        return f"{data.row_labels[row]} × {data.col_labels[col]} = {shown}"

    def hover_text(self) -> str:
        """The read-out under the plot: the hovered cell, or how to use the plot."""
        return self._hover.text()

    def select_cell(self, row: int, col: int) -> None:
        """Outline a cell (as a click does, without emitting `cell_clicked`)."""
        self._selected = (row, col)
        self._selection.setRect(QRectF(col - 0.5, row - 0.5, 1, 1))
        self._selection.setVisible(True)

    def clear_selection(self) -> None:
        """Remove the outline of the selected cell."""
        self._selected = None
        self._selection.setVisible(False)

    def selected_cell(self) -> tuple[int, int] | None:
        """The outlined cell, or None."""
        return self._selected

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt's name)
        """Follow the mouse over the plot's viewport: the read-out names the cell under it."""
        if event.type() == QEvent.Type.MouseMove:
            cell = self.cell_at(self._graphics.mapToScene(event.position().toPoint()))
            self._set_hovered(*(cell or (-1, -1)))
        elif event.type() == QEvent.Type.Leave:
            self._set_hovered(-1, -1)
        return False

    def _set_hovered(self, row: int, col: int) -> None:
        if (row, col) == self._hovered:
            return
        self._hovered = (row, col)
        if row >= 0:
            self._hover.setText(self.describe(row, col))
        self.cell_hovered.emit(row, col)

    def _on_mouse_clicked(self, event: object) -> None:
        if event.button() != Qt.MouseButton.LeftButton:
            return
        cell = self.cell_at(event.scenePos())
        if cell is not None:
            self.select_cell(*cell)
            self.cell_clicked.emit(*cell)

    # --- Export

    def export_data(self) -> MatrixData | None:
        """The matrix and its labels, for CSV and JSON."""
        return self.matrix()


class MaskedCells(pg.GraphicsObject):
    """Every non-finite cell of a matrix in one item: NaN filled grey, ±∞ grey crossed by a diagonal line per cell.

    The diagonals of neighbouring cells join into long lines (one per run along an anti-diagonal), drawn as vectors
    so PNG, SVG and the screen agree; in a big matrix they blend into a darker grey.
    """

    def __init__(self) -> None:
        super().__init__()
        self._nan = QPainterPath()
        self._inf = QPainterPath()
        self._hatch = QPainterPath()
        self._hatch_pen = QPen(HATCH_COLOR, 1)
        self._hatch_pen.setCosmetic(True)

    @property
    def has_infinite(self) -> bool:
        """Whether any cell is ±∞."""
        return not self._inf.isEmpty()

    def set_cells(self, nan: np.ndarray, inf: np.ndarray) -> None:
        """Mark the cells that are True in `nan` and in `inf` (boolean matrices of the image's shape)."""
        self.prepareGeometryChange()
        self._nan, self._inf, self._hatch = cell_runs_path(nan), cell_runs_path(inf), diagonals_path(inf)
        self.update()

    def boundingRect(self) -> QRectF:  # noqa: N802 (Qt's name)
        """The cells drawn."""
        return self._nan.boundingRect().united(self._inf.boundingRect())

    def paint(self, painter: QPainter, *args: object) -> None:
        """Fill the NaN and ±∞ cells and cross the ±∞ ones."""
        painter.fillPath(self._nan, NAN_COLOR)
        painter.fillPath(self._inf, NAN_COLOR)
        painter.strokePath(self._hatch, self._hatch_pen)


def cell_runs_path(mask: np.ndarray) -> QPainterPath:
    """One rectangle per horizontal run of True cells (cell (r, c) spans c±0.5, r±0.5): a masked triangle of a
    512×512 matrix is 512 rectangles, not 131,072."""
    path = QPainterPath()
    if not mask.any():
        return path
    for row, start, end in _runs(mask):
        path.addRect(QRectF(start - 0.5, row - 0.5, end - start, 1))
    return path


def diagonals_path(mask: np.ndarray) -> QPainterPath:
    """A "/" through every True cell, one line per run of True cells along an anti-diagonal (row + col fixed)."""
    path = QPainterPath()
    if not mask.any():
        return path
    rows, cols = mask.shape
    # Anti-diagonals of `mask` are the diagonals of `mask` upside down; line them up as rows of one array.
    flipped = mask[::-1]
    offsets = range(1 - rows, cols)
    length = min(rows, cols)
    lines = np.zeros((len(offsets), length), dtype=bool)
    for i, offset in enumerate(offsets):
        diagonal = np.diagonal(flipped, offset)
        lines[i, : len(diagonal)] = diagonal
    for i, start, end in _runs(lines):
        offset = offsets[i]
        first_col = max(offset, 0) + start  # column of the run's lowest-left cell
        first_row = rows - 1 - (max(-offset, 0) + start)
        count = end - start
        path.moveTo(first_col - 0.5, first_row + 0.5)
        path.lineTo(first_col + count - 0.5, first_row - count + 0.5)
    return path


def _runs(mask: np.ndarray) -> list[tuple[int, int, int]]:
    """(row, start, end) of every run of True cells in each row of a boolean matrix, `end` exclusive."""
    edges = np.diff(np.pad(mask.astype(np.int8), ((0, 0), (1, 1))), axis=1)
    starts, ends = np.argwhere(edges == 1), np.argwhere(edges == -1)
    return [(row, start, end) for (row, start), (_, end) in zip(starts.tolist(), ends.tolist(), strict=True)]


def color_levels(finite: np.ndarray, kind: str) -> tuple[float, float]:
    """The colour range for finite values: -1..1 about 0 for "diverging" (wider, still symmetric, if values
    go beyond), 0..1 for "sequential" (min..max if values go beyond)."""
    if finite.size == 0:
        return (-1.0, 1.0) if kind == "diverging" else (0.0, 1.0)
    low, high = float(finite.min()), float(finite.max())
    if kind == "diverging":
        reach = max(1.0, abs(low), abs(high))
        return -reach, reach
    if low >= 0.0 and high <= 1.0:
        return 0.0, 1.0
    return (low, high) if high > low else (low - 0.5, high + 0.5)
