"""The attention overview: every layer's every head as a thumbnail in one image; a click opens that head."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, Qt, Signal
from PySide6.QtWidgets import QLabel, QSizePolicy, QWidget

from bertdesk.core.similarity import attention_grid, grid_cell
from bertdesk.ui.tabs.similarity.analysis import Analysis
from bertdesk.ui.tabs.similarity.layout import PLOT_MINIMUM, page_layout
from bertdesk.ui.tabs.similarity.pages import caption, note, set_note
from bertdesk.ui.tabs.similarity.texts import OVERVIEW_CAPTION
from bertdesk.ui.widgets import style_plot

LUT = pg.colormap.get("viridis").getLookupTable(nPts=256, alpha=True)


def grid_rgba(grid: np.ndarray) -> np.ndarray:
    """Colour the grid (probabilities 0..1) with viridis; its NaN gaps transparent."""
    gaps = np.isnan(grid)
    index = np.clip(np.nan_to_num(grid, nan=0.0) * 255, 0, 255).astype(np.uint8)
    rgba = LUT[index]
    rgba[gaps] = 0
    return rgba


class OverviewPage(QWidget):
    """All layers × heads of attention as small thumbnails (one composed image, cheap to draw)."""

    #: (layer 1..N, head) the user clicked.
    head_chosen = Signal(int, int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.analysis: Analysis | None = None
        self.grid: np.ndarray | None = None
        self.plot_widget = pg.PlotWidget()
        self.plot_widget.setMinimumSize(PLOT_MINIMUM)
        self.plot = self.plot_widget.getPlotItem()
        self.plot.hideButtons()
        self.plot.setMenuEnabled(False)
        self.plot.invertY(True)
        self.plot.setAspectLocked(True)
        self.plot.showAxis("top")
        self.plot.hideAxis("bottom")
        style_plot(self.plot, self.plot_widget, self.palette())
        self.image = pg.ImageItem(axisOrder="row-major")
        self.plot.addItem(self.image)
        self.read_out = QLabel("Click a thumbnail to open that head in the Attention view.", self)
        self.read_out.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.caption = caption(OVERVIEW_CAPTION, self)
        self.note = note(self)
        page_layout(self, None, self.note, self.plot_widget, self.read_out, self.caption)
        self.plot_widget.scene().sigMouseClicked.connect(self._clicked)

    def show_analysis(self, analysis: Analysis) -> None:
        """Compose and draw the thumbnails of `analysis`."""
        self.analysis = analysis
        forward = analysis.forward
        if not forward.has_internals:
            set_note(self.note, f"This model's attention cannot be shown: {forward.missing}")
            self.grid = None
            self.image.clear()
            return
        set_note(self.note, "")
        self.grid = grid = attention_grid(forward)
        self.image.setImage(grid_rgba(grid), autoLevels=False)
        layers, heads, seq, _ = forward.attentions.shape
        pitch = seq + 1
        self.plot.getAxis("left").setTicks([[((layer + 0.5) * pitch - 0.5, f"layer {layer + 1}")
                                             for layer in range(layers)], []])
        self.plot.getAxis("top").setTicks([[((head + 0.5) * pitch - 0.5, f"h{head}") for head in range(heads)], []])
        self.plot.setTitle(f"Attention of every head: {layers} layers × {heads} heads, {seq} tokens each")
        self.plot.autoRange(padding=0.01)

    def cell_center(self, layer: int, head: int) -> QPointF:
        """The scene position of the middle of thumbnail (`layer` 1..N, `head`) (for tests and tooltips)."""
        seq = self.analysis.forward.attentions.shape[2]
        pitch = seq + 1
        view = self.plot.getViewBox()
        return view.mapViewToScene(QPointF(head * pitch + seq / 2, (layer - 1) * pitch + seq / 2))

    def _clicked(self, event) -> None:
        if self.grid is None or event.button() != Qt.MouseButton.LeftButton:
            return
        point = self.plot.getViewBox().mapSceneToView(event.scenePos())
        found = grid_cell(self.analysis.forward, point.y(), point.x())
        if found is not None:
            self.head_chosen.emit(*found)


