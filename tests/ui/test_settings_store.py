"""The settings file: round trip, atomic writes, and a corrupt file set aside."""

from __future__ import annotations

import json
import os

import pytest

from bertdesk.ui.settings_store import SettingsStore


def test_missing_file_gives_empty_settings(tmp_path):
    assert SettingsStore(tmp_path / "settings.json").load() == ({}, None)


def test_default_location_is_the_data_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("BERTDESK_DATA", str(tmp_path / "data"))
    assert SettingsStore().path == tmp_path / "data" / "settings.json"


def test_round_trip(tmp_path):
    store = SettingsStore(tmp_path / "deeper" / "settings.json")
    store.save({"tab": "tokens", "tabs": {"tokens": {"text": "naïve café ☕"}}})
    data, problem = store.load()
    assert problem is None
    assert data["tabs"]["tokens"]["text"] == "naïve café ☕"
    assert data["version"] == 1


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temp_file(tmp_path, monkeypatch):
    store = SettingsStore(tmp_path / "settings" / "settings.json")
    store.save({"tab": "tokens"})

    def crash(*args, **kwargs):
        raise OSError(28, "No space left on device")

    with monkeypatch.context() as patch:
        patch.setattr(os, "replace", crash)
        with pytest.raises(OSError):
            store.save({"tab": "ask"})
    assert store.load()[0]["tab"] == "tokens"
    assert [p.name for p in store.path.parent.iterdir()] == ["settings.json"]


@pytest.mark.parametrize("content", ['{"tab": "tok', "[1, 2]", "\x00\x01", ""])
def test_a_corrupt_file_is_kept_aside(tmp_path, content):
    path = tmp_path / "settings.json"
    path.write_text(content, encoding="utf-8")
    data, problem = SettingsStore(path).load()
    assert data == {}
    assert problem is not None and "corrupt" in problem
    kept = list(tmp_path.glob("settings.json.corrupt-*"))
    assert len(kept) == 1 and kept[0].read_text(encoding="utf-8") == content
    assert kept[0].name in problem
    assert not path.exists()


@pytest.mark.parametrize("content", [b'{"tab": "caf\xe9"}', b"\xff\xfe{}", b"[" * 100_000])
def test_a_file_that_is_not_utf8_or_too_deep_is_kept_aside(tmp_path, content):
    path = tmp_path / "settings.json"
    path.write_bytes(content)
    data, problem = SettingsStore(path).load()
    assert data == {}
    assert problem is not None and "corrupt" in problem
    kept = list(tmp_path.glob("settings.json.corrupt-*"))
    assert len(kept) == 1 and kept[0].read_bytes() == content


def test_a_corrupt_file_that_cannot_be_moved_aside_still_gives_defaults(tmp_path, monkeypatch):
    path = tmp_path / "settings.json"
    path.write_text("{", encoding="utf-8")

    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(os, "replace", refuse)
    data, problem = SettingsStore(path).load()
    assert data == {}
    assert problem is not None and "could not be set aside (Permission denied)" in problem
    assert path.read_text(encoding="utf-8") == "{"


def test_save_writes_valid_json_every_time(tmp_path):
    store = SettingsStore(tmp_path / "settings.json")
    for i in range(20):
        store.save({"n": i})
        assert json.loads(store.path.read_text(encoding="utf-8"))["n"] == i
