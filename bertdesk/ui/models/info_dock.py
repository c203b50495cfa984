"""The "About this model" panel: the architecture numbers of the bundle in use, its precision variants with their
measured agreement, and the choice of the precision it runs at."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QComboBox, QDockWidget, QFormLayout, QLabel, QWidget

from bertdesk.core.bundles import PRECISIONS
from bertdesk.ui.models.picker import TASK_LABELS, format_size
from bertdesk.ui.models.precision import PRECISION_HELP, agreement_text, int8_record, precisions

if TYPE_CHECKING:
    from bertdesk.core.bundles import BundleInfo

_ROWS = {
    "name": ("Name", "The bundle's folder name."),
    "task": ("Task", "What the model's head does: embeddings, classification or question answering."),
    "architecture": ("Architecture", "The Hugging Face architecture the bundle was converted from."),
    "model_type": ("Model type", "The family of the checkpoint (bert, distilbert, ...)."),
    "num_layers": ("Layers", "Transformer layers, each with self-attention and a feed-forward block."),
    "num_heads": ("Attention heads", "Attention heads in every layer."),
    "hidden_size": ("Hidden size", "Width of every token's vector between layers."),
    "vocab_size": ("Vocabulary", "Number of distinct tokens the tokenizer can produce."),
    "max_positions": ("Max tokens", "The longest input the model accepts, special tokens included."),
    "labels": ("Labels", "The classes a classification model chooses from."),
    "has_internals": ("Internals", "Whether per-layer hidden states and attentions can be shown."),
    "size_bytes": ("Size on disk", "Total size of the bundle's files."),
    "path": ("Folder", "Where the bundle is stored."),
}


class ModelInfoPanel(QDockWidget):
    """A dock listing the numbers of the current bundle; choosing another precision in it emits
    `precision_requested(folder, precision)`."""

    precision_requested = Signal(str, str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("About this model", parent)
        self.setObjectName("model_info")
        self.setToolTip("The architecture of the model in use")
        body = QWidget(self)
        form = QFormLayout(body)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self._values: dict[str, QLabel] = {}
        for key, (label, tip) in _ROWS.items():
            value = QLabel("—", body)
            value.setWordWrap(True)
            value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            value.setToolTip(tip)
            name = QLabel(label + ":", body)
            name.setToolTip(tip)
            form.addRow(name, value)
            self._values[key] = value
        self._path: str | None = None
        self.precision = QComboBox(body)
        self.precision.setObjectName("model_precision")
        self.precision.setToolTip(PRECISION_HELP)
        self.precision.setEnabled(False)
        self.precision.activated.connect(self._precision_chosen)
        self.agreement = QLabel("—", body)
        self.agreement.setWordWrap(True)
        self.agreement.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.agreement.setToolTip(PRECISION_HELP)
        for label, widget in (("Precision:", self.precision), ("int8 agreement:", self.agreement)):
            name = QLabel(label, body)
            name.setToolTip(PRECISION_HELP)
            form.insertRow(form.rowCount() - 2, name, widget)  # above the size and the folder
        self.setWidget(body)
        # Wide enough for the whole title beside the float and close buttons, which the title bar also holds.
        buttons = 2 * self.style().pixelMetric(self.style().PixelMetric.PM_TitleBarButtonSize) + 40
        self.setMinimumWidth(self.fontMetrics().horizontalAdvance(self.windowTitle()) + buttons)

    def show_info(self, info: BundleInfo | None) -> None:
        """Show `info`, or dashes when no model is loaded."""
        for key, label in self._values.items():
            label.setText("—" if info is None else _format(key, getattr(info, key)))
        self._path = None if info is None else info.path
        self.precision.clear()
        self.agreement.setText("—")
        if info is None:
            self.precision.setEnabled(False)
            return
        choices = [p for p in precisions(info) if p in PRECISIONS]
        for precision in choices:
            self.precision.addItem(precision, precision)
        self.precision.setCurrentIndex(self.precision.findData(info.precision))
        self.precision.setEnabled(len(choices) > 1)
        record = int8_record(info)
        if record is None:
            self.agreement.setText("no int8 variant: make one with Quantize in Models → Manage models…")
        else:
            self.agreement.setText(agreement_text(record.get("agreement")))

    def _precision_chosen(self, index: int) -> None:
        precision = self.precision.itemData(index)
        if self._path is not None and precision is not None:
            self.precision_requested.emit(self._path, precision)


def _format(key: str, value: object) -> str:
    if key == "task":
        return TASK_LABELS.get(str(value), str(value))
    if key == "size_bytes":
        return format_size(int(value))
    if key == "has_internals":
        return "per-layer states and attentions" if value else "final output only"
    if key == "labels":
        names = value.values() if isinstance(value, dict) else value
        return ", ".join(map(str, names)) if value else "—"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)
