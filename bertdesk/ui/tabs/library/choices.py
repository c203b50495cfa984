"""What a question is asked with: the reader (the window's question-answering model, an installed one, or none) and
where it is searched (every document, one folder, one document)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtWidgets import QComboBox, QWidget

from bertdesk.core.bundles import TASK_QA
from bertdesk.ui.tabs.library.answers import short
from bertdesk.ui.tabs.library.sources import natural_key

if TYPE_CHECKING:
    from bertdesk.core.bundles import Bundle, BundleInfo
    from bertdesk.ui.tabs.library.library_jobs import Snapshot

#: The reader choices that are not an installed model's folder.
READER_NONE = "none"
READER_WINDOW = "window"
#: The combos' width in characters at least (the tab must fit a 1024-pixel window; the list opens wider).
MIN_CHARS = 10


def _is_reader(bundle: Bundle | None) -> bool:
    return bundle is not None and bundle.info.task == TASK_QA


class ReaderCombo(QComboBox):
    """The window's model when it answers questions, the installed question-answering models, and none."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.chosen = False  # the user picked one: a model switch or a new listing keeps it where it can
        self.setToolTip(
            "The question-answering model that reads the best passages and points at the answer; without one, the "
            "best passages are shown (retrieval)."
        )
        self.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.setMinimumContentsLength(MIN_CHARS)
        self.activated.connect(self._activated)

    def fill(self, window_bundle: Bundle | None, installed: list[BundleInfo]) -> None:
        """List the choices; the first one is chosen unless the user's choice is still there."""
        current = self.currentData()
        self.blockSignals(True)
        self.clear()
        window_path = None
        if window_bundle is not None and _is_reader(window_bundle):
            self.addItem(f"{window_bundle.info.name} (window's model)", READER_WINDOW)
            window_path = str(window_bundle.info.path)
        for info in installed:
            if info.task == TASK_QA and str(info.path) != window_path:
                self.addItem(info.name, str(info.path))
        self.addItem("none (retrieval only)", READER_NONE)
        index = self.findData(current) if self.chosen else -1
        self.setCurrentIndex(max(0, index))
        self.blockSignals(False)

    def reader(self, window_bundle: Bundle | None) -> Bundle | str | None:
        """The chosen reader: the window's bundle, an installed one's folder (opened by the job), or None."""
        choice = self.currentData()
        if choice == READER_WINDOW:
            return window_bundle if _is_reader(window_bundle) else None
        return choice if isinstance(choice, str) and choice != READER_NONE else None

    def is_window_model(self) -> bool:
        """Whether the window's model is the reader."""
        return self.currentData() == READER_WINDOW

    def _activated(self) -> None:
        self.chosen = True


class FilterCombo(QComboBox):
    """Every document, each folder added, each document."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setToolTip("Search every document, one folder, or one document.")
        self.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.setMinimumContentsLength(MIN_CHARS)
        self.addItem("all documents", None)

    def fill(self, snapshot: Snapshot) -> bool:
        """List the library's folders and documents; returns False if the choice made is gone (back to all)."""
        current = self.currentData()
        self.blockSignals(True)
        self.clear()
        self.addItem("all documents", None)
        for source in snapshot.sources:
            if source.is_folder:
                self.addItem(f"folder: {source.path.name or source.path}", ("folder", str(source.path)))
        for document in sorted(snapshot.documents, key=lambda d: natural_key(d.title)):
            self.addItem(f"document: {short(document.title, 50)}", ("document", document.id))
        index = self.findData(current)
        self.setCurrentIndex(max(0, index))
        self.blockSignals(False)
        return current is None or index >= 0

    def scope(self) -> tuple[list[int] | None, Path | None]:
        """(document ids, folder) to search: (None, None) for every document."""
        data = self.currentData()
        if isinstance(data, tuple) and data[0] == "document":
            return [int(data[1])], None
        if isinstance(data, tuple) and data[0] == "folder":
            return None, Path(data[1])
        return None, None
