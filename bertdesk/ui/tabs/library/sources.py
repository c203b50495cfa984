"""The library's left side: its sources and documents, the indexing progress and the import log."""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from bertdesk.ui.tabs.library.texts import EMPTY_LIBRARY, SCANNED_HINT

if TYPE_CHECKING:
    from bertdesk.core.library import DocumentInfo, ImportFailure, IndexProgress, SourceInfo

#: Item data: ("document", id) or ("source", id).
ROLE = Qt.ItemDataRole.UserRole
#: Numbers' alignment (built once: combining Qt flags is slow in Python, per row it shows).
RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
DOCUMENT_COLUMNS = ("Title", "Kind", "Pages", "Passages", "Notes")
NOTES_WIDTH = 125
#: The import log's height at most.
LOG_HEIGHT = 130
#: The kinds as the list shows them (short: the title needs the room).
KIND_LABELS = {"markdown": "md", "text": "txt"}


def natural_key(text: str) -> list[object]:
    """A sort key that puts "Report 2" before "Report 10"."""
    return [int(part) if part.isdigit() else part.lower() for part in re.split(r"(\d+)", text)]


def scanned_note(blank_pages: Sequence[int]) -> str:
    """"scanned pages: 3, 7" for the pages without a text layer ("" when there are none)."""
    if not blank_pages:
        return ""
    numbers = ", ".join(str(n) for n in blank_pages[:8]) + (", …" if len(blank_pages) > 8 else "")
    return f"scanned page{'s' if len(blank_pages) > 1 else ''}: {numbers}"


def duration(seconds: float | None) -> str:
    """A time left as people say it: "about 40 s", "about 3 min", "" when unknown."""
    if seconds is None or seconds != seconds or seconds < 0:
        return ""
    if seconds < 60:
        return f"about {max(1, round(seconds))} s left"
    if seconds < 3600:
        return f"about {round(seconds / 60)} min left"
    return f"about {seconds / 3600:.1f} h left"


def progress_text(progress: IndexProgress) -> str:
    """One line: files done of total, pages, passages, passages/s, time left."""
    parts = [
        f"{progress.files_done} of {progress.files_total} files",
        f"{progress.pages} pages",
        f"{progress.passages} passages",
    ]
    if progress.passages_per_s > 0:
        parts.append(f"{progress.passages_per_s:.1f} passages/s")
    left = duration(progress.seconds_left)
    if left:
        parts.append(left)
    if progress.failures:
        parts.append(f"{progress.failures} failed")
    return " · ".join(parts)


class SourcesPanel(QWidget):
    """Documents grouped under the folders they came from; buttons to add and remove; progress; import log."""

    add_files = Signal()
    add_folder = Signal()
    remove_requested = Signal()
    cancel_requested = Signal()
    retry_requested = Signal(object)  # a Path, or None for every failed file
    resume_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.add_files_button = QPushButton("Add files…", self)
        self.add_files_button.setToolTip("Add PDF, Word (.docx), HTML, Markdown or text files to the library.")
        self.add_folder_button = QPushButton("Add folder…", self)
        self.add_folder_button.setToolTip("Add every supported file in a folder and its subfolders.")
        self.watch_check = QCheckBox("watch this folder", self)
        self.watch_check.setChecked(True)
        self.watch_check.setToolTip(
            "Keep an added folder in sync: new, changed, renamed and deleted files are picked up while the app runs "
            "and at the next start."
        )
        self.remove_button = QPushButton("Remove", self)
        self.remove_button.setToolTip("Remove the selected document or folder from the library (the files stay).")
        self.remove_button.setEnabled(False)

        self.tree = QTreeWidget(self)
        self.tree.setColumnCount(len(DOCUMENT_COLUMNS))
        self.tree.setHeaderLabels(list(DOCUMENT_COLUMNS))
        self.tree.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.tree.setUniformRowHeights(True)
        header = self.tree.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for column in (1, 2, 3):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        # Notes can be long ("scanned pages: 3, 7, 9…"): a fixed width, elided, whole in the tooltip.
        header.setSectionResizeMode(4, QHeaderView.ResizeMode.Interactive)
        header.resizeSection(4, NOTES_WIDTH)
        header.setMinimumSectionSize(36)
        self.empty_label = QLabel(EMPTY_LIBRARY, self)
        self.empty_label.setWordWrap(True)
        self.empty_label.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.empty_label.setMargin(8)
        self.empty_label.hide()
        self.stats_label = QLabel("", self)
        self.stats_label.setWordWrap(True)

        self.resume_label = QLabel("", self)
        self.resume_label.setWordWrap(True)
        self.resume_button = QPushButton("Resume", self)
        self.resume_button.setToolTip("Continue importing the files left from the interrupted run.")
        self.progress_bar = QProgressBar(self)
        self.progress_bar.setRange(0, 1000)
        self.progress_bar.setTextVisible(False)
        self.progress_bar.setMaximumHeight(12)
        self.progress_label = QLabel("", self)
        self.progress_label.setWordWrap(True)
        self.current_label = QLabel("", self)
        self.current_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.cancel_button = QPushButton("Cancel", self)
        self.cancel_button.setToolTip(
            "Stop importing. Files already done stay in the library; the rest waits for the next import."
        )

        self.log_label = QLabel("", self)
        self.log = QTreeWidget(self)
        self.log.setColumnCount(2)
        self.log.setHeaderLabels(["File", "Why it was not imported"])
        self.log.setRootIsDecorated(False)
        self.log.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.log.header().setSectionResizeMode(0, QHeaderView.ResizeMode.Interactive)
        self.log.header().resizeSection(0, 160)
        self.retry_button = QPushButton("Retry", self)
        self.retry_button.setToolTip("Try the selected file again (after fixing it, say).")
        self.retry_button.setEnabled(False)
        self.retry_all_button = QPushButton("Retry all", self)
        self.retry_all_button.setToolTip("Try every file listed here again.")

        buttons = QHBoxLayout()
        buttons.addWidget(self.add_files_button)
        buttons.addWidget(self.add_folder_button)
        buttons.addStretch(1)
        buttons.addWidget(self.remove_button)
        resume_row = QHBoxLayout()
        resume_row.addWidget(self.resume_label, 1)
        resume_row.addWidget(self.resume_button)
        progress_row = QHBoxLayout()
        progress_row.addWidget(self.progress_bar, 1)
        progress_row.addWidget(self.cancel_button)
        log_buttons = QHBoxLayout()
        log_buttons.addWidget(self.log_label, 1)
        log_buttons.addWidget(self.retry_button)
        log_buttons.addWidget(self.retry_all_button)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(buttons)
        layout.addWidget(self.watch_check)  # its own line: the panel fits a 1024-pixel window beside the answers
        layout.addWidget(self.tree, 1)
        layout.addWidget(self.empty_label, 1)
        layout.addWidget(self.stats_label)
        layout.addLayout(resume_row)
        layout.addLayout(progress_row)
        layout.addWidget(self.progress_label)
        layout.addWidget(self.current_label)
        layout.addLayout(log_buttons)
        layout.addWidget(self.log)
        self.set_resume(0)
        self.set_progress(None)
        self.set_failures([])

        self.add_files_button.clicked.connect(self.add_files)
        self.add_folder_button.clicked.connect(self.add_folder)
        self.remove_button.clicked.connect(self.remove_requested)
        self.cancel_button.clicked.connect(self.cancel_requested)
        self.resume_button.clicked.connect(self.resume_requested)
        self.retry_button.clicked.connect(self._retry_selected)
        self.retry_all_button.clicked.connect(lambda: self.retry_requested.emit(None))
        self.tree.itemSelectionChanged.connect(
            lambda: self.remove_button.setEnabled(self.selected() is not None)
        )
        self.log.itemSelectionChanged.connect(lambda: self.retry_button.setEnabled(bool(self.log.selectedItems())))

    # --- the documents -------------------------------------------------------------------------------------

    def set_library(self, sources: Sequence[SourceInfo], documents: Sequence[DocumentInfo]) -> None:
        """List `documents`, those inside a folder source under it; the selection is kept where it still exists."""
        kept = self.selected()
        scrolled = self.tree.verticalScrollBar().value()
        collapsed = {
            item.data(0, ROLE)[1]
            for item in (self.tree.topLevelItem(i) for i in range(self.tree.topLevelItemCount()))
            if item.data(0, ROLE)[0] == "source" and not item.isExpanded()
        }
        self.tree.clear()
        folders = sorted((s for s in sources if s.is_folder), key=lambda s: len(s.path.parts), reverse=True)
        folder_items: dict[int, QTreeWidgetItem] = {}
        children: dict[int, list[QTreeWidgetItem]] = {}
        top: list[QTreeWidgetItem] = []
        for source in sorted(folders, key=lambda s: str(s.path)):
            item = QTreeWidgetItem([source.path.name or str(source.path), "folder", "", "", ""])
            item.setData(0, ROLE, ("source", source.id))
            item.setToolTip(0, escape(str(source.path)) + (" — watched" if source.watch else ""))
            top.append(item)
            folder_items[source.id] = item
            children[source.id] = []
        totals: dict[int, list[int]] = {sid: [0, 0, 0] for sid in folder_items}
        # Deepest folder first; string prefixes, as Path.is_relative_to costs a parse per call.
        prefixes = [(s, os.path.join(str(s.path), "")) for s in folders]
        for document in sorted(documents, key=lambda d: natural_key(d.title)):
            item = self._document_item(document)
            where = str(document.path)
            parent = next((s for s, prefix in prefixes if where.startswith(prefix)), None)
            if parent is None:
                top.append(item)
            else:
                children[parent.id].append(item)
                counts = totals[parent.id]
                counts[0] += 1
                counts[1] += document.page_count
                counts[2] += document.passages
        for source in folders:
            item = folder_items[source.id]
            count, pages, passages = totals[source.id]
            watched = "watched" if source.watch else "not watched"
            item.setText(4, f"{count} file{'s' if count != 1 else ''}, {watched}")
            item.setToolTip(4, item.toolTip(0))
            item.setText(2, str(pages))
            item.setText(3, str(passages))
            item.addChildren(children[source.id])
        # Inserted at once: one by one, the columns sized to their contents are measured again at every row.
        self.tree.addTopLevelItems(top)
        for source_id, item in folder_items.items():
            item.setExpanded(source_id not in collapsed)
        empty = not documents and not folder_items
        self.empty_label.setVisible(empty)  # in the list's place
        self.tree.setVisible(not empty)
        if kept is not None:
            self._select(kept)
        self.tree.verticalScrollBar().setValue(scrolled)
        self.remove_button.setEnabled(self.selected() is not None)

    @staticmethod
    def _document_item(document: DocumentInfo) -> QTreeWidgetItem:
        item = QTreeWidgetItem(
            [document.title, KIND_LABELS.get(document.kind, document.kind), str(document.page_count),
             str(document.passages), scanned_note(document.blank_pages)]
        )
        item.setData(0, ROLE, ("document", document.id))
        tip = escape(str(document.path))
        if document.blank_pages:
            tip += (f"<br>{escape(scanned_note(document.blank_pages))} — no text layer, nothing on them can be "
                    f"found.<br>{escape(SCANNED_HINT)}")
        item.setToolTip(0, tip)
        item.setToolTip(4, tip)
        for column in (2, 3):
            item.setTextAlignment(column, RIGHT)
        return item

    def selected(self) -> tuple[str, int] | None:
        """("document", id) or ("source", id) of the selected row, or None."""
        items = self.tree.selectedItems()
        return items[0].data(0, ROLE) if items else None

    def selected_label(self) -> str:
        """The selected row's title (for a confirmation)."""
        items = self.tree.selectedItems()
        return items[0].text(0) if items else ""

    def document_titles(self) -> list[str]:
        """The titles listed, in order (folders' documents included)."""
        titles = []
        for index in range(self.tree.topLevelItemCount()):
            item = self.tree.topLevelItem(index)
            if item.data(0, ROLE)[0] == "document":
                titles.append(item.text(0))
            titles += [item.child(i).text(0) for i in range(item.childCount())]
        return titles

    def _select(self, key: tuple[str, int]) -> None:
        for index in range(self.tree.topLevelItemCount()):
            item = self.tree.topLevelItem(index)
            for candidate in (item, *(item.child(i) for i in range(item.childCount()))):
                if tuple(candidate.data(0, ROLE)) == tuple(key):
                    candidate.setSelected(True)
                    self.tree.setCurrentItem(candidate)
                    return

    # --- progress, resume, failures ------------------------------------------------------------------------

    def set_resume(self, queued: int) -> None:
        """Offer to resume `queued` files left by an interrupted import (0 hides the offer)."""
        self.resume_label.setText(
            f"{queued} file{'s' if queued != 1 else ''} still to import from an interrupted run." if queued else ""
        )
        self.resume_label.setVisible(bool(queued))
        self.resume_button.setVisible(bool(queued))

    def set_progress(self, progress: IndexProgress | None, note: str = "") -> None:
        """Show the indexing `progress` (None hides the progress area, `note` says why, e.g. "Cancelled: …")."""
        running = progress is not None
        for widget in (self.progress_bar, self.cancel_button, self.current_label):
            widget.setVisible(running)
        if progress is None:
            self.progress_label.setText(note)
            self.progress_label.setVisible(bool(note))
            return
        self.progress_bar.setValue(round(1000 * progress.fraction))
        self.progress_label.setText(progress_text(progress))
        self.progress_label.setVisible(True)
        self.current_label.setText(f"Reading {progress.current}" if progress.current else "")

    def set_starting(self, text: str) -> None:
        """The indexing is about to start (the model is being opened, say): show `text` with Cancel."""
        self.progress_bar.setValue(0)
        for widget in (self.progress_bar, self.cancel_button, self.progress_label):
            widget.setVisible(True)
        self.progress_label.setText(text)
        self.current_label.setVisible(False)

    def set_failures(self, failures: Sequence[ImportFailure]) -> None:
        """List the files that could not be imported, with the reason."""
        self.log.clear()
        for failure in failures:
            item = QTreeWidgetItem([failure.path.name, failure.reason])
            item.setData(0, ROLE, str(failure.path))
            item.setToolTip(0, escape(str(failure.path)))
            item.setToolTip(1, escape(failure.reason))
            self.log.addTopLevelItem(item)
        count = len(failures)
        # As tall as its rows (the documents keep the room), up to LOG_HEIGHT, then it scrolls.
        rows = self.log.sizeHintForRow(0) * count if count else 0
        chrome = self.log.header().sizeHint().height() + 2 * self.log.frameWidth() + 4
        self.log.setMaximumHeight(min(LOG_HEIGHT, chrome + rows))
        self.log_label.setText(f"<b>Not imported ({count})</b>" if count else "")
        for widget in (self.log_label, self.log, self.retry_button, self.retry_all_button):
            widget.setVisible(bool(count))
        self.retry_button.setEnabled(bool(self.log.selectedItems()))

    def failed_paths(self) -> list[Path]:
        """The files listed in the import log."""
        return [Path(self.log.topLevelItem(i).data(0, ROLE)) for i in range(self.log.topLevelItemCount())]

    def _retry_selected(self) -> None:
        items = self.log.selectedItems()
        if items:
            self.retry_requested.emit(Path(items[0].data(0, ROLE)))
