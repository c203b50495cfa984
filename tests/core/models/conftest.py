"""Fixtures of the model-manager tests: a models folder of the test's own, the Hub client online, small models."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.checkpoints import make_checkpoint, save_tokenizer


@pytest.fixture
def models_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty models folder for this test (BERTDESK_MODELS): the real one is never touched."""
    folder = tmp_path / "models"
    monkeypatch.setenv("BERTDESK_MODELS", str(folder))
    return folder


@pytest.fixture
def hub_online() -> Iterator[None]:
    """huggingface_hub's client allowed to connect (the test suite sets HF_HUB_OFFLINE): to 127.0.0.1 only, as the
    tests pass the local server's endpoint. Its per-thread sessions are rebuilt on the way in and out."""
    from huggingface_hub import constants
    from huggingface_hub.utils import reset_sessions

    before = constants.HF_HUB_OFFLINE
    constants.HF_HUB_OFFLINE = False
    reset_sessions()
    yield
    constants.HF_HUB_OFFLINE = before
    reset_sessions()


@pytest.fixture(scope="session")
def qa_checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny random-weight BERT question-answering checkpoint (safetensors, config, tokenizer)."""
    return make_checkpoint(tmp_path_factory.mktemp("hub-ck") / "tiny-qa", "bert", "qa")


@pytest.fixture(scope="session")
def onnx_export(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny BERT encoder exported by torch as public exports are: onnx/model.onnx beside config.json and
    tokenizer.json, no bertdesk.json."""
    from tests.onnx_exports import export, tiny_model

    model = tiny_model("bert")
    folder = tmp_path_factory.mktemp("export") / "tiny-export"
    (folder / "onnx").mkdir(parents=True)
    export(model, folder / "onnx" / "model.onnx", "legacy-14")
    model.config.architectures = ["BertModel"]
    model.config.save_pretrained(folder)
    save_tokenizer(folder, size=model.config.vocab_size)
    return folder


def copy_of(folder: Path, where: Path) -> Path:
    """A copy of `folder` at `where` (tests change copies, never the session fixtures)."""
    shutil.copytree(folder, where)
    return where
