"""The main window: tabs, model loading and switching, input by paste and drop, errors, saved settings."""

from __future__ import annotations

import json
import shutil
import threading
import time
from pathlib import Path

import pytest
from PySide6.QtCore import QMimeData, QPoint, Qt, QUrl
from PySide6.QtGui import QDropEvent, QGuiApplication
from PySide6.QtWidgets import QAbstractButton, QComboBox, QLabel, QLineEdit, QPlainTextEdit

from bertdesk.core.bundle import open_model
from bertdesk.core.errors import BertdeskError
from bertdesk.core.jobs import JobHandle
from bertdesk.ui import main_window as main_window_module
from bertdesk.ui.main_window import MainWindow
from bertdesk.ui.settings import SettingsStore

TAB_TITLES = ["Tokens", "Similarity", "Classify", "Ask"]


@pytest.fixture
def open_window(qtbot):
    """Opens windows (closed at teardown) and waits for their model."""
    windows: list[MainWindow] = []

    def open_(model: Path | str | None = None, *, store: SettingsStore | None = None, wait: bool = True) -> MainWindow:
        window = MainWindow(store if store is not None else SettingsStore(), model=str(model) if model else None)
        qtbot.addWidget(window)
        windows.append(window)
        window.show()
        if wait:
            qtbot.waitUntil(lambda: window.bundle is not None and not window.is_busy(), timeout=30_000)
        return window

    yield open_
    for window in windows:
        window.close()


def wait_idle(qtbot, window: MainWindow) -> None:
    qtbot.waitUntil(lambda: not window.is_busy(), timeout=30_000)


def tab_text(window: MainWindow, index: int = 0) -> str:
    return json.dumps(window.tabs[index].save_state())


def send_drop(window: MainWindow, mime: QMimeData) -> None:
    event = QDropEvent(
        QPoint(10, 10).toPointF(), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier(0)
    )
    window.dropEvent(event)


def test_opens_with_four_tabs_and_the_model(open_window, tiny_bundle):
    window = open_window(tiny_bundle)
    assert [tab.title for tab in window.tabs] == TAB_TITLES
    assert all(tab.bundle is window.bundle for tab in window.tabs)
    assert window.bundle.info.path == str(tiny_bundle)
    assert "tiny-bert" in window.model_picker.currentText()
    assert "2 layers" in window.model_picker.currentText()
    assert "tiny-bert" in window.statusBar().findChildren(QLabel)[0].text()
    assert "32" in [label.text() for label in window.model_info.findChildren(QLabel)]


def test_every_control_has_a_tooltip(open_window, tiny_bundle):
    window = open_window(tiny_bundle)
    controls = [
        *window.findChildren(QAbstractButton),
        *window.findChildren(QComboBox),
        *window.findChildren(QLineEdit),
        *window.findChildren(QPlainTextEdit),
    ]
    # The tool bar's extension arrow and the dock's title buttons are Qt's own.
    mine = [c for c in controls if not c.objectName().startswith("qt_") and c.isVisibleTo(window)]
    assert mine
    missing = [f"{type(c).__name__} {c.text() if hasattr(c, 'text') else ''}" for c in mine if not c.toolTip()]
    assert not missing


def test_ctrl_number_switches_tabs(qtbot, open_window, tiny_bundle):
    window = open_window(tiny_bundle)
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=2000)
    for index in (3, 1, 0, 2):
        qtbot.keyClick(window, Qt.Key(Qt.Key.Key_1 + index), Qt.KeyboardModifier.ControlModifier)
        assert window.current_tab() is window.tabs[index]


def test_switching_model_reaches_every_tab(qtbot, open_window, tiny_bundle, tiny_classifier_bundle, tmp_path):
    models = tmp_path / "models"
    shutil.copytree(tiny_bundle, models / tiny_bundle.name)
    shutil.copytree(tiny_classifier_bundle, models / tiny_classifier_bundle.name)
    window = open_window(models / tiny_bundle.name)
    assert window.model_picker.count() == 2
    classifier = str(models / tiny_classifier_bundle.name)
    index = window.model_picker.findData(classifier)
    assert "classification" in window.model_picker.itemText(index)
    window.model_picker.activated.emit(index)
    qtbot.waitUntil(lambda: window.bundle is not None and window.bundle.info.path == classifier, timeout=30_000)
    assert all(tab.bundle is window.bundle for tab in window.tabs)
    assert window.model_picker.currentData() == classifier
    assert "LABEL_A" in [label.text().split(",")[0] for label in window.model_info.findChildren(QLabel)]


def test_window_opens_at_once_while_the_model_installs(qtbot, open_window, tiny_bundle, monkeypatch):
    release = threading.Event()

    def slow_open_model(name_or_path, *, handle: JobHandle):
        assert name_or_path is None  # the default model
        handle.progress(0.3, "downloading the default model")
        assert release.wait(10)
        return open_model(str(tiny_bundle))

    monkeypatch.setattr(main_window_module, "open_model", slow_open_model)
    started = time.perf_counter()
    window = open_window(wait=False)
    assert time.perf_counter() - started < 2
    assert window.bundle is None
    qtbot.waitUntil(lambda: window.statusBar().currentMessage() == "downloading the default model", timeout=5000)
    assert window.progress_bar.isVisible() and window.cancel_button.isVisible()
    assert not window.model_picker.isEnabled()
    release.set()
    qtbot.waitUntil(lambda: window.bundle is not None, timeout=10_000)
    assert all(tab.bundle is window.bundle for tab in window.tabs)
    wait_idle(qtbot, window)
    assert not window.progress_bar.isVisible()


def test_a_missing_model_is_reported_and_the_default_used(qtbot, open_window, default_bundle_dir, tmp_path):
    (tmp_path / "models").mkdir(exist_ok=True)
    (tmp_path / "models" / default_bundle_dir.name).symlink_to(default_bundle_dir)
    window = open_window(tmp_path / "gone")
    assert window.messages.isVisible()
    assert "gone" in window.messages.text() and "default model" in window.messages.text()
    assert window.bundle.info.name == default_bundle_dir.name


def test_closing_with_a_job_running_leaves_no_thread(qtbot, open_window, tiny_bundle):
    window = open_window(tiny_bundle)
    running = threading.Event()

    def endless(handle: JobHandle) -> None:
        running.set()
        while True:
            handle.check()
            time.sleep(0.01)

    window.tabs[0].runner.submit(endless, "endless")
    assert running.wait(5)
    assert window.cancel_button.isVisible()
    window.close()
    assert not window.tabs[0].runner.is_running()
    # the autouse no_leftover_threads fixture checks that the worker thread is gone


def test_cancel_button_stops_the_job(qtbot, open_window, tiny_bundle):
    window = open_window(tiny_bundle)
    running, stopped = threading.Event(), threading.Event()

    def endless(handle: JobHandle) -> None:
        running.set()
        try:
            while True:
                handle.check()
                time.sleep(0.01)
        finally:
            stopped.set()

    window.tabs[0].runner.submit(endless, "endless")
    assert running.wait(5), "the job never started"  # on a loaded machine the pool thread may start late
    qtbot.mouseClick(window.cancel_button, Qt.MouseButton.LeftButton)
    assert stopped.wait(5)
    assert not window.cancel_button.isVisible()
    assert window.statusBar().currentMessage() == "Cancelled."


def test_job_errors_show_in_the_message_bar(qtbot, open_window, tiny_bundle):
    window = open_window(tiny_bundle)

    def fails(handle: JobHandle) -> None:
        raise BertdeskError("That text cannot be tokenized.")

    window.tabs[0].runner.submit(fails, "tokenize")
    qtbot.waitUntil(window.messages.isVisible, timeout=5000)
    assert window.messages.text() == "That text cannot be tokenized."
    assert window.isVisible()  # nothing modal in the way


def test_status_bar_shows_the_last_run_time(qtbot, open_window, tiny_bundle):
    window = open_window(tiny_bundle)
    window.tabs[0].set_input_text("the cat sat on the mat")
    wait_idle(qtbot, window)
    assert window.time_label.text().startswith("Last run: ") and window.time_label.text().endswith(" ms")


def test_paste_and_analyze(qtbot, open_window, tiny_bundle):
    window = open_window(tiny_bundle)
    QGuiApplication.clipboard().setText("the dog sat in paris")
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=2000)
    qtbot.keyClick(window, Qt.Key.Key_V, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert "the dog sat in paris" in tab_text(window)
    wait_idle(qtbot, window)
    tokenization = window.tabs[0].tokenization()
    assert tokenization is not None and "paris" in [token.piece for token in tokenization.tokens]


def test_paste_into_a_tab_not_built_yet_says_so(qtbot, open_window, tiny_bundle):
    window = open_window(tiny_bundle)
    window.select_tab("similarity")
    QGuiApplication.clipboard().setText("a cat")
    window.paste_action.trigger()
    assert "not built yet" in window.statusBar().currentMessage()


def test_drop_a_text_file(qtbot, open_window, tiny_bundle, tmp_path):
    window = open_window(tiny_bundle)
    path = tmp_path / "note.txt"
    path.write_text("hello world, the river bank", encoding="utf-8")
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    send_drop(window, mime)
    assert "hello world, the river bank" in tab_text(window)
    assert "note.txt" in window.statusBar().currentMessage()
    assert not window.messages.isVisible()


@pytest.mark.parametrize(
    ("content", "complaint"),
    [(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary"), (b"caf\xe9 au lait", "not UTF-8")],
)
def test_drop_of_a_binary_file_is_refused(qtbot, open_window, tiny_bundle, tmp_path, content, complaint):
    window = open_window(tiny_bundle)
    before = tab_text(window)
    path = tmp_path / "picture.png"
    path.write_bytes(content)
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    send_drop(window, mime)
    assert window.messages.isVisible() and complaint in window.messages.text()
    assert tab_text(window) == before


def test_drop_of_a_huge_file_is_refused(qtbot, open_window, tiny_bundle, tmp_path):
    window = open_window(tiny_bundle)
    path = tmp_path / "huge.txt"
    with path.open("wb") as file:
        file.truncate(main_window_module.MAX_TEXT_FILE_BYTES + 1)
    assert not window.open_text_file(path)
    assert "huge.txt" in window.messages.text() and "up to 20 MB" in window.messages.text()


def test_drop_of_plain_text(qtbot, open_window, tiny_bundle):
    window = open_window(tiny_bundle)
    mime = QMimeData()
    mime.setText("what is the capital of france")
    send_drop(window, mime)
    assert "what is the capital of france" in tab_text(window)


def test_settings_are_written_as_they_change(qtbot, open_window, tiny_bundle, user_folders):
    window = open_window(tiny_bundle)
    window.tabs[0].set_input_text("the cat sat")
    settings = user_folders / "settings.json"
    qtbot.waitUntil(lambda: settings.is_file() and "the cat sat" in settings.read_text(encoding="utf-8"), timeout=3000)
    assert window.isVisible()


def test_everything_is_restored_after_a_restart(qtbot, open_window, tiny_bundle):
    first = open_window(tiny_bundle)
    first.tabs[0].set_input_text("a good movie in paris")
    first.select_tab("ask")
    first.resize(760, 560)
    first.model_info.hide()
    saved_inputs = first.tabs[0].save_state()
    first.close()

    second = open_window()  # no model given: the saved one
    assert second.bundle.info.path == str(tiny_bundle)
    assert second.current_tab().title == "Ask"
    assert second.tabs[0].save_state() == saved_inputs
    assert (second.width(), second.height()) == (760, 560)
    assert not second.model_info.isVisible()


def test_a_corrupt_settings_file_is_set_aside(qtbot, open_window, tiny_bundle, user_folders):
    settings = user_folders / "settings.json"
    settings.parent.mkdir(parents=True, exist_ok=True)
    settings.write_text('{"tab": "ask", "tabs": {', encoding="utf-8")
    window = open_window(tiny_bundle)
    assert window.messages.isVisible() and "corrupt" in window.messages.text()
    kept = list(user_folders.glob("settings.json.corrupt-*"))
    assert len(kept) == 1 and kept[0].read_text(encoding="utf-8") == '{"tab": "ask", "tabs": {'
    assert window.current_tab().title == "Tokens"
    window.close()
    assert json.loads(settings.read_text(encoding="utf-8"))["model"] == str(tiny_bundle)


def test_malformed_settings_values_are_ignored(qtbot, open_window, tiny_bundle, user_folders):
    settings = user_folders / "settings.json"
    settings.parent.mkdir(parents=True, exist_ok=True)
    malformed = {"window": {"geometry": 3}, "tab": ["x"], "tabs": {"tokens": {"text": 7}}, "model": {}}
    settings.write_text(json.dumps(malformed), encoding="utf-8")
    window = open_window(tiny_bundle)
    assert window.current_tab().title == "Tokens"
    assert not window.messages.isVisible()


def test_when_no_model_opens_the_installed_ones_can_still_be_chosen(
    qtbot, open_window, tiny_bundle, tmp_path, monkeypatch
):
    shutil.copytree(tiny_bundle, tmp_path / "models" / tiny_bundle.name)

    def no_default(name_or_path, *, handle: JobHandle):
        if name_or_path is None:
            raise BertdeskError("could not download the default model: no network.")
        return open_model(name_or_path, handle=handle)

    monkeypatch.setattr(main_window_module, "open_model", no_default)
    window = open_window(tmp_path / "gone", wait=False)
    qtbot.waitUntil(lambda: window.model_picker.isEnabled(), timeout=10_000)
    assert window.bundle is None
    assert "no network" in window.messages.text()
    assert window.model_picker.count() == 1 and window.model_picker.currentIndex() == -1
    window.model_picker.activated.emit(0)
    qtbot.waitUntil(lambda: window.bundle is not None, timeout=10_000)
    assert window.bundle.info.name == tiny_bundle.name
    wait_idle(qtbot, window)
