"""Where bundles and user data live: a checkout's models/, else the user data folder; environment overrides."""

from __future__ import annotations

from pathlib import Path

import pytest

from bertdesk.core import paths


def test_environment_overrides_both(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BERTDESK_MODELS", str(tmp_path / "m"))
    monkeypatch.setenv("BERTDESK_DATA", str(tmp_path / "d"))
    assert paths.models_dir() == tmp_path / "m" and paths.data_dir() == tmp_path / "d"
    assert (tmp_path / "m").is_dir() and (tmp_path / "d").is_dir()


def test_a_checkout_keeps_bundles_in_its_models_folder(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BERTDESK_MODELS", raising=False)
    assert paths.models_dir() == Path(__file__).resolve().parents[2] / "models"


def test_installed_without_a_checkout_uses_the_user_data_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                                                ) -> None:
    monkeypatch.delenv("BERTDESK_MODELS", raising=False)
    monkeypatch.setattr(paths, "_CHECKOUT_ROOT", tmp_path / "site-packages")
    monkeypatch.setattr(paths.platformdirs, "user_data_dir", lambda *a, **k: str(tmp_path / "user-data"))
    assert paths.models_dir() == tmp_path / "user-data" / "models"
