"""The shipped catalogue of recommended models, and the refusal of a broken one."""

from __future__ import annotations

from pathlib import Path

import pytest

from bertdesk.core.errors import BertdeskError
from bertdesk.core.models import catalog_entries
from bertdesk.core.models.catalog import find_entry, read_catalog


def test_shipped_catalogue_covers_the_four_kinds_of_model() -> None:
    entries = catalog_entries()
    tasks = {e.task for e in entries}
    assert {"question-answering", "sequence-classification", "encoder"} <= tasks
    assert any("languages" in e.purpose for e in entries)  # a multilingual encoder
    assert any("embeddings" in e.purpose for e in entries)  # a small sentence-embedding model
    for entry in entries:
        assert entry.repo_id.count("/") == 1 and entry.revision and entry.licence and entry.size_mb > 0
        assert entry.purpose.endswith(".") and "config.json" in entry.files and "tokenizer.json" in entry.files
    assert find_entry(entries[0].repo_id.upper()) == entries[0]


def test_broken_catalogue_is_one_line(tmp_path: Path) -> None:
    path = tmp_path / "catalog.toml"
    path.write_text("[[model]]\nname = 'x'\n")
    with pytest.raises(BertdeskError, match="entry 1 lacks repo_id") as info:
        read_catalog(path)
    assert "\n" not in str(info.value)
    path.write_text("[[model\n")
    with pytest.raises(BertdeskError, match="is not valid TOML"):
        read_catalog(path)
