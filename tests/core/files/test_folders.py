"""Where bundles and user data live: a checkout's models/, else the user data folder; environment overrides."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from bertdesk.core.errors import StorageError
from bertdesk.core.files import folders as paths
from tests.conftest import ROOT


def test_environment_overrides_both(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BERTDESK_MODELS", str(tmp_path / "m"))
    monkeypatch.setenv("BERTDESK_DATA", str(tmp_path / "d"))
    assert paths.models_dir() == tmp_path / "m" and paths.data_dir() == tmp_path / "d"
    assert (tmp_path / "m").is_dir() and (tmp_path / "d").is_dir()


def test_a_checkout_keeps_bundles_in_its_models_folder(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BERTDESK_MODELS", raising=False)
    assert paths.models_dir() == ROOT / "models"


def test_installed_without_a_checkout_uses_the_user_data_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                                                ) -> None:
    monkeypatch.delenv("BERTDESK_MODELS", raising=False)
    monkeypatch.setattr(paths, "_CHECKOUT_ROOT", tmp_path / "site-packages")
    monkeypatch.setattr(paths.platformdirs, "user_data_dir", lambda *a, **k: str(tmp_path / "user-data"))
    assert paths.models_dir() == tmp_path / "user-data" / "models"


@pytest.mark.parametrize(("variable", "function"), [("BERTDESK_MODELS", paths.models_dir),
                                                    ("BERTDESK_DATA", paths.data_dir)])
def test_a_folder_that_is_a_file_or_cannot_be_created(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                      variable: str, function: Callable[[], Path]) -> None:
    (tmp_path / "file").write_text("mine")
    for value, message in ((tmp_path / "file", "is a file, not a folder"),
                           (tmp_path / "file" / "sub", "cannot be created: Not a directory"),
                           (tmp_path / ("x" * 300), "cannot be created: File name too long")):
        monkeypatch.setenv(variable, str(value))
        with pytest.raises(StorageError) as info:
            function()
        assert str(info.value).endswith(f"({variable}) {value} {message}") and "\n" not in str(info.value)
    assert (tmp_path / "file").read_text() == "mine"
