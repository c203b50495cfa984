"""Library tab fixtures: a folder of real documents with facts planted on known pages, and tabs over a library
database in tmp_path indexed with the real default model."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.core.library.documents import (
    write_docx,
    write_encrypted_pdf,
    write_html,
    write_markdown,
    write_pdf,
    write_text,
)

FILLER = (
    "The archive keeps letters, maps and ledgers from the old harbour town. Visitors read them in the north hall, "
    "where the light is good in the morning. The staff answer questions about opening hours and copies."
)
#: Page 2 of the PDF holds this fact; the questions in the tests ask for it.
BRIDGE_FACT = "The Lumen Bridge over the Arvel river was opened in 1887 by the engineer Clara Voss."


def write_library_folder(folder: Path) -> Path:
    """A PDF of three pages (the bridge fact on page 2, page 3 scanned), a DOCX, an HTML page, a Markdown note, a
    text file, and one file that cannot be imported (an encrypted PDF)."""
    folder.mkdir(parents=True, exist_ok=True)
    write_pdf(
        folder / "river-atlas.pdf",
        [
            "River Atlas. " + FILLER,
            FILLER + " " + BRIDGE_FACT + " It is made of grey granite and has seven arches.",
            "",
            "Index of places. " + FILLER,
        ],
        title="River Atlas",
        scanned_pages=[3],
    )
    write_docx(folder / "museum.docx", ["The museum's founder was Otto Brandt, a clockmaker from Lindau.", FILLER],
               heading="Museum history")
    write_html(folder / "garden.html", "Botanic garden", ["The glasshouse holds nine hundred species of fern.", FILLER])
    write_markdown(folder / "notes.md", "Field notes", ["The tide tables were printed by Ferris and Sons.", FILLER])
    write_text(folder / "recipe.txt", "Plum cake needs four eggs and a cup of sugar. " + FILLER)
    write_encrypted_pdf(folder / "locked.pdf", "A secret nobody can read without the password.")
    return folder


@pytest.fixture
def library_folder(tmp_path: Path) -> Path:
    """The documents folder (see write_library_folder)."""
    return write_library_folder(tmp_path / "documents")


@pytest.fixture
def make_tab(qtbot, tmp_path: Path, default_bundle_dir: Path) -> Iterator[Callable[..., object]]:
    """Library tabs over tmp_path/library.sqlite3 with the default model as embedder; shut down at teardown."""
    from bertdesk.ui.tabs.library import Tab

    tabs = []

    def make(**kwargs: object) -> Tab:
        kwargs.setdefault("db_path", tmp_path / "library.sqlite3")
        kwargs.setdefault("embedder", default_bundle_dir)
        tab = Tab(**kwargs)
        qtbot.addWidget(tab)
        tabs.append(tab)
        return tab

    yield make
    for tab in tabs:
        tab.shutdown()


def idle(tab: object) -> bool:
    """Nothing scheduled or under way in the tab."""
    return not tab.is_busy()  # type: ignore[attr-defined]
