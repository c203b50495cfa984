"""`convert` refuses checkpoints it cannot use with a clear CheckpointError, and writes nothing for them: non-float
or non-finite weights, a layer count the weights do not have, a model that does not run."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from bertdesk.core.conversion.convert import convert_checkpoint
from bertdesk.core.errors import CheckpointError
from tests.checkpoints import make_checkpoint
from tests.core.bundles.bundle_edits import edit_config

safetensors_numpy = pytest.importorskip("safetensors.numpy")


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_checkpoint(tmp_path_factory.mktemp("template") / "ckpt", "bert", "encoder")


@pytest.fixture
def checkpoint(tmp_path: Path, template: Path) -> Path:
    return Path(shutil.copytree(template, tmp_path / "ckpt"))


def _edit_weights(folder: Path, edit) -> None:
    path = folder / "model.safetensors"
    tensors = safetensors_numpy.load_file(str(path))
    edit(tensors)
    safetensors_numpy.save_file(tensors, str(path))


def _query(tensors: dict[str, np.ndarray]) -> str:
    return next(name for name in sorted(tensors) if name.endswith("attention.self.query.weight"))


def _refused(checkpoint: Path, out: Path, match: str) -> None:
    with pytest.raises(CheckpointError, match=match):
        convert_checkpoint(checkpoint, out)
    assert not out.exists()
    assert [p.name for p in out.parent.iterdir() if p.name.startswith(".")] == [], "no helper folder is left"


@pytest.mark.parametrize("dtype", ["int32", "int64", "uint8"])
def test_non_float_weights_are_refused(checkpoint: Path, tmp_path: Path, dtype: str) -> None:
    """Integer weights once made a bundle onnxruntime cannot load, reported as a success."""

    def to_integers(tensors: dict[str, np.ndarray]) -> None:
        name = _query(tensors)
        tensors[name] = (tensors[name] * 100).astype(dtype)

    _edit_weights(checkpoint, to_integers)
    _refused(checkpoint, tmp_path / "out", rf"{dtype}|U8")


def test_integer_embeddings_are_refused_by_name(checkpoint: Path, tmp_path: Path) -> None:
    def to_integers(tensors: dict[str, np.ndarray]) -> None:
        name = next(n for n in tensors if n.endswith("word_embeddings.weight"))
        tensors[name] = tensors[name].astype(np.int32)

    _edit_weights(checkpoint, to_integers)
    _refused(checkpoint, tmp_path / "out", "word_embeddings.weight.* holds int32 values")


@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf])
def test_non_finite_weights_are_refused(checkpoint: Path, tmp_path: Path, value: float) -> None:
    """NaN weights once made a bundle whose `embed --json` printed bare NaN (invalid JSON)."""

    def spoil(tensors: dict[str, np.ndarray]) -> None:
        tensors[_query(tensors)][3, 5] = value

    _edit_weights(checkpoint, spoil)
    _refused(checkpoint, tmp_path / "out", "NaN or infinite")


@pytest.mark.parametrize("layers", [0, -1, 1, 3])
def test_a_layer_count_the_weights_do_not_have_is_refused(checkpoint: Path, tmp_path: Path, layers: int) -> None:
    """The weights hold 2 layers: 1 silently dropped the second, 0 and -1 made a model of embeddings only."""
    edit_config(checkpoint, num_hidden_layers=layers)
    _refused(checkpoint, tmp_path / "out", "layers")


def test_a_model_that_does_not_run_cleanly_is_never_reported_as_converted(checkpoint: Path, tmp_path: Path) -> None:
    """Finite weights so large that every output overflows: the test inference catches it before the bundle is
    moved into place."""

    def inflate(tensors: dict[str, np.ndarray]) -> None:
        name = next(n for n in tensors if n.endswith("word_embeddings.weight"))
        tensors[name] = np.full_like(tensors[name], 3e38) * np.sign(np.random.default_rng(0).normal(
            size=tensors[name].shape)).astype(np.float32)

    _edit_weights(checkpoint, inflate)
    _refused(checkpoint, tmp_path / "out", "NaN or infinite values on a test input")


def test_a_failed_conversion_keeps_the_bundle_it_would_have_replaced(checkpoint: Path, tmp_path: Path) -> None:
    bundle = convert_checkpoint(checkpoint, tmp_path / "bundle")
    before = {p.name: p.read_bytes() for p in bundle.iterdir()}
    edit_config(checkpoint, num_hidden_layers=1)
    with pytest.raises(CheckpointError):
        convert_checkpoint(checkpoint, bundle, force=True)
    assert {p.name: p.read_bytes() for p in bundle.iterdir()} == before


@pytest.mark.parametrize(
    ("pooling", "modules"),
    [
        ([], None),
        ({"pooling_mode_cls_token": "false", "pooling_mode_mean_tokens": True}, None),
        ({"pooling_mode_max_tokens": True}, None),
        (None, [{"type": 5}]),
        (None, {"type": "Normalize"}),
    ],
)
def test_bad_sentence_transformers_pooling_settings_are_refused(
    checkpoint: Path, tmp_path: Path, pooling: object, modules: object
) -> None:
    if pooling is not None:
        (checkpoint / "1_Pooling").mkdir()
        (checkpoint / "1_Pooling" / "config.json").write_text(json.dumps(pooling), encoding="utf-8")
    if modules is not None:
        (checkpoint / "modules.json").write_text(json.dumps(modules), encoding="utf-8")
    with pytest.raises(CheckpointError):
        convert_checkpoint(checkpoint, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_sentence_transformers_pooling_is_recorded(checkpoint: Path, tmp_path: Path) -> None:
    (checkpoint / "1_Pooling").mkdir()
    (checkpoint / "1_Pooling" / "config.json").write_text(json.dumps({"pooling_mode_cls_token": True}))
    (checkpoint / "modules.json").write_text(json.dumps([{"type": "sentence_transformers.models.Normalize"}]))
    out = convert_checkpoint(checkpoint, tmp_path / "out")
    metadata = json.loads((out / "bertdesk.json").read_text())
    assert (metadata["pooling"], metadata["normalize"], metadata["pooling_source"]) == ("cls", True,
                                                                                      "sentence-transformers")
