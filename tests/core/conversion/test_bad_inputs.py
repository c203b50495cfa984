"""Every kind of bad bundle and checkpoint gets a clear BundleError / CheckpointError, never a crash."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

from bertdesk.core.bundles.bundle import Bundle, inspect_bundle, list_bundles, resolve_bundle
from bertdesk.core.conversion.convert import convert_checkpoint
from bertdesk.core.errors import BundleError, CheckpointError, ReplaceExisting
from tests.checkpoints import make_checkpoint
from tests.core.bundles.bundle_edits import edit_config


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_checkpoint(tmp_path_factory.mktemp("ckpt") / "bert", "bert", "classification")


def _error(folder: Path) -> str:
    with pytest.raises(BundleError) as info:
        inspect_bundle(folder)
    return str(info.value)


def test_missing_folder(tmp_path: Path) -> None:
    assert "is not a folder" in _error(tmp_path / "nope")


@pytest.mark.parametrize("name", ["config.json", "tokenizer.json", "model.onnx"])
def test_missing_file(bundle_copy: Path, name: str) -> None:
    (bundle_copy / name).unlink()
    message = _error(bundle_copy)
    assert (name if name != "model.onnx" else "no ONNX graph") in message


def test_config_not_json(bundle_copy: Path) -> None:
    (bundle_copy / "config.json").write_text("{not json")
    assert "not valid JSON" in _error(bundle_copy)


def test_corrupt_tokenizer(bundle_copy: Path) -> None:
    (bundle_copy / "tokenizer.json").write_text('{"model": 42}')
    assert "not a readable tokenizer.json" in _error(bundle_copy)


@pytest.mark.parametrize("payload", [b"", b"garbage" * 100])
def test_corrupt_graph(bundle_copy: Path, payload: bytes) -> None:
    (bundle_copy / "model.onnx").write_bytes(payload)
    assert "not a readable ONNX graph" in _error(bundle_copy)


def test_truncated_graph(bundle_copy: Path) -> None:
    data = (bundle_copy / "model.onnx").read_bytes()
    (bundle_copy / "model.onnx").write_bytes(data[: len(data) // 2])
    assert "not a readable ONNX graph" in _error(bundle_copy)


def test_vocab_size_differs_from_embedding_rows(bundle_copy: Path) -> None:
    rows = json.loads((bundle_copy / "config.json").read_text())["vocab_size"]
    edit_config(bundle_copy, vocab_size=rows + 7)
    message = _error(bundle_copy)
    assert f"vocab_size {rows + 7}" in message and f"{rows} rows" in message


def test_tokenizer_larger_than_embedding(bundle_copy: Path, default_bundle_dir: Path) -> None:
    shutil.copy(default_bundle_dir / "tokenizer.json", bundle_copy / "tokenizer.json")
    assert "the tokenizer has 30522 tokens" in _error(bundle_copy)


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"model_type": "gpt2"}, "unknown architecture model_type='gpt2'"),
        ({"architectures": ["BertForMaskedLM"]}, "unknown architecture 'BertForMaskedLM'"),
        ({"position_embedding_type": "relative_key"}, "position_embedding_type 'relative_key' is not supported"),
        ({"hidden_size": 30}, "not divisible"),
    ],
)
def test_unknown_architecture(bundle_copy: Path, changes: dict, expected: str) -> None:
    edit_config(bundle_copy, **changes)
    assert expected in _error(bundle_copy)


def test_config_task_disagrees_with_graph(bundle_copy: Path) -> None:
    edit_config(bundle_copy, architectures=["BertForQuestionAnswering"])
    assert "expected start_logits, end_logits" in _error(bundle_copy)


def test_graph_input_it_cannot_feed(bundle_copy: Path) -> None:
    model = onnx.load(str(bundle_copy / "model.onnx"))
    model.graph.input.append(helper.make_tensor_value_info("pixel_values", TensorProto.FLOAT, [1, 3]))
    onnx.save(model, str(bundle_copy / "model.onnx"))
    assert "cannot feed: pixel_values" in _error(bundle_copy)


def _save_with_external_data(folder: Path, location: str) -> None:
    model = onnx.load(str(folder / "model.onnx"))
    onnx.save_model(model, str(folder / "model.onnx"), save_as_external_data=True, location="weights.bin",
                    size_threshold=1024)
    model = onnx.load(str(folder / "model.onnx"), load_external_data=False)
    for tensor in model.graph.initializer:
        for entry in tensor.external_data:
            if entry.key == "location":
                entry.value = location
    onnx.save(model, str(folder / "model.onnx"))


def test_external_data_outside_the_folder(bundle_copy: Path) -> None:
    _save_with_external_data(bundle_copy, "../weights.bin")
    assert "outside the bundle folder" in _error(bundle_copy)


def test_external_data_missing(bundle_copy: Path) -> None:
    _save_with_external_data(bundle_copy, "missing.bin")
    assert "external data file 'missing.bin'" in _error(bundle_copy)


def test_external_data_inside_the_folder_loads_and_runs(bundle_copy: Path) -> None:
    _save_with_external_data(bundle_copy, "weights.bin")
    assert Bundle(bundle_copy).run(np.array([[2, 10, 3]]))["last_hidden_state"].shape == (1, 3, 32)


def test_onnx_folder_layout_with_variants(bundle_copy: Path, tmp_path: Path) -> None:
    """The onnx/model*.onnx layout of public exports: fp32 first, a quantized variant by name."""
    from onnxruntime.quantization import quantize_dynamic

    (bundle_copy / "onnx").mkdir()
    (bundle_copy / "model.onnx").rename(bundle_copy / "onnx" / "model.onnx")
    quantize_dynamic(bundle_copy / "onnx" / "model.onnx", bundle_copy / "onnx" / "model_quantized.onnx")
    info = inspect_bundle(bundle_copy)[0]
    assert info.graph == "onnx/model.onnx"
    assert info.variants == ["onnx/model.onnx", "onnx/model_quantized.onnx"]
    ids = np.array([[2, 10, 11, 12, 3]])
    fp32 = Bundle(bundle_copy).run(ids)["last_hidden_state"]
    quantized = Bundle(bundle_copy, "quantized").run(ids)["last_hidden_state"]
    assert quantized.shape == fp32.shape and 0 < np.abs(quantized - fp32).max() < 0.5
    with pytest.raises(BundleError, match="no graph variant 'fp16'"):
        Bundle(bundle_copy, "fp16")


def test_run_rejects_inputs_the_model_cannot_take(tiny_bundle: Path) -> None:
    bundle = Bundle(tiny_bundle)
    with pytest.raises(BundleError, match="exceed this model's 64 positions"):
        bundle.run(np.ones((1, 65), np.int64))
    with pytest.raises(BundleError, match="token ids must lie in"):
        bundle.run(np.array([[2, 10_000, 3]]))
    with pytest.raises(BundleError, match="non-empty"):
        bundle.run(np.zeros((1, 0), np.int64))


def test_list_bundles_reports_broken_ones(tiny_bundle: Path, tmp_path: Path) -> None:
    shutil.copytree(tiny_bundle, tmp_path / "good")
    (tmp_path / "broken").mkdir()
    problems: list[str] = []
    infos = list_bundles(tmp_path, errors=problems)
    assert [i.name for i in infos] == ["good"]
    assert len(problems) == 1 and "broken has no config.json" in problems[0]
    with pytest.raises(BundleError, match=r"installed: broken, good"):
        resolve_bundle("absent", tmp_path)


# --- checkpoints -----------------------------------------------------------------------------------------------


def _copy_checkpoint(checkpoint: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(checkpoint, tmp_path / "src"))


def _convert_error(source: Path, tmp_path: Path) -> str:
    with pytest.raises(CheckpointError) as info:
        convert_checkpoint(source, tmp_path / "out")
    assert not (tmp_path / "out").exists(), "a failed conversion must leave nothing behind"
    return str(info.value)


def test_pickle_checkpoint_is_refused(checkpoint: Path, tmp_path: Path) -> None:
    source = _copy_checkpoint(checkpoint, tmp_path)
    (source / "model.safetensors").unlink()
    (source / "pytorch_model.bin").write_bytes(b"\x80\x04pickle")
    message = _convert_error(source, tmp_path)
    assert "pytorch_model.bin" in message and "pickle" in message and "safetensors" in message


def test_no_weights(checkpoint: Path, tmp_path: Path) -> None:
    source = _copy_checkpoint(checkpoint, tmp_path)
    (source / "model.safetensors").unlink()
    assert "has no model.safetensors" in _convert_error(source, tmp_path)


def test_truncated_safetensors(checkpoint: Path, tmp_path: Path) -> None:
    source = _copy_checkpoint(checkpoint, tmp_path)
    data = (source / "model.safetensors").read_bytes()
    (source / "model.safetensors").write_bytes(data[: len(data) // 2])
    assert "lies outside the file" in _convert_error(source, tmp_path)


def test_garbage_safetensors(checkpoint: Path, tmp_path: Path) -> None:
    source = _copy_checkpoint(checkpoint, tmp_path)
    (source / "model.safetensors").write_bytes(b"\xff" * 64)
    assert "not a readable safetensors file" in _convert_error(source, tmp_path)


def test_missing_and_misshapen_weights(checkpoint: Path, tmp_path: Path) -> None:
    from safetensors.numpy import save_file

    from bertdesk.core.conversion.checkpoint import read_safetensors

    source = _copy_checkpoint(checkpoint, tmp_path)
    tensors = read_safetensors(source / "model.safetensors")
    del tensors["bert.encoder.layer.1.output.dense.weight"]
    save_file(tensors, str(source / "model.safetensors"))
    assert "no weight 'bert.encoder.layer.1.output.dense.weight'" in _convert_error(source, tmp_path)
    tensors["bert.encoder.layer.1.output.dense.weight"] = np.zeros((5, 5), np.float32)
    save_file(tensors, str(source / "model.safetensors"))
    assert "has shape (5, 5), the config implies (32, 64)" in _convert_error(source, tmp_path)


def test_unknown_activation_and_model_type(checkpoint: Path, tmp_path: Path) -> None:
    source = _copy_checkpoint(checkpoint, tmp_path)
    edit_config(source, hidden_act="mish")
    assert "activation 'mish' is not supported" in _convert_error(source, tmp_path)
    edit_config(source, model_type="roberta")
    assert "unknown architecture model_type='roberta'" in _convert_error(source, tmp_path)


def test_missing_tokenizer(checkpoint: Path, tmp_path: Path) -> None:
    source = _copy_checkpoint(checkpoint, tmp_path)
    (source / "tokenizer.json").unlink()
    assert "has no tokenizer.json" in _convert_error(source, tmp_path)


def test_existing_output_needs_force(checkpoint: Path, tmp_path: Path) -> None:
    out = convert_checkpoint(checkpoint, tmp_path / "out")
    with pytest.raises(CheckpointError, match="already exists$") as refused:
        convert_checkpoint(checkpoint, out)
    assert refused.value.remedies == (ReplaceExisting(),)
    assert convert_checkpoint(checkpoint, out, force=True) == out
    assert [p.name for p in tmp_path.iterdir()] == ["out"], "no staging folder may be left behind"


def test_descriptions_and_open_bundles_follow_the_files(tiny_bundle: Path, tmp_path: Path) -> None:
    from bertdesk.core.bundles.bundle import MAX_OPEN_BUNDLES, describe_bundle, open_model

    folder = Path(shutil.copytree(tiny_bundle, tmp_path / "b"))
    assert describe_bundle(folder) is describe_bundle(folder)
    assert open_model(folder) is open_model(str(folder))
    first = open_model(folder)
    edit_config(folder, architectures=["BertModel"], id2label={"0": "changed"})
    assert describe_bundle(folder) is not None and open_model(folder) is not first, "a changed bundle is reloaded"
    others = [Path(shutil.copytree(tiny_bundle, tmp_path / f"o{i}")) for i in range(MAX_OPEN_BUNDLES)]
    kept = open_model(folder)
    for other in others:
        open_model(other)
    assert open_model(folder) is not kept, "only the last MAX_OPEN_BUNDLES bundles stay open"
