"""The model manager's catalogue: recommended public models, what each is for, and a Download button each."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from bertdesk.core.bundles import TASK_CLASSIFICATION, TASK_ENCODER, TASK_QA
from bertdesk.core.models import CatalogEntry
from bertdesk.ui.models.picker import TASK_LABELS
from bertdesk.ui.models.task_filter import ALL_TASKS

#: (header, tooltip) of each column; the last holds the Download button.
COLUMNS = (
    ("Model", "The name it is installed under"),
    ("What it is for", "What the model does"),
    ("Task", "What the model's head does"),
    ("Licence", "The licence its authors publish it under"),
    ("Size", "Approximate size of the download"),
    ("", ""),
)
NAME, PURPOSE, TASK, LICENCE, SIZE, ACTION = range(len(COLUMNS))


class CataloguePanel(QWidget):
    """The catalogue's entries, filtered by task; a row's Download button emits `download_requested(entry)`.

    Entries already installed (by name) say so instead of offering a download.
    """

    download_requested = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.filter = QComboBox(self)
        self.filter.setObjectName("catalogue_filter")
        self.filter.addItem("All tasks", ALL_TASKS)
        for task in (TASK_QA, TASK_CLASSIFICATION, TASK_ENCODER):
            self.filter.addItem(TASK_LABELS[task].capitalize(), task)
        self.filter.currentIndexChanged.connect(self._apply_filter)
        self.table = QTableWidget(0, len(COLUMNS), self)
        self.table.setObjectName("catalogue")
        self.table.setHorizontalHeaderLabels([header for header, _ in COLUMNS])
        for column, (_, tip) in enumerate(COLUMNS):
            self.table.horizontalHeaderItem(column).setToolTip(tip)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setWordWrap(True)
        self.table.verticalHeader().hide()
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(PURPOSE, QHeaderView.ResizeMode.Stretch)
        self.table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        note = QLabel(
            "Models download from the Hugging Face Hub, are checked file by file and made ready to run here. "
            "Without a connection, download a model's files on another computer and use Import folder… instead.",
            self,
        )
        note.setWordWrap(True)
        row = QHBoxLayout()
        row.addWidget(QLabel("Show:", self))
        row.addWidget(self.filter)
        row.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addWidget(note)
        layout.addLayout(row)
        layout.addWidget(self.table, 1)
        self.entries: list[CatalogEntry] = []
        self.buttons: dict[str, QPushButton] = {}

    def show_entries(self, entries: list[CatalogEntry], installed: set[str]) -> None:
        """List `entries`; those whose name is in `installed` are marked installed."""
        self.entries = list(entries)
        self.buttons = {}
        self.table.setRowCount(0)  # drops the old rows' buttons and hidden flags with them
        self.table.setRowCount(len(entries))
        for row, entry in enumerate(entries):
            cells = (entry.name, entry.purpose, TASK_LABELS.get(entry.task, entry.task), entry.licence,
                     f"{entry.size_mb:,} MB")
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setToolTip(f"{text}\n{entry.repo_id} ({entry.revision})" if column == NAME else text)
                self.table.setItem(row, column, item)
            if entry.name in installed:
                done = QLabel("Installed", self.table)
                done.setAlignment(Qt.AlignmentFlag.AlignCenter)
                self.table.setCellWidget(row, ACTION, done)
            else:
                button = QPushButton("Download", self.table)
                button.setToolTip(f"Download {entry.repo_id} from the Hugging Face Hub ({entry.size_mb:,} MB)")
                button.clicked.connect(lambda _=False, e=entry: self.download_requested.emit(e))
                self.table.setCellWidget(row, ACTION, button)
                self.buttons[entry.name] = button
        self._apply_filter()

    def set_task(self, task: str) -> None:
        """Show only the entries for `task` (ALL_TASKS: every entry)."""
        self.filter.setCurrentIndex(max(0, self.filter.findData(task)))

    def set_downloads_enabled(self, enabled: bool) -> None:
        """Enable or disable every Download button (one job runs at a time)."""
        for button in self.buttons.values():
            button.setEnabled(enabled)

    def visible_names(self) -> list[str]:
        """The names of the entries the filter shows."""
        return [entry.name for row, entry in enumerate(self.entries) if not self.table.isRowHidden(row)]

    def _apply_filter(self) -> None:
        task = self.filter.currentData()
        for row, entry in enumerate(self.entries):
            self.table.setRowHidden(row, bool(task) and entry.task != task)
