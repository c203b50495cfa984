"""The main window: tabs, model loading and switching, input by paste and drop, errors, saved settings."""

from __future__ import annotations

import json
import os
import shutil
import threading
import time
from pathlib import Path

import pytest
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QAction, QDragEnterEvent, QDropEvent, QGuiApplication, QKeySequence
from PySide6.QtWidgets import (
    QAbstractButton,
    QApplication,
    QComboBox,
    QDialog,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QWidget,
)

from bertdesk.core.bundles.bundle import open_model
from bertdesk.core.errors import BertdeskError
from bertdesk.core.jobs import JobHandle
from bertdesk.ui.main_window import MainWindow
from bertdesk.ui.models import controller as controller_module
from bertdesk.ui.samples import sample_text
from bertdesk.ui.workers import JobRunner
from tests.ui.conftest import UntilCancelled

TAB_TITLES = ["Tokens", "Similarity", "Classify", "Ask", "Library"]
SAMPLE = sample_text("tokens")
#: Longer than any question: the Library tab declines it (its files join the library through Add files… instead).
LONG_PARAGRAPH = " ".join(["The river bank flooded after a week of rain, and the town raised its walls."] * 12)


def open_dialogs() -> list[QWidget]:
    """The dialogs and message boxes on screen, modal or not (the window's isVisible() stays True under them)."""
    return [widget for widget in QApplication.topLevelWidgets() if isinstance(widget, QDialog) and widget.isVisible()]


@pytest.fixture
def installed_models(tiny_bundle, tiny_classifier_bundle, tmp_path):
    """The models folder (BERTDESK_MODELS, set by conftest) holding the tiny encoder and the tiny classifier."""
    models = tmp_path / "models"
    shutil.copytree(tiny_bundle, models / tiny_bundle.name)
    shutil.copytree(tiny_classifier_bundle, models / tiny_classifier_bundle.name)
    return models


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
    actions = {action.shortcut().toString(): action for action in window.findChildren(QAction)}
    for index in (3, 1, 0, 2):
        action = actions[f"Ctrl+{index + 1}"]
        assert action.text() == TAB_TITLES[index]
        action.trigger()
        assert window.current_tab() is window.tabs[index]


def test_switching_model_reaches_every_tab(qtbot, open_window, installed_models, tiny_bundle, tiny_classifier_bundle):
    models = installed_models
    window = open_window(models / tiny_bundle.name)
    assert window.model_picker.model_count() == 2
    classifier = str(models / tiny_classifier_bundle.name)
    index = window.model_picker.findData(classifier)
    assert "classification" in window.model_picker.itemText(index)
    window.model_picker.activated.emit(index)
    qtbot.waitUntil(lambda: window.bundle is not None and window.bundle.info.path == classifier, timeout=30_000)
    assert all(tab.bundle is window.bundle for tab in window.tabs)
    assert window.model_picker.currentData() == classifier
    assert "LABEL_A" in [label.text().split(",")[0] for label in window.model_info.findChildren(QLabel)]


def test_a_model_switch_fills_the_comparison_list_once(
    qtbot, open_window, installed_models, tiny_bundle, tiny_classifier_bundle, monkeypatch
):
    models = installed_models
    window = open_window(models / tiny_bundle.name)
    tab = window.tabs[0]
    fills: list[int] = []
    real_fill = tab.compare.fill
    monkeypatch.setattr(tab.compare, "fill", lambda: fills.append(1) or real_fill())
    window.model_picker.activated.emit(window.model_picker.findData(str(models / tiny_classifier_bundle.name)))
    qtbot.waitUntil(lambda: window.bundle.info.name == tiny_classifier_bundle.name, timeout=30_000)
    assert fills == [1]
    assert [tab.compare_combo.itemText(i) for i in range(tab.compare_combo.count())] == [
        "No comparison",
        tiny_bundle.name,
    ]


def test_a_bundle_is_described_the_same_way_everywhere(
    qtbot, open_window, installed_models, tiny_bundle, tiny_classifier_bundle
):
    models = installed_models
    window = open_window(models / tiny_bundle.name)
    picker, combo = window.model_picker, window.tabs[0].compare_combo
    classifier = picker.itemText(picker.findData(str(models / tiny_classifier_bundle.name)))
    assert classifier.startswith(f"{tiny_classifier_bundle.name} — classification · 2 layers")
    assert combo.itemData(combo.findText(tiny_classifier_bundle.name), Qt.ItemDataRole.ToolTipRole) == classifier
    assert window.model_label.toolTip().startswith(f"The model in use: {picker.currentText()}\n")


def test_window_opens_at_once_while_the_model_installs(qtbot, open_window, tiny_bundle, monkeypatch):
    release = threading.Event()

    def slow_open_model(name_or_path, *, handle: JobHandle):
        assert name_or_path is None  # the default model
        handle.progress(0.3, "downloading the default model")
        assert release.wait(10)
        return open_model(str(tiny_bundle))

    monkeypatch.setattr(controller_module, "open_model", slow_open_model)
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


def test_closing_cancels_every_job_before_waiting_for_any(qtbot, open_window, tiny_bundle, monkeypatch):
    window = open_window(tiny_bundle)
    handles: list[JobHandle] = []

    def endless(handle: JobHandle) -> None:
        handles.append(handle)
        while True:
            handle.check()
            time.sleep(0.01)

    for tab in window.tabs[:2]:
        tab.runner.submit(endless, "endless")
    qtbot.waitUntil(lambda: len(handles) == 2, timeout=10_000)
    cancelled_at_first_wait: list[list[bool]] = []
    real_shutdown = JobRunner.shutdown

    def recording_shutdown(runner: JobRunner, *args) -> None:
        cancelled_at_first_wait.append([handle.is_cancelled() for handle in handles])
        real_shutdown(runner, *args)

    monkeypatch.setattr(JobRunner, "shutdown", recording_shutdown)
    window.close()
    assert cancelled_at_first_wait[0] == [True, True]


def test_cancel_button_stops_the_job(qtbot, open_window, tiny_bundle):
    window = open_window(tiny_bundle)
    endless = UntilCancelled()
    window.tabs[0].runner.submit(endless, "endless")
    assert endless.started.wait(5), "the job never started"  # on a loaded machine the pool thread may start late
    qtbot.mouseClick(window.cancel_button, Qt.MouseButton.LeftButton)
    assert endless.stopped.wait(5)
    assert not window.cancel_button.isVisible()
    assert window.statusBar().currentMessage() == "Cancelled."


def test_job_errors_show_in_the_message_bar(qtbot, open_window, tiny_bundle):
    window = open_window(tiny_bundle)

    def fails(handle: JobHandle) -> None:
        raise BertdeskError("That text cannot be tokenized.")

    window.tabs[0].runner.submit(fails, "tokenize")
    qtbot.waitUntil(window.messages.isVisible, timeout=5000)
    assert window.messages.text() == "That text cannot be tokenized."
    assert open_dialogs() == []  # in the message bar, not in a dialog in the way


def test_status_bar_shows_the_last_run_time(qtbot, open_window, tiny_bundle):
    window = open_window(tiny_bundle)
    window.tabs[0].set_input_text("the cat sat on the mat")
    wait_idle(qtbot, window)
    assert window.time_label.text().startswith("Last run: ") and window.time_label.text().endswith(" ms")


def test_paste_and_analyze(qtbot, open_window, tiny_bundle):
    window = open_window(tiny_bundle)
    QGuiApplication.clipboard().setText("the dog sat in paris")
    assert window.paste_action.shortcut() == QKeySequence("Ctrl+Shift+V")
    window.paste_action.trigger()
    assert "the dog sat in paris" in tab_text(window)
    wait_idle(qtbot, window)
    tokenization = window.tabs[0].tokenization()
    assert tokenization is not None and "paris" in [token.piece for token in tokenization.tokens]


def test_paste_into_a_tab_that_declines_the_text_says_so(qtbot, open_window, tiny_bundle):
    window = open_window(tiny_bundle)
    tab = window.select_tab("library")
    QGuiApplication.clipboard().setText(LONG_PARAGRAPH)
    window.paste_action.trigger()
    assert "too long for a question" in window.statusBar().currentMessage()
    assert tab.question_edit.text() == ""


def test_drop_a_text_file(qtbot, open_window, tiny_bundle, tmp_path):
    window = open_window(tiny_bundle)
    path = tmp_path / "note.txt"
    path.write_text("hello world, the river bank", encoding="utf-8")
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    send_drop(window, mime)
    assert "hello world, the river bank" in tab_text(window)
    assert window.statusBar().currentMessage() == "Loaded note.txt (27 characters, UTF-8)."
    assert not window.messages.isVisible()


@pytest.mark.parametrize(
    ("content", "complaint"),
    [(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary"), (b"\xff\xfe\x00\xd8", "not (bad bytes")],
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
        file.truncate(2_500_000)  # six times a 60,000-word text
    assert not window.open_text_file(path)
    assert window.messages.text() == "huge.txt is 2.5 MB; bertdesk opens text files up to 2 MB."


@pytest.mark.parametrize("box", ["text_edit", "pair_edit"])
def test_a_file_dropped_on_a_text_box_is_loaded_not_pasted_as_its_url(qtbot, open_window, tiny_bundle, tmp_path, box):
    window = open_window(tiny_bundle)
    tab = window.tabs[0]
    tab.pair_check.setChecked(True)
    path = tmp_path / "note.txt"
    path.write_text("the river bank", encoding="utf-8")
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    mime.setText(QUrl.fromLocalFile(str(path)).toString())  # as file managers offer it
    viewport = getattr(tab, box).viewport()
    where = viewport.rect().center()
    buttons, modifiers = Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    enter = QDragEnterEvent(where, Qt.DropAction.CopyAction, mime, buttons, modifiers)
    QApplication.sendEvent(viewport, enter)
    assert enter.isAccepted()  # by the window, which the box lets the drag through to
    drop = QDropEvent(QPointF(where), Qt.DropAction.CopyAction, mime, buttons, modifiers)
    QApplication.sendEvent(viewport, drop)
    assert drop.isAccepted()
    other = "pair_edit" if box == "text_edit" else "text_edit"
    assert getattr(tab, box).toPlainText() == "the river bank"  # the box it was dropped on
    assert getattr(tab, other).toPlainText() == ("" if box == "text_edit" else SAMPLE)
    assert window.statusBar().currentMessage() == "Loaded note.txt (14 characters, UTF-8)."


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
    assert open_dialogs() == []


def test_everything_is_restored_after_a_restart(qtbot, open_window, tiny_bundle):
    first = open_window(tiny_bundle)
    first.tabs[0].set_input_text("a good movie in paris")
    first.select_tab("ask")
    wait_idle(qtbot, first)  # the Ask tab's first result may change its minimum height
    first.resize(first.minimumSizeHint().width() + 10, max(560, first.minimumSizeHint().height() + 10))
    first.model_info.hide()
    QApplication.processEvents()
    saved_inputs = first.tabs[0].save_state()
    # Qt keeps a restored window on the screen: the offscreen screen is 800 pixels wide, narrower than the
    # window's minimum with every tab, so the width comes back as wide as the screen allows.
    available = first.screen().availableGeometry()
    expected = (min(first.width(), available.width() - 2), min(first.height(), available.height()))
    first.close()

    second = open_window()  # no model given: the saved one
    assert second.bundle.info.path == str(tiny_bundle)
    assert second.current_tab().title == "Ask"
    assert second.tabs[0].save_state() == saved_inputs
    # ... and no smaller than the restored window's own minimum (a message on show may need a few more pixels).
    minimum = second.minimumSizeHint()
    assert (second.width(), second.height()) == (max(expected[0], minimum.width()), max(expected[1], minimum.height()))
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
    malformed = {
        "window": {"geometry": "géométrie", "state": 3},
        "tab": ["x"],
        "tabs": {"tokens": {"text": 7}},
        "model": {},
    }
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

    monkeypatch.setattr(controller_module, "open_model", no_default)
    window = open_window(tmp_path / "gone", wait=False)
    qtbot.waitUntil(lambda: window.model_picker.isEnabled(), timeout=10_000)
    assert window.bundle is None
    assert "no network" in window.messages.text()
    assert window.model_picker.currentIndex() == -1
    assert window.model_picker.itemData(0) == str(tmp_path / "models" / tiny_bundle.name)
    assert window.model_picker.itemText(1).startswith("Install the default model")  # a retry, once online
    window.model_picker.activated.emit(0)
    qtbot.waitUntil(lambda: window.bundle is not None, timeout=10_000)
    assert window.bundle.info.name == tiny_bundle.name
    wait_idle(qtbot, window)


@pytest.mark.parametrize("installed", [True, False])
def test_cancelling_the_first_install_leaves_a_model_to_choose(
    qtbot, open_window, tiny_bundle, tmp_path, monkeypatch, installed
):
    if installed:
        shutil.copytree(tiny_bundle, tmp_path / "models" / tiny_bundle.name)
    calls: list[str | None] = []

    def install_until_cancelled(name_or_path, *, handle: JobHandle):
        calls.append(name_or_path)
        if len(calls) == 1:
            handle.progress(0.1, "downloading the default model")
            while True:
                handle.check()
                time.sleep(0.01)
        return open_model(str(tiny_bundle))  # the second try "installs" the tiny model

    monkeypatch.setattr(controller_module, "open_model", install_until_cancelled)
    window = open_window(wait=False)
    qtbot.waitUntil(lambda: window.statusBar().currentMessage() == "downloading the default model", timeout=5000)
    assert window.cancel_button.shortcut() == QKeySequence(Qt.Key.Key_Escape)
    window.cancel_button.click()
    qtbot.waitUntil(window.model_picker.isEnabled, timeout=10_000)
    assert window.bundle is None
    assert "choose one" in window.statusBar().currentMessage()
    picker = window.model_picker
    items = [picker.itemText(i) for i in range(picker.count())]
    assert items[-3] == "Install the default model, all-MiniLM-L6-v2" and items[-1] == "Manage models…"
    assert picker.model_count() == (1 if installed else 0) and picker.currentIndex() == -1
    picker.activated.emit(picker.count() - 3)
    qtbot.waitUntil(lambda: window.bundle is not None, timeout=10_000)
    assert calls == [None, None]
    wait_idle(qtbot, window)


def test_changes_without_a_pause_are_saved_within_the_delay(qtbot, open_window, tiny_bundle, monkeypatch):
    window = open_window(tiny_bundle)
    window.save_settings()  # nothing left to save
    timer = window.window_state.timer
    starts: list[int] = []
    real_start = timer.start
    monkeypatch.setattr(timer, "start", lambda: (starts.append(1), real_start()))
    for text in ("the", "the cat", "the cat sat"):  # as a fast typist, each change before the save is due
        window.tabs[0].set_input_text(text)
    assert starts == [1] and timer.isActive()  # started by the first change, not pushed back by the others


def test_a_saved_model_that_fails_at_start_stays_the_saved_choice(
    qtbot, open_window, tiny_bundle, tmp_path, user_folders, monkeypatch
):
    shutil.copytree(tiny_bundle, tmp_path / "models" / tiny_bundle.name)
    chosen = str(tmp_path / "models" / tiny_bundle.name)
    unplugged = str(tmp_path / "usb-stick" / "my-model")
    settings = user_folders / "settings.json"
    settings.parent.mkdir(parents=True, exist_ok=True)
    settings.write_text(json.dumps({"model": unplugged}), encoding="utf-8")

    def default_is_tiny(name_or_path, *, handle: JobHandle):
        return open_model(str(tiny_bundle) if name_or_path is None else name_or_path, handle=handle)

    monkeypatch.setattr(controller_module, "open_model", default_is_tiny)
    window = open_window()
    assert "default model" in window.messages.text()
    window.save_settings()
    assert json.loads(settings.read_text(encoding="utf-8"))["model"] == unplugged

    window.model_picker.activated.emit(window.model_picker.findData(chosen))
    qtbot.waitUntil(lambda: window.bundle.info.path == chosen and not window.is_busy(), timeout=10_000)
    window.save_settings()
    assert json.loads(settings.read_text(encoding="utf-8"))["model"] == chosen


def test_a_file_opened_on_a_tab_that_declines_its_text_is_not_reported_loaded(qtbot, open_window, tiny_bundle,
                                                                               tmp_path):
    window = open_window(tiny_bundle)
    window.select_tab("library")  # a whole file is not a question: files join the library otherwise
    path = tmp_path / "review.txt"
    path.write_text(LONG_PARAGRAPH, encoding="utf-8")
    assert not window.open_text_file(path)
    assert "too long for a question" in window.statusBar().currentMessage()
    assert not window.messages.isVisible()


def test_cancelling_a_model_switch_shows_the_model_still_in_use(
    qtbot, open_window, installed_models, tiny_bundle, tiny_classifier_bundle, monkeypatch
):
    models = installed_models
    window = open_window(models / tiny_bundle.name)
    loading = threading.Event()

    def slow_open_model(name_or_path, *, handle: JobHandle):
        loading.set()
        while True:
            handle.check()
            time.sleep(0.01)

    monkeypatch.setattr(controller_module, "open_model", slow_open_model)
    picker = window.model_picker
    picker.setCurrentIndex(picker.findData(str(models / tiny_classifier_bundle.name)))  # as a click does
    picker.activated.emit(picker.currentIndex())
    qtbot.waitUntil(loading.is_set, timeout=10_000)
    window.cancel_button.click()
    assert picker.currentData() == window.bundle.info.path == str(models / tiny_bundle.name)


def test_a_failing_model_listing_is_not_retried_forever(qtbot, open_window, tiny_bundle, monkeypatch):
    listings: list[int] = []

    def unreadable_models_folder() -> list:
        listings.append(1)
        raise PermissionError("models folder is not readable")

    def install_until_cancelled(name_or_path, *, handle: JobHandle):
        while True:
            handle.check()
            time.sleep(0.01)

    monkeypatch.setattr(controller_module, "open_model", install_until_cancelled)
    monkeypatch.setattr(controller_module, "_installed_bundles", unreadable_models_folder)
    window = open_window(wait=False)
    qtbot.waitUntil(window.cancel_button.isVisible, timeout=5000)
    window.cancel_button.click()
    qtbot.waitUntil(window.model_picker.isEnabled, timeout=10_000)
    qtbot.wait(300)
    assert listings == [1], "one listing after the cancel, no retries"
    assert window.bundle is None and window.model_picker.model_count() == 0
    assert window.model_picker.itemText(0).startswith("Install the default model")


def test_the_status_bar_names_the_working_tab_from_another_tab_and_esc_cancels_only_the_current(
    qtbot, open_window, tiny_bundle
):
    window = open_window(tiny_bundle)
    release = threading.Event()

    def waiting(handle: JobHandle) -> None:
        while not release.wait(0.01):
            handle.check()

    tokens = window.tabs[0]
    tokens.submit(waiting, "wait")
    window.select_tab("similarity")
    assert window.job_status.working_label.text() == "Working: Tokens…"
    assert not window.job_status.working_label.isHidden()
    assert window.cancel_button.isHidden()  # nothing to cancel on the tab on show...
    qtbot.keyClick(window, Qt.Key.Key_Escape)
    assert tokens.runner.is_running()  # ...so Esc leaves the Tokens job alone
    window.select_tab("tokens")
    assert not window.cancel_button.isHidden()
    window.cancel_button.click()
    assert not tokens.runner.is_running()
    assert window.job_status.working_label.text() == "" and window.job_status.working_label.isHidden()
    release.set()


def test_a_tab_saving_a_model_has_it_listed_without_a_switch(qtbot, open_window, tiny_bundle, tiny_classifier_bundle):
    window = open_window(tiny_bundle)
    tokens = window.tabs[0]
    saved = window.tabs[2]  # any tab may save a model (Classify saves a trained head)
    shutil.copytree(tiny_classifier_bundle, Path(os.environ["BERTDESK_MODELS"]) / "my-head")
    assert window.model_picker.findText("my-head", Qt.MatchFlag.MatchContains) == -1
    saved.models_changed.emit()
    qtbot.waitUntil(lambda: window.model_picker.findText("my-head", Qt.MatchFlag.MatchContains) >= 0, timeout=10_000)
    wait_idle(qtbot, window)
    assert window.bundle.info.path == str(tiny_bundle)  # the model in use stays, and stays chosen
    assert window.model_picker.currentData() == str(tiny_bundle)
    assert tokens.compare_combo.findText("my-head") > 0  # the tabs' lists of models follow


def test_a_tab_can_open_a_text_pair_in_the_tokens_tab(qtbot, open_window, tiny_bundle):
    window = open_window(tiny_bundle)
    ask = window.select_tab("ask")
    ask.open_in_tab.emit("tokens", "where is the cat?", "the cat sat on the mat.")
    tokens = window.tabs[0]
    assert window.current_tab() is tokens
    assert tokens.pair_check.isChecked()
    assert (tokens.text_edit.toPlainText(), tokens.pair_edit.toPlainText()) == (
        "where is the cat?", "the cat sat on the mat.")
    qtbot.waitUntil(lambda: tokens.tokenization() is not None and not tokens.is_busy(), timeout=20_000)
    assert {token.type_id for token in tokens.tokenization().tokens} == {0, 1}  # segment B came through
