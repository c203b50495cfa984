"""The toolbar's model chooser: every installed bundle with its task, size, shape and precision, and a last entry
that opens the model manager."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QComboBox, QWidget

from bertdesk.core.models import DEFAULT_MODEL_NAME
from bertdesk.ui.models.precision import precision_note

if TYPE_CHECKING:
    from bertdesk.core.bundles import BundleInfo

#: The item data of the "install the default model" entry (a bundle's is its folder, never empty).
_DEFAULT = ""
#: The item data of the last entry, "Manage models…" (no folder is named so: it is not an absolute path).
_MANAGE = "manage:"
MANAGE_TEXT = "Manage models…"

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


def bundle_line(info: BundleInfo) -> str:
    """One line for a bundle, wherever the window names one: name, task, shape, size and precision
    ("… · 91 MB · fp32; int8 available")."""
    task = TASK_LABELS.get(info.task, info.task)
    shape = f"{info.num_layers} layers · {info.num_heads} heads · {info.hidden_size} wide"
    return f"{info.name} — {task} · {shape} · {format_size(info.size_bytes)} · {precision_note(info)}"


class ModelPicker(QComboBox):
    """Lists the installed bundles; choosing one emits `model_requested` with its folder, choosing the entry
    offered by `set_bundles(..., offer_default=True)` emits `default_requested`, and the last entry, "Manage
    models…", emits `manage_requested` (the selection stays on the model in use)."""

    model_requested = Signal(str)
    default_requested = Signal()
    manage_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.setMinimumContentsLength(30)
        self._current: str | None = None
        self.setPlaceholderText("Choose a model")
        self.setToolTip("The model every tab uses. Switching loads it in the background.")
        self.activated.connect(self._on_activated)

    def set_bundles(self, infos: list[BundleInfo], current: str | None, *, offer_default: bool = False) -> None:
        """Show `infos`, selecting the bundle whose folder is `current`; `offer_default` adds an entry that
        installs (or loads) the default model."""
        self.clear()
        for info in infos:
            line = bundle_line(info)
            self.addItem(line, info.path)
            self.setItemData(self.count() - 1, f"{line}\n{info.path}", Qt.ItemDataRole.ToolTipRole)
        if offer_default:
            self.addItem(f"Install the default model, {DEFAULT_MODEL_NAME}", _DEFAULT)
            tip = "Download and convert the default model (once), then load it"
            self.setItemData(self.count() - 1, tip, Qt.ItemDataRole.ToolTipRole)
        if self.count():
            self.insertSeparator(self.count())
        self.addItem(MANAGE_TEXT, _MANAGE)
        tip = "Download, import, quantize, rename or delete models"
        self.setItemData(self.count() - 1, tip, Qt.ItemDataRole.ToolTipRole)
        self.setEnabled(True)
        self.select(current)

    def select(self, path: str | None) -> None:
        """Select the bundle whose folder is `path` (none if it is not listed)."""
        self._current = path
        self.setCurrentIndex(self.findData(path) if path is not None else -1)

    def show_pending(self, text: str) -> None:
        """Show `text` ("Installing the default model…") in place of the list until `set_bundles`."""
        self.clear()
        self.addItem(text)
        self.setCurrentIndex(0)  # a combo with placeholder text stays at -1 and would show that instead
        self.setEnabled(False)

    def model_count(self) -> int:
        """How many bundles are listed (the entries that install the default or open the manager apart)."""
        return sum(1 for i in range(self.count()) if self.itemData(i) not in (None, _DEFAULT, _MANAGE))

    def manage_index(self) -> int:
        """The row of the "Manage models…" entry (-1 while a model is pending)."""
        return self.findData(_MANAGE)

    def _on_activated(self, index: int) -> None:
        path = self.itemData(index)
        if path == _MANAGE:
            self.select(self._current)
            self.manage_requested.emit()
        elif path == _DEFAULT:
            self.default_requested.emit()
        elif path is not None:
            self.model_requested.emit(path)
