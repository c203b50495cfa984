"""Removing and renaming installed models: never the model in use, never anything outside the models folder."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bertdesk.core.errors import BertdeskError
from bertdesk.core.models import remove_model, rename_model


@pytest.fixture
def installed(models_home: Path) -> Path:
    """Two fake installed model folders (removal and renaming do not open them)."""
    for name in ("alpha", "beta"):
        (models_home / name).mkdir(parents=True)
        (models_home / name / "config.json").write_text("{}")
    return models_home


def test_remove_deletes_the_folder_and_refuses_the_model_in_use(installed: Path) -> None:
    with pytest.raises(BertdeskError, match="alpha is the model in use: switch to another model before you remove"):
        remove_model("alpha", in_use="alpha")
    with pytest.raises(BertdeskError, match="model in use"):
        remove_model("alpha", in_use=str(installed / "alpha"))  # the caller may pass the folder
    assert (installed / "alpha" / "config.json").is_file()
    remove_model("alpha", in_use="beta")
    assert sorted(p.name for p in installed.iterdir()) == ["beta"]


def test_remove_never_deletes_outside_the_models_folder(installed: Path, tmp_path: Path) -> None:
    outside = tmp_path / "mine"
    outside.mkdir()
    (outside / "keep.txt").write_text("mine")
    os.symlink(outside, installed / "linked")
    (installed / "beta" / "escape").symlink_to(outside)
    remove_model("linked", in_use=None)
    remove_model("beta", in_use=None)
    assert (outside / "keep.txt").read_text() == "mine"
    assert not os.path.lexists(installed / "linked") and not (installed / "beta").exists()
    for name in ("..", "../mine", ".downloads", str(outside), "alpha/../beta"):
        with pytest.raises(BertdeskError, match="the model name"):
            remove_model(name, in_use=None)
    assert outside.is_dir() and (installed / "alpha").is_dir()


def test_remove_of_a_model_that_is_not_installed_names_those_that_are(installed: Path) -> None:
    with pytest.raises(BertdeskError, match=r"no installed model named 'gamma' \(installed: alpha, beta\)"):
        remove_model("gamma", in_use=None)


def test_rename(installed: Path) -> None:
    assert rename_model("alpha", "gamma", in_use="beta") == installed / "gamma"
    assert (installed / "gamma" / "config.json").is_file() and not (installed / "alpha").exists()
    with pytest.raises(BertdeskError, match="a model named 'beta' is already installed"):
        rename_model("gamma", "beta", in_use=None)
    with pytest.raises(BertdeskError, match="beta is the model in use: switch to another model before you rename"):
        rename_model("beta", "delta", in_use="beta")
    with pytest.raises(BertdeskError, match="the model name"):
        rename_model("gamma", "../delta", in_use=None)
    assert sorted(p.name for p in installed.iterdir()) == ["beta", "gamma"]
