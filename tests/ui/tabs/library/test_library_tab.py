"""The Library tab driven as a user would: import a folder of real documents with the real default model, see the
documents and the file that failed, retry it, ask, open answers at their page, cancel and resume an import."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QMimeData, QPoint, Qt, QUrl
from PySide6.QtGui import QDesktopServices, QDropEvent
from PySide6.QtWidgets import QMessageBox

from bertdesk.core.library.indexer import IndexProgress
from bertdesk.core.library.retrieval_vectors import forget
from bertdesk.core.library.store import LibraryStore
from bertdesk.ui.tabs.library.session import import_summary
from tests.core.library.documents import write_pdf, write_text
from tests.core.library.test_library_read_only import read_only
from tests.ui.tabs.library.conftest import BRIDGE_FACT, FILLER, idle

BRIDGE_QUESTION = "When was the Lumen Bridge opened?"
IMPORT_TIMEOUT = 120_000


def imported(qtbot, tab, folder: Path) -> None:
    """Add `folder` and wait until the import and the listing after it are done."""
    qtbot.waitUntil(lambda: idle(tab), timeout=IMPORT_TIMEOUT)
    tab.add_paths([folder])
    qtbot.waitUntil(lambda: tab.session.snapshot is not None and tab.session.snapshot.stats.documents and idle(tab),
                    timeout=IMPORT_TIMEOUT)


def asked(qtbot, tab, question: str) -> None:
    """Type `question`, press Enter, wait for the answers (and the first one's page)."""
    tab.question_edit.setText(question)
    qtbot.keyClick(tab.question_edit, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: idle(tab) and bool(tab.shown_answers()), timeout=60_000)


def answered(qtbot, make_tab, folder: Path, question: str = BRIDGE_QUESTION, *,
             size: tuple[int, int] | None = None):
    """A new tab, shown (at `size`), that imported `folder` and answered `question`."""
    tab = make_tab()
    if size is not None:
        tab.resize(*size)
    tab.show()
    imported(qtbot, tab, folder)
    asked(qtbot, tab, question)
    return tab


def row_of(tree, title: str):
    """The item titled `title` in the documents tree (top level or under a folder)."""
    for index in range(tree.topLevelItemCount()):
        item = tree.topLevelItem(index)
        for candidate in (item, *(item.child(i) for i in range(item.childCount()))):
            if candidate.text(0) == title:
                return candidate
    raise AssertionError(f"{title!r} is not listed")


@pytest.mark.parametrize(("done", "failures", "pages", "passages", "said"), [
    (3, 3, 0, 0, "Nothing was imported: 3 files could not be imported (listed below)."),
    (1, 0, 1, 1, "Imported 1 file: 1 page, 1 passage."),
    (1201, 1, 5000, 12345, "Imported 1,200 files: 5,000 pages, 12,345 passages. 1 file could not be imported "
                           "(listed below)."),
])
def test_the_import_summary_counts_what_was_imported(done, failures, pages, passages, said) -> None:
    progress = IndexProgress(done, done, pages, passages, 0.0, 0.0, "", failures)
    assert import_summary(progress) == said


def test_importing_a_folder_lists_its_documents_and_the_file_that_failed(qtbot, make_tab, library_folder):
    tab = make_tab()
    imported(qtbot, tab, library_folder)
    assert sorted(tab.sources.document_titles()) == sorted(
        ["Botanic garden", "Field notes", "Museum history", "recipe", "River Atlas"]
    )
    assert tab.sources.tree.isVisibleTo(tab) and not tab.sources.empty_label.isVisibleTo(tab)
    atlas = row_of(tab.sources.tree, "River Atlas")
    assert (atlas.text(1), atlas.text(2)) == ("pdf", "4")
    assert atlas.text(4) == "scanned page: 3"
    folder = tab.sources.tree.topLevelItem(0)
    assert (folder.text(0), folder.text(1), folder.text(4)) == ("documents", "folder", "5 files, watched")
    assert folder.childCount() == 5
    assert tab.sources.log.isVisibleTo(tab) and tab.sources.retry_all_button.isVisibleTo(tab)
    assert [path.name for path in tab.sources.failed_paths()] == ["locked.pdf"]
    assert tab.sources.log.topLevelItem(0).text(1) == "encrypted PDF (needs a password)"
    assert "Imported 5 files: 8 pages" in tab.sources.progress_label.text()  # the failed one is not counted
    assert "1 file could not be imported" in tab.sources.progress_label.text()
    assert "5 documents" in tab.sources.stats_label.text()
    assert not tab.sources.cancel_button.isVisibleTo(tab)


def test_retry_imports_a_failed_file_once_it_is_fixed(qtbot, make_tab, library_folder):
    tab = make_tab()
    imported(qtbot, tab, library_folder)
    locked = library_folder / "locked.pdf"
    write_pdf(locked, ["The unlocked report says the harbour crane lifts forty tonnes."], title="Harbour report")
    tab.sources.log.topLevelItem(0).setSelected(True)
    assert tab.sources.retry_button.isEnabled()
    qtbot.mouseClick(tab.sources.retry_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: idle(tab) and "Harbour report" in tab.sources.document_titles(), timeout=IMPORT_TIMEOUT)
    assert tab.sources.log.topLevelItemCount() == 0
    assert not tab.sources.retry_all_button.isVisibleTo(tab)
    (library_folder / "broken.txt").write_bytes(b"\x00\x01\x02 binary \x00" * 50)
    tab.add_paths([library_folder / "broken.txt"])
    qtbot.waitUntil(lambda: idle(tab) and tab.sources.log.topLevelItemCount() == 1, timeout=IMPORT_TIMEOUT)
    (library_folder / "broken.txt").write_text("The broken note is mended: the well is forty feet deep.",
                                               encoding="utf-8")
    qtbot.mouseClick(tab.sources.retry_all_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: idle(tab) and "broken" in tab.sources.document_titles(), timeout=IMPORT_TIMEOUT)
    assert tab.sources.log.topLevelItemCount() == 0


def test_ask_answers_from_the_right_page_highlighted_in_text_and_on_the_pdf_page(qtbot, make_tab, library_folder):
    tab = answered(qtbot, make_tab, library_folder, size=(1400, 900))
    best = tab.shown_answers()[0]
    assert (best.title, best.page, best.kind) == ("River Atlas", 2, "pdf")
    assert "1887" in best.text
    assert "Passage retrieval, not span QA" in tab.banner.text()
    assert tab.answers.selected_row() == 0
    passage, answer = tab.passage_view.highlighted()
    assert answer == best.text and "1887" in answer
    assert " ".join(BRIDGE_FACT.split()[1:]) in " ".join(passage.split())
    assert "River Atlas" in tab.source_label.text() and "page 2" in tab.source_label.text()
    qtbot.waitUntil(tab.page_view.has_page, timeout=30_000)
    boxes = tab.page_view.boxes()
    assert boxes, "the answer is boxed on the rendered page"
    image = tab.page_view.image()
    assert image is not None and image.width() > 500
    x0, y0, x1, y1 = boxes[0]
    # The box is painted in the answer colour (a text page is otherwise white and black).
    center = image.pixelColor(int((x0 + x1) / 2), int((y0 + y1) / 2))
    assert center.red() > center.blue() + 40


def test_clicking_another_answer_opens_it_and_a_non_pdf_hides_the_page(qtbot, make_tab, library_folder):
    tab = answered(qtbot, make_tab, library_folder, "Who founded the museum?", size=(1400, 900))
    answers = tab.shown_answers()
    museum = next(i for i, a in enumerate(answers) if a.title == "Museum history")
    rect = tab.answers.visualItemRect(tab.answers.topLevelItem(museum))
    qtbot.mouseClick(tab.answers.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert tab.answers.selected_row() == museum
    assert "Museum history" in tab.source_label.text() and "museum.docx" in tab.source_label.text()
    assert not any(button.isVisible() for button in tab.zoom_buttons), "no page to zoom"
    assert not tab.page_view.isVisible()
    _, answer = tab.passage_view.highlighted()
    assert answer == answers[museum].text
    pdf = next(i for i, a in enumerate(answers) if a.kind == "pdf")
    tab.answers.select(pdf)
    assert tab.page_view.isVisible() and all(button.isVisible() for button in tab.zoom_buttons)
    qtbot.waitUntil(tab.page_view.has_page, timeout=30_000)


def test_score_details_show_the_make_up_on_request(qtbot, make_tab, library_folder):
    tab = answered(qtbot, make_tab, library_folder)
    assert not tab.make_up_label.isVisible()
    tab.make_up_button.click()
    assert tab.make_up_label.isVisible()
    text = tab.make_up_label.text()
    assert "Keyword search (BM25) rank: #1" in text and "Vector search (dense) rank: #" in text
    assert "Fused score" in text and "Reader: none (passage retrieval)" in text
    assert "BM25" in tab.answers.topLevelItem(0).toolTip(3)


def test_filter_limits_the_answers_to_one_document(qtbot, make_tab, library_folder):
    tab = make_tab()
    imported(qtbot, tab, library_folder)
    combo = tab.filter_combo
    index = combo.findText("document: Museum history")
    assert index > 0 and combo.findText("folder: documents") > 0
    combo.setCurrentIndex(index)
    combo.activated.emit(index)
    asked(qtbot, tab, BRIDGE_QUESTION)
    assert {a.title for a in tab.shown_answers()} == {"Museum history"}


def test_editing_the_question_marks_the_answers_out_of_date_until_asked(qtbot, make_tab, library_folder):
    tab = answered(qtbot, make_tab, library_folder)
    assert not tab.stale_label.isVisible()
    tab.question_edit.setText("Who founded the museum?")
    assert tab.stale_label.isVisible() and "press Enter" in tab.stale_label.text()
    assert not tab.is_busy(), "asking is explicit: typing does not search"
    qtbot.keyClick(tab.question_edit, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: idle(tab) and tab.is_current(), timeout=60_000)
    assert not tab.stale_label.isVisible()


def test_remove_asks_first_and_leaves_the_file_on_disk(qtbot, make_tab, library_folder, monkeypatch):
    tab = make_tab()
    imported(qtbot, tab, library_folder)
    questions = []

    def answer_with(button):
        def question(parent, title, text, *args):
            questions.append(text)
            return button
        return question

    row_of(tab.sources.tree, "recipe").setSelected(True)
    monkeypatch.setattr(QMessageBox, "question", answer_with(QMessageBox.StandardButton.No))
    qtbot.mouseClick(tab.sources.remove_button, Qt.MouseButton.LeftButton)
    assert "The file on your disk is not touched" in questions[0]
    qtbot.waitUntil(lambda: idle(tab), timeout=10_000)
    assert "recipe" in tab.sources.document_titles()
    monkeypatch.setattr(QMessageBox, "question", answer_with(QMessageBox.StandardButton.Yes))
    qtbot.mouseClick(tab.sources.remove_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: idle(tab) and "recipe" not in tab.sources.document_titles(), timeout=10_000)
    assert (library_folder / "recipe.txt").read_text(encoding="utf-8").startswith("Plum cake")
    assert "document: recipe" not in [tab.filter_combo.itemText(i) for i in range(tab.filter_combo.count())]


def many_files(folder: Path, count: int) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for number in range(count):
        write_text(folder / f"note-{number:03}.txt", f"Note {number}. " + " ".join([FILLER] * 6))
    return folder


def test_cancel_mid_import_stops_keeps_what_was_done_and_resume_finishes(qtbot, make_tab, tmp_path):
    folder = many_files(tmp_path / "notes", 40)
    tab = make_tab()
    tab.show()
    qtbot.waitUntil(lambda: idle(tab), timeout=IMPORT_TIMEOUT)
    tab.add_paths([folder])
    def files_done() -> int:
        progress = tab.session.import_status.progress
        return progress.files_done if progress is not None else 0

    qtbot.waitUntil(lambda: files_done() >= 2, timeout=60_000)
    qtbot.mouseClick(tab.sources.cancel_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: idle(tab), timeout=30_000)
    assert "Import cancelled" in tab.sources.progress_label.text()
    done = tab.session.snapshot.stats.documents
    assert 2 <= done < 40 and tab.session.snapshot.queued == 40 - done
    assert tab.sources.resume_button.isVisible() and "still to import" in tab.sources.resume_label.text()
    qtbot.mouseClick(tab.sources.resume_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: idle(tab) and tab.session.snapshot.stats.documents == 40, timeout=IMPORT_TIMEOUT)
    assert tab.session.snapshot.queued == 0 and not tab.sources.resume_button.isVisible()


def test_an_import_interrupted_last_time_resumes_at_start(qtbot, make_tab, tmp_path, library_folder):
    db = tmp_path / "library.sqlite3"
    with LibraryStore(db) as store:  # files queued, never indexed: as a quit in the middle of an import leaves them
        assert store.add_source(library_folder, watch=False) == 6
    said = []
    tab = make_tab(db_path=db)
    tab.status_message.connect(said.append)
    tab.show()
    qtbot.waitUntil(lambda: tab.session.index_runner.is_running(), timeout=30_000)
    assert said == ["Library: resuming the import interrupted last time (6 files left)."]
    qtbot.waitUntil(lambda: idle(tab) and tab.session.snapshot.stats.documents == 5, timeout=IMPORT_TIMEOUT)
    assert tab.session.snapshot.queued == 0
    assert "River Atlas" in tab.sources.document_titles()


def test_files_dropped_on_the_tab_are_imported(qtbot, make_tab, library_folder):
    tab = make_tab()
    qtbot.waitUntil(lambda: idle(tab), timeout=IMPORT_TIMEOUT)
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(library_folder / "recipe.txt")),
                  QUrl.fromLocalFile(str(library_folder / "notes.md"))])
    event = QDropEvent(QPoint(20, 20).toPointF(), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                       Qt.KeyboardModifier(0))
    tab.dropEvent(event)
    qtbot.waitUntil(lambda: idle(tab) and len(tab.sources.document_titles()) == 2, timeout=IMPORT_TIMEOUT)
    assert sorted(tab.sources.document_titles()) == ["Field notes", "recipe"]


def test_a_file_that_cannot_be_added_is_said_and_the_others_are_added(qtbot, make_tab, library_folder, tmp_path):
    picture = tmp_path / "photo.png"
    picture.write_bytes(b"\x89PNG\r\n\x1a\n")
    tab = make_tab()
    tab.show()
    qtbot.waitUntil(lambda: idle(tab), timeout=IMPORT_TIMEOUT)
    tab.add_paths([picture, library_folder / "recipe.txt"])
    qtbot.waitUntil(lambda: idle(tab) and tab.sources.document_titles() == ["recipe"], timeout=IMPORT_TIMEOUT)
    assert tab.message_label.isVisible() and "photo.png" in tab.message_label.text()


def test_user_text_is_shown_as_text_not_markup(qtbot, make_tab, tmp_path):
    folder = tmp_path / "odd"
    folder.mkdir()
    write_text(folder / "<b>bold & co.txt", "The <i>lighthouse</i> keeper & his dog lived on Skerry Rock.")
    tab = make_tab()
    tab.show()
    imported(qtbot, tab, folder)
    asked(qtbot, tab, "Where did the lighthouse keeper live?")
    assert "&lt;b&gt;bold &amp; co" in tab.source_label.text()
    assert tab.sources.document_titles() == ["<b>bold & co"]
    assert "<i>lighthouse</i>" in tab.passage_view.toPlainText()


def test_open_file_hands_the_document_to_the_system_viewer(qtbot, make_tab, library_folder, monkeypatch):
    opened = []
    monkeypatch.setattr(QDesktopServices, "openUrl", lambda url: opened.append(url.toLocalFile()) or True)
    tab = answered(qtbot, make_tab, library_folder)
    qtbot.mouseClick(tab.open_button, Qt.MouseButton.LeftButton)
    assert opened == [str(library_folder / "river-atlas.pdf")]


def test_asking_an_empty_library_says_to_add_documents(qtbot, make_tab):
    tab = make_tab()
    qtbot.waitUntil(lambda: idle(tab) and tab.session.snapshot is not None, timeout=IMPORT_TIMEOUT)
    assert tab.sources.empty_label.isVisibleTo(tab) and not tab.sources.tree.isVisibleTo(tab)
    assert "drop them here" in tab.sources.empty_label.text()
    tab.question_edit.setText(BRIDGE_QUESTION)
    tab.ask()
    assert "Add documents" in tab.answers_note.text()
    assert not tab.is_busy()


def test_a_library_file_that_is_not_a_library_is_reported_not_raised(qtbot, make_tab, tmp_path):
    db = tmp_path / "not-a-library.sqlite3"
    db.write_bytes(b"this is not an SQLite database at all" * 100)
    tab = make_tab(db_path=db)
    tab.show()
    qtbot.waitUntil(lambda: idle(tab) and tab.message_label.isVisible(), timeout=10_000)
    assert tab.message_label.text()
    assert db.read_bytes().startswith(b"this is not"), "the user's file is left as it was"


def test_a_read_only_library_is_listed_and_asked_and_says_it_cannot_be_changed(qtbot, make_tab, library_folder,
                                                                               tmp_path):
    db = tmp_path / "shelf" / "library.sqlite3"
    db.parent.mkdir()
    first = make_tab(db_path=db)
    imported(qtbot, first, library_folder)
    first.shutdown()
    forget(db)
    with read_only(db.parent):
        tab = make_tab(db_path=db)
        tab.show()
        qtbot.waitUntil(lambda: idle(tab) and tab.session.snapshot is not None, timeout=IMPORT_TIMEOUT)
        assert "River Atlas" in tab.sources.document_titles()
        asked(qtbot, tab, BRIDGE_QUESTION)
        assert tab.shown_answers()[0].page == 2
        tab.add_paths([library_folder / "recipe.txt"])
        said = tab.message_label.text
        qtbot.waitUntil(lambda: idle(tab) and said().startswith("the library") and "cannot be changed" in said(),
                        timeout=10_000)
        tab.shutdown()
        forget(db)
        assert sorted(p.name for p in db.parent.iterdir()) == ["library.sqlite3"]


@pytest.fixture(scope="module")
def squad_bundle(shared_dir, tmp_path_factory) -> Path:
    from bertdesk.core.conversion.convert import convert_checkpoint

    return convert_checkpoint(shared_dir / "fixtures" / "minilm-l6-squad", tmp_path_factory.mktemp("lib") / "squad")


def test_a_question_answering_window_model_reads_the_passages(qtbot, make_tab, library_folder, squad_bundle):
    from bertdesk.core.bundles.bundle import open_model

    tab = make_tab()
    tab.show()
    imported(qtbot, tab, library_folder)
    tab.set_bundle(open_model(squad_bundle))
    assert tab.reader_combo.currentData() == "window" and "window's model" in tab.reader_combo.currentText()
    asked(qtbot, tab, BRIDGE_QUESTION)
    best = tab.shown_answers()[0]
    assert (best.title, best.page) == ("River Atlas", 2)
    assert "1887" in best.text and len(best.text) < 40, "span QA points at the words, not the sentence"
    assert "Span QA" in tab.banner.text() and "not span QA" not in tab.banner.text()
    assert best.make_up["reader_score"] is not None
    tab.make_up_button.click()
    assert "Reader score (span QA)" in tab.make_up_label.text()
    index = tab.reader_combo.findData("none")
    tab.reader_combo.setCurrentIndex(index)
    tab.reader_combo.activated.emit(index)
    assert tab.stale_label.isVisible()
    asked(qtbot, tab, BRIDGE_QUESTION)
    qtbot.waitUntil(lambda: idle(tab) and tab.is_current(), timeout=60_000)
    assert "not span QA" in tab.banner.text()


def test_installed_question_answering_models_are_offered_as_readers(qtbot, make_tab, squad_bundle, tiny_bundle):
    from bertdesk.core.bundles.bundle import describe_bundle, open_model

    tab = make_tab()
    tab.set_bundle(open_model(tiny_bundle), [describe_bundle(tiny_bundle), describe_bundle(squad_bundle)])
    items = [tab.reader_combo.itemText(i) for i in range(tab.reader_combo.count())]
    assert items == [describe_bundle(squad_bundle).name, "none (retrieval only)"]
    assert tab.reader_combo.currentData() == str(squad_bundle)


def test_a_watched_folder_picks_up_new_and_deleted_files(qtbot, make_tab, library_folder):
    tab = make_tab()
    tab.show()
    imported(qtbot, tab, library_folder)
    assert tab.session.watcher is not None, "the folder was added with 'watch this folder' ticked"
    write_text(library_folder / "ferry.txt", "The ferry to Skerry Rock leaves at nine every Tuesday.")
    qtbot.waitUntil(lambda: "ferry" in tab.sources.document_titles() and idle(tab), timeout=30_000)
    (library_folder / "recipe.txt").unlink()
    qtbot.waitUntil(lambda: "recipe" not in tab.sources.document_titles() and idle(tab), timeout=30_000)
    asked(qtbot, tab, "When does the ferry to Skerry Rock leave?")
    assert tab.shown_answers()[0].title == "ferry"


def test_shutdown_stops_the_watcher_and_an_import_under_way(qtbot, make_tab, tmp_path):
    folder = many_files(tmp_path / "notes", 30)
    tab = make_tab()
    qtbot.waitUntil(lambda: idle(tab), timeout=IMPORT_TIMEOUT)
    tab.add_paths([folder])
    qtbot.waitUntil(lambda: tab.session.index_runner.is_running() and tab.session.watcher is not None, timeout=60_000)
    watcher = tab.session.watcher
    tab.shutdown()
    assert watcher._thread is None and tab.session.watcher is None
    assert not tab.is_busy()


def test_a_whole_text_is_declined_a_question_is_asked(qtbot, make_tab, library_folder):
    tab = make_tab()
    imported(qtbot, tab, library_folder)
    said = []
    tab.status_message.connect(said.append)
    assert not tab.set_input_text("A long letter. " * 100)
    assert tab.question_edit.text() == "" and "Add files" in said[-1]
    assert tab.set_input_text("Who founded\nthe museum?")
    assert tab.question_edit.text() == "Who founded the museum?"
    qtbot.waitUntil(lambda: idle(tab) and bool(tab.shown_answers()), timeout=60_000)


def test_a_pdf_gone_from_disk_says_its_page_cannot_be_shown(qtbot, make_tab, library_folder, tmp_path):
    tab = make_tab()
    tab.resize(1200, 800)
    tab.show()
    qtbot.waitUntil(lambda: idle(tab), timeout=IMPORT_TIMEOUT)
    tab.add_paths([library_folder], watch=False)
    qtbot.waitUntil(lambda: idle(tab) and "River Atlas" in tab.sources.document_titles(), timeout=IMPORT_TIMEOUT)
    (library_folder / "river-atlas.pdf").rename(tmp_path / "moved.pdf")
    asked(qtbot, tab, BRIDGE_QUESTION)
    qtbot.waitUntil(lambda: "cannot be shown" in tab.page_view.label.text(), timeout=30_000)
    assert not tab.page_view.has_page()
    _, answer = tab.passage_view.highlighted()
    assert "1887" in answer, "the text stored in the library still shows"


def test_a_reader_the_user_chose_survives_a_model_switch(qtbot, make_tab, squad_bundle, tiny_bundle):
    from bertdesk.core.bundles.bundle import describe_bundle, open_model

    tab = make_tab()
    infos = [describe_bundle(tiny_bundle), describe_bundle(squad_bundle)]
    tab.set_bundle(open_model(tiny_bundle), infos)
    index = tab.reader_combo.findData("none")
    tab.reader_combo.setCurrentIndex(index)
    tab.reader_combo.activated.emit(index)
    tab.set_bundle(open_model(squad_bundle), infos)
    assert tab.reader_combo.currentText() == "none (retrieval only)"
    assert [tab.reader_combo.itemData(i) for i in range(tab.reader_combo.count())] == ["window", "none"]


def test_an_embedding_model_that_cannot_be_opened_is_said_where_it_was_needed(qtbot, make_tab, tmp_path,
                                                                                library_folder):
    broken = tmp_path / "broken-model"
    broken.mkdir()
    (broken / "config.json").write_text("{}", encoding="utf-8")
    good = make_tab()
    imported(qtbot, good, library_folder)
    good.shutdown()
    tab = make_tab(embedder=broken)
    tab.show()
    qtbot.waitUntil(lambda: idle(tab), timeout=30_000)
    tab.question_edit.setText(BRIDGE_QUESTION)
    tab.ask()
    qtbot.waitUntil(lambda: idle(tab) and "not asked" in tab.answers_note.text(), timeout=30_000)
    (library_folder / "new.txt").write_text("A new note about the harbour crane.", encoding="utf-8")
    tab.add_paths([library_folder / "new.txt"])
    qtbot.waitUntil(lambda: idle(tab) and "could not be opened" in tab.sources.progress_label.text(), timeout=30_000)
    assert tab.message_label.isVisible()
    assert tab.session.snapshot.queued == 1, "the file waits for a working model"
