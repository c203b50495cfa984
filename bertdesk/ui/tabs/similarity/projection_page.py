"""The Projection view: a layer's token vectors flattened to 2-D by PCA, each point labelled with its token."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QLabel, QSizePolicy, QWidget

from bertdesk.core.files import TableData
from bertdesk.core.similarity import Projection2D, pca_2d
from bertdesk.ui.tabs.similarity.analysis import Analysis
from bertdesk.ui.tabs.similarity.layout import PLOT_MINIMUM, controls_bar, page_layout
from bertdesk.ui.tabs.similarity.pages import LayerPicker, caption, note, set_note
from bertdesk.ui.tabs.similarity.texts import PROJECTION_CAPTION
from bertdesk.ui.widgets import ExportButton, style_plot

POINT_COLOR = QColor(31, 119, 180)
SPECIAL_COLOR = QColor(214, 39, 40)


class ProjectionPage(QWidget):
    """PCA scatter of the chosen layer's token vectors, with labels; exports as PNG/SVG and its points as CSV."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.analysis: Analysis | None = None
        self.labels: list[str] = []
        self.projection: Projection2D | None = None
        self.layer = LayerPicker(0, lambda v, last: "embeddings" if v == 0 else f"after layer {v} of {last}", self)
        self.hide_special = QCheckBox("Hide [CLS] and [SEP]", self)
        self.plot_widget = pg.PlotWidget()
        self.plot_widget.setMinimumSize(PLOT_MINIMUM)
        self.plot = self.plot_widget.getPlotItem()
        self.plot.hideButtons()
        self.plot.setMenuEnabled(False)
        self.plot.showGrid(x=True, y=True, alpha=0.15)
        style_plot(self.plot, self.plot_widget, self.palette())
        self.scatter = pg.ScatterPlotItem(size=9, pen=None)
        self.plot.addItem(self.scatter)
        self.texts: list[pg.TextItem] = []
        self.export_button = ExportButton(self, self)
        self.read_out = QLabel(self)
        self.read_out.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.caption = caption(PROJECTION_CAPTION, self)
        self.note = note(self)
        footer = QHBoxLayout()
        footer.addWidget(self.read_out, 1)
        footer.addWidget(self.export_button)
        page_layout(self, controls_bar(self, self.layer, self.hide_special), self.note, self.plot_widget, footer,
                    self.caption)
        self.layer.value_changed.connect(self.redraw)
        self.hide_special.toggled.connect(self.redraw)

    def show_analysis(self, analysis: Analysis) -> None:
        """Draw `analysis` at the chosen layer."""
        self.analysis = analysis
        forward = analysis.forward
        self.layer.setEnabled(forward.has_internals)
        if forward.has_internals:
            self.layer.set_last(forward.num_layers)
        set_note(self.note, "" if forward.has_internals else f"Only the last layer can be shown: {forward.missing}")
        self.redraw()

    def redraw(self) -> None:
        """Project the chosen layer's vectors (a small SVD: tokens × width) and draw them labelled."""
        analysis = self.analysis
        if analysis is None:
            return
        forward = analysis.forward
        layer = self.layer.value() if forward.has_internals else -1
        kept = np.arange(len(forward.pieces))
        if self.hide_special.isChecked() and not forward.special.all():
            kept = np.flatnonzero(~forward.special)
        for text in self.texts:
            self.plot.removeItem(text)
        self.texts = []
        if len(kept) < 2:
            self.projection, self.labels = None, []
            self.scatter.setData([], [])
            self.read_out.setText("Type at least two tokens to see them projected.")
            return
        self.projection = projection = pca_2d(forward.vectors(layer)[kept])
        self.labels = [forward.pieces[i] for i in kept]
        points = projection.points
        brushes = [pg.mkBrush(SPECIAL_COLOR if forward.special[i] else POINT_COLOR) for i in kept]
        self.scatter.setData(points[:, 0], points[:, 1], brush=brushes)
        color = self.palette().color(QPalette.ColorRole.Text)
        for label, (x, y) in zip(self.labels, points, strict=True):
            text = pg.TextItem(label, color=color, anchor=(0, 1))
            text.setPos(float(x), float(y))
            self.plot.addItem(text)
            self.texts.append(text)
        where = "the embeddings" if layer == 0 else ("the last layer" if layer < 0 else f"layer {layer}")
        self.plot.setTitle(f"Token vectors after {where}, projected on 2 principal components")
        self.plot.setLabel("bottom", f"PC 1 ({projection.explained[0]:.0%} of the variance)")
        self.plot.setLabel("left", f"PC 2 ({projection.explained[1]:.0%})")
        self.plot.autoRange()
        shown = sum(projection.explained)
        self.read_out.setText(f"The picture keeps {shown:.0%} of how the {len(kept)} vectors vary.")

    # --- Exportable

    def export_data(self) -> TableData | None:
        """The points: token, x, y."""
        if self.projection is None:
            return None
        rows = tuple((label, float(x), float(y)) for label, (x, y) in zip(self.labels, self.projection.points,
                                                                           strict=True))
        return TableData(("token", "pc1", "pc2"), rows, self.plot.titleLabel.text)

    def export_view(self) -> QWidget:
        """The plot."""
        return self.plot_widget

    def export_name(self) -> str:
        """A file name stem."""
        return "projection"
