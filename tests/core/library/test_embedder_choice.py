"""The library's embedder: a new library indexes at int8 where the model has that graph, an existing one opens the
model and precision it recorded, and a precision the user gives wins; real bundles, real indexing."""

from __future__ import annotations

import shutil
from pathlib import Path
from types import SimpleNamespace

import pytest

from bertdesk.core.bundles.bundle import open_model
from bertdesk.core.conversion.quantize import quantize_bundle
from bertdesk.core.library.ask import ask_library
from bertdesk.core.library.embedder_choice import open_library_embedder
from bertdesk.core.library.indexer import index_queue
from bertdesk.core.library.retrieval_vectors import forget
from bertdesk.core.library.store import LibraryStore
from bertdesk.core.models.opening import open_model_or_default
from tests.core.library.test_retrieval import FACTS, fill_library, page_texts


@pytest.fixture(scope="module")
def tiny_int8_bundle(tiny_bundle: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny encoder with its int8 graph beside the fp32 one."""
    folder = shutil.copytree(tiny_bundle, tmp_path_factory.mktemp("int8") / "tiny-bert")
    quantize_bundle(folder)
    return folder


def _index_note(tmp_path: Path, db: Path, embedder_folder: Path, precision: str) -> None:
    note = tmp_path / "note.txt"
    note.write_text("The harbour opens at dawn.", encoding="utf-8")
    with LibraryStore(db) as store:
        store.add_source(note)
    list(index_queue(db, open_model(embedder_folder, precision=precision)))


def test_a_new_library_takes_the_int8_graph_where_the_model_has_one(tmp_path: Path, tiny_bundle: Path,
                                                                    tiny_int8_bundle: Path) -> None:
    new = tmp_path / "new.sqlite3"
    assert open_library_embedder(new, tiny_int8_bundle).info.precision == "int8"
    assert open_library_embedder(new, tiny_bundle).info.precision == "fp32"  # no int8 graph
    assert open_library_embedder(new, tiny_int8_bundle, "fp32").info.precision == "fp32"  # the user's choice
    assert not new.exists()  # choosing opens nothing of the library


def test_an_existing_library_keeps_its_recorded_precision(tmp_path: Path, tiny_int8_bundle: Path) -> None:
    db = tmp_path / "lib.sqlite3"
    _index_note(tmp_path, db, tiny_int8_bundle, "fp32")
    assert open_library_embedder(db).info.precision == "fp32"  # recorded, though the model has int8
    assert open_library_embedder(db, tiny_int8_bundle).info.precision == "fp32"
    assert open_library_embedder(db, precision="int8").info.precision == "int8"  # the user's choice wins
    forget(db)


def test_a_recorded_precision_the_model_no_longer_has_falls_back_to_its_own(tmp_path: Path, tiny_bundle: Path,
                                                                            tiny_int8_bundle: Path) -> None:
    folder = shutil.copytree(tiny_int8_bundle, tmp_path / "tiny-bert")
    db = tmp_path / "lib.sqlite3"
    _index_note(tmp_path, db, folder, "int8")
    shutil.rmtree(folder)
    shutil.copytree(tiny_bundle, folder)  # the same model without its int8 graph
    assert open_library_embedder(db).info.precision == "fp32"
    forget(db)


def test_a_library_indexed_with_a_bundle_given_by_folder_is_asked_with_that_folder(tmp_path: Path,
                                                                                  tiny_bundle: Path) -> None:
    db = tmp_path / "lib.sqlite3"
    _index_note(tmp_path, db, tiny_bundle, "fp32")
    assert Path(open_library_embedder(db).info.path) == tiny_bundle  # not a default model installed somewhere else
    forget(db)


def test_the_library_is_asked_with_the_embedder_it_was_indexed_with(tmp_path: Path) -> None:
    int8 = open_model_or_default(None, precision="int8")
    path = tmp_path / "int8.sqlite3"
    fill_library(path, int8, [(tmp_path / "a.txt", [page_texts(FACTS["harbour"], 0)])])
    assert open_library_embedder(path).info.precision == "int8"  # recorded by the indexer
    assert open_library_embedder(path, precision="fp32").info.precision == "fp32"  # the user's choice wins
    # the fp32 and int8 graphs of one model share a vector space: either finds the fact
    for model in (open_library_embedder(path), open_library_embedder(path, precision="fp32")):
        result = ask_library(SimpleNamespace(path=path), "containers a week", model, None, top_k=1)
        assert result.answers[0].text == FACTS["harbour"]
    forget(path)
