"""The toolbar's model chooser: every installed bundle with its task, size and shape."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QComboBox, QWidget

if TYPE_CHECKING:
    from bertdesk.core.bundle import BundleInfo

TASK_LABELS = {
    "encoder": "embeddings",
    "question-answering": "question answering",
    "sequence-classification": "classification",
}


def format_size(size_bytes: int) -> str:
    """A size on disk for people: "87 MB", "640 KB"."""
    if size_bytes >= 1_000_000_000:
        return f"{size_bytes / 1e9:.1f} GB"
    if size_bytes >= 1_000_000:
        return f"{size_bytes / 1e6:.0f} MB"
    return f"{max(size_bytes, 0) / 1e3:.0f} KB"


def describe_bundle(info: BundleInfo) -> str:
    """One line for a bundle: name, task, shape and size."""
    task = TASK_LABELS.get(info.task, info.task)
    shape = f"{info.num_layers} layers · {info.num_heads} heads · {info.hidden_size} wide"
    return f"{info.name} — {task} · {shape} · {format_size(info.size_bytes)}"


class ModelPicker(QComboBox):
    """Lists the installed bundles; choosing one emits `model_requested` with its folder."""

    model_requested = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.setMinimumContentsLength(30)
        self.setPlaceholderText("Choose a model")
        self.setToolTip("The model every tab uses. Switching loads it in the background.")
        self.activated.connect(self._on_activated)

    def set_bundles(self, infos: list[BundleInfo], current: str | None) -> None:
        """Show `infos`, selecting the bundle whose folder is `current`."""
        self.blockSignals(True)
        self.clear()
        for info in infos:
            self.addItem(describe_bundle(info), info.path)
            self.setItemData(self.count() - 1, f"{info.summary()}\n{info.path}", Qt.ItemDataRole.ToolTipRole)
        self.blockSignals(False)
        self.setEnabled(bool(infos))
        self.select(current)

    def select(self, path: str | None) -> None:
        """Select the bundle whose folder is `path` (none if it is not listed)."""
        self.blockSignals(True)
        self.setCurrentIndex(self.findData(path) if path is not None else -1)
        self.blockSignals(False)

    def show_pending(self, text: str) -> None:
        """Show `text` ("Installing the default model…") in place of the list until `set_bundles`."""
        self.blockSignals(True)
        self.clear()
        self.addItem(text)
        self.setEnabled(False)
        self.blockSignals(False)

    def _on_activated(self, index: int) -> None:
        path = self.itemData(index)
        if path is not None:
            self.model_requested.emit(path)
