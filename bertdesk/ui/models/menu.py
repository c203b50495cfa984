"""The window's Models menu: what the user can do with models beyond picking one."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtWidgets import QMenu

if TYPE_CHECKING:
    from bertdesk.ui.main_window import MainWindow


def populate_models_menu(menu: QMenu, window: MainWindow) -> None:
    """Fill the Models menu of `window`."""
    menu.addAction(window.model_info.toggleViewAction())
    menu.addAction(window.wheel_action)
