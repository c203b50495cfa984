"""The Library tab inside the main window (a view of the window's library session, which runs without it), and a
soak of what it paints."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from bertdesk.ui.main_window import MainWindow
from bertdesk.ui.settings_store import SettingsStore
from tests.ui.tabs.library.conftest import idle
from tests.ui.tabs.library.test_library_tab import BRIDGE_QUESTION, answered, imported


@pytest.fixture
def library_window(qtbot, monkeypatch, default_bundle_dir, tiny_bundle):
    """A main window with the default model installed (linked) in the models folder of this test, and the tiny
    encoder as the window's model."""
    models = Path(os.environ["BERTDESK_MODELS"])
    models.mkdir(parents=True, exist_ok=True)
    (models / default_bundle_dir.name).symlink_to(default_bundle_dir, target_is_directory=True)
    window = MainWindow(SettingsStore(), model=str(tiny_bundle))
    qtbot.addWidget(window)
    window.show()
    qtbot.waitUntil(lambda: window.bundle is not None and not window.is_busy(), timeout=30_000)
    yield window
    window.close()


def test_a_library_with_a_watched_folder_starts_with_the_window(qtbot, default_bundle_dir, tiny_bundle,
                                                                library_folder):
    from bertdesk.core.library.store import LibraryStore, default_db_path

    models = Path(os.environ["BERTDESK_MODELS"])
    models.mkdir(parents=True, exist_ok=True)
    (models / default_bundle_dir.name).symlink_to(default_bundle_dir, target_is_directory=True)
    with LibraryStore(default_db_path()) as store:
        store.add_source(library_folder, watch=True)
    window = MainWindow(SettingsStore(), model=str(tiny_bundle))
    qtbot.addWidget(window)
    window.show()
    index = window.tabs.index_of("library")
    assert window.current_tab() is not window.tabs.built(index) and window.library is None
    qtbot.waitUntil(lambda: window.library is not None, timeout=10_000)
    session = window.library
    qtbot.waitUntil(lambda: session.watcher is not None and not session.is_busy(), timeout=120_000)
    assert window.tabs.built(index) is None, "the library is kept in sync without its tab built"
    assert "River Atlas" in [document.title for document in session.snapshot.documents], (
        "the interrupted import went on without the tab opened"
    )
    tab = window.select_tab("library")
    assert tab.session is session and "River Atlas" in tab.sources.document_titles(), "the tab shows its session"
    assert not tab.sources.resume_button.isVisible()
    window.close()


def test_the_library_tab_in_the_window_imports_answers_and_closes_clean(qtbot, library_window, library_folder):
    window = library_window
    tab = window.select_tab("library")
    assert tab.title == "Library" and tab.bundle is window.bundle
    assert tab.reader_combo.currentText() == "none (retrieval only)", "the tiny encoder is no reader"
    imported(qtbot, tab, library_folder)
    assert "River Atlas" in tab.sources.document_titles()
    tab.set_input_text(BRIDGE_QUESTION)  # as `bertdesk screenshot --tab library` gives its sample
    qtbot.waitUntil(lambda: not window.is_busy() and bool(tab.shown_answers()), timeout=60_000)
    assert tab.shown_answers()[0].page == 2
    embedder = tab.session.embedder
    assert embedder is not None and embedder.info.precision == "int8", "indexing uses the int8 graph"


def test_the_library_tab_fits_a_1024_pixel_window_with_its_titles_readable(qtbot, library_window, library_folder):
    window = library_window
    tab = window.select_tab("library")
    imported(qtbot, tab, library_folder)
    window.resize(1024, 700)
    qtbot.waitUntil(lambda: window.width() <= 1024, timeout=5_000)
    QApplication.processEvents()
    assert window.width() == 1024, "the tab asks for no more width than a 1024-pixel screen has"
    assert tab.sources.tree.header().sectionSize(0) >= 100, "document titles keep room in the list"
    tab.main_split.setSizes([300, 700])
    tab.main_split.splitterMoved.emit(300, 1)  # as a drag of the handle does
    window.resize(1200, 700)
    QApplication.processEvents()
    assert tab.main_split.sizes()[0] < 430, "once dragged, the handle stays where the user put it"


def test_escape_in_the_window_cancels_the_import(qtbot, library_window, tmp_path):
    from tests.ui.tabs.library.test_library_tab import many_files

    window = library_window
    tab = window.select_tab("library")
    qtbot.waitUntil(lambda: idle(tab), timeout=30_000)
    tab.add_paths([many_files(tmp_path / "notes", 40)])
    qtbot.waitUntil(tab.session.index_runner.is_running, timeout=60_000)
    window.cancel_job()
    qtbot.waitUntil(lambda: not window.is_busy(), timeout=30_000)
    assert tab.session.snapshot.queued > 0 and tab.sources.resume_button.isVisible()


@pytest.mark.slow
def test_soak_hover_scroll_and_resize_over_the_answers_and_the_page(qtbot, make_tab, library_folder):
    tab = answered(qtbot, make_tab, library_folder, size=(1400, 900))
    qtbot.waitUntil(tab.page_view.has_page, timeout=30_000)
    boxes = tab.page_view.boxes()
    answers_viewport, page_viewport = tab.answers.viewport(), tab.page_view.viewport()
    start = time.monotonic()
    for step in range(3000):
        for viewport in (answers_viewport, page_viewport):
            x = (step * 37) % max(1, viewport.width())
            y = (step * 53) % max(1, viewport.height())
            QTest.mouseMove(viewport, QPoint(x, y))
        if step % 10 == 0:
            delta = 120 if (step // 10) % 2 else -120
            for viewport in (answers_viewport, page_viewport):
                QApplication.sendEvent(viewport, QWheelEvent(
                    QPointF(20, 20), QPointF(viewport.mapToGlobal(QPoint(20, 20))), QPoint(0, 0), QPoint(0, delta),
                    Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier, Qt.ScrollPhase.NoScrollPhase, False,
                ))
        if step % 100 == 0:
            tab.resize(1024 + (step % 700), 700 + (step % 300))
            QApplication.processEvents()
    elapsed = time.monotonic() - start
    assert tab.answers.selected_row() == 0 and tab.page_view.has_page() and tab.page_view.boxes() == boxes
    assert tab.page_view.label.pixmap().width() == tab.page_view.shown_width()
    assert elapsed < 120, f"6,000 hovers, 600 wheel turns and 30 resizes took {elapsed:.1f} s"
