"""Model manager tests: a models folder (BERTDESK_MODELS, set by tests/ui/conftest.py) holding copies of the tiny
bundles and a link to the real default model, a window on it, and its model manager."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from bertdesk.ui.main_window import MainWindow
from bertdesk.ui.models.manager_dialog import ModelManagerDialog
from bertdesk.ui.models.menu import open_manager


@pytest.fixture
def models(tiny_bundle: Path, tiny_classifier_bundle: Path, default_bundle_dir: Path) -> Path:
    """The models folder: copies of the tiny encoder and classifier, and a link to the installed default model
    (read only here: nothing deletes or quantizes it)."""
    folder = Path(os.environ["BERTDESK_MODELS"])
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copytree(tiny_bundle, folder / tiny_bundle.name)
    shutil.copytree(tiny_classifier_bundle, folder / tiny_classifier_bundle.name)
    (folder / default_bundle_dir.name).symlink_to(default_bundle_dir, target_is_directory=True)
    return folder


@pytest.fixture
def window(open_window, models: Path, tiny_bundle: Path) -> MainWindow:
    """A window using the tiny encoder of `models`."""
    return open_window(models / tiny_bundle.name)


@pytest.fixture
def manager(qtbot, window: MainWindow) -> Iterator[ModelManagerDialog]:
    """The window's model manager, open, with the installed models listed."""
    dialog = open_manager(window)
    qtbot.waitUntil(lambda: dialog.table.rowCount() == len(window.models.infos) > 0 and not window.is_busy(),
                    timeout=30_000)
    yield dialog
    dialog.shutdown()


def wait_for_job(qtbot, dialog: ModelManagerDialog, timeout: int = 60_000) -> None:
    """Wait until the dialog's job has ended and the models were listed again."""
    qtbot.waitUntil(lambda: not dialog.runner.is_running() and not dialog.controller.is_running(), timeout=timeout)
