"""The library list on its own: folders and their documents, scanned-page notes, and a list made again (as it is
while indexing) that keeps what the user did to it."""

from __future__ import annotations

from pathlib import Path

from bertdesk.core.library.records import DocumentInfo, ImportFailure, SourceInfo
from bertdesk.ui.tabs.library.sources import SourcesPanel, progress_text, scanned_note


def document(ident: int, path: Path, title: str, blank: tuple[int, ...] = ()) -> DocumentInfo:
    return DocumentInfo(ident, path, title, "pdf", 5, 9, blank, 1000, 0.0)


def library(count: int) -> tuple[list[SourceInfo], list[DocumentInfo]]:
    folder = Path("/data/papers")
    sources = [SourceInfo(1, folder, True, True), SourceInfo(2, Path("/data/loose.pdf"), False, False)]
    documents = [document(i, folder / f"p{i}.pdf", f"Paper {i}") for i in range(1, 6)]
    documents += [document(100 + i, Path(f"/data/other/{i}.pdf"), f"Other {i}", (3, 7)) for i in range(count)]
    return sources, documents


def test_documents_sit_under_their_folder_with_totals_and_scanned_pages(qtbot):
    panel = SourcesPanel()
    qtbot.addWidget(panel)
    sources, documents = library(2)
    panel.set_library(sources, documents)
    folder = next(panel.tree.topLevelItem(i) for i in range(panel.tree.topLevelItemCount())
                  if panel.tree.topLevelItem(i).text(0) == "papers")
    assert folder.childCount() == 5 and folder.text(2) == "25" and folder.text(3) == "45"
    assert folder.text(4) == "5 files, watched"
    other = [panel.tree.topLevelItem(i) for i in range(panel.tree.topLevelItemCount())
             if panel.tree.topLevelItem(i).text(0) == "Other 0"][0]
    assert other.text(4) == "scanned pages: 3, 7" and "no text layer" in other.toolTip(4)
    assert scanned_note(tuple(range(1, 20))).endswith("8, …")


def test_listing_again_keeps_the_selection_the_scroll_and_a_collapsed_folder(qtbot):
    panel = SourcesPanel()
    qtbot.addWidget(panel)
    panel.resize(500, 300)
    panel.show()
    sources, documents = library(300)
    panel.set_library(sources, documents)
    folder = panel.tree.topLevelItem(0)
    assert folder.text(0) == "papers"
    folder.setExpanded(False)
    target = panel.tree.topLevelItem(150)
    target.setSelected(True)
    panel.tree.setCurrentItem(target)
    chosen = tuple(panel.selected())
    assert chosen[0] == "document"
    panel.tree.verticalScrollBar().setValue(120)
    panel.set_library(sources, documents + [document(999, Path("/data/other/new.pdf"), "Other new")])
    assert tuple(panel.selected()) == chosen
    assert panel.tree.verticalScrollBar().value() == 120
    assert not panel.tree.topLevelItem(0).isExpanded()


def test_the_import_log_lists_reasons_and_progress_reads_as_a_sentence(qtbot):
    panel = SourcesPanel()
    qtbot.addWidget(panel)
    panel.set_failures([ImportFailure(Path("/d/big.pdf"), "file too large (1.0 GB > 200 MB)", 0.0)])
    assert panel.log.topLevelItem(0).text(1) == "file too large (1.0 GB > 200 MB)"
    assert panel.failed_paths() == [Path("/d/big.pdf")]
    from bertdesk.core.library.indexer import IndexProgress

    line = progress_text(IndexProgress(3, 10, 40, 120, 31.5, 95.0, "a.pdf", 1))
    assert line == "3 of 10 files · 40 pages · 120 passages · 31.5 passages/s · about 2 min left · 1 failed"
