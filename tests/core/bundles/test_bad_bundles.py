"""Hostile bundle folders, configs that disagree with their graph, graphs that fail while running: each a clear
BundleError (one line and exit code 2 on the CLI), never a traceback, and never hiding the good bundles."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import helper, numpy_helper

from bertdesk.core.bundles.bundle import Bundle, inspect_bundle, list_bundles, open_model, resolve_bundle
from bertdesk.core.bundles.introspect import expose_internals
from bertdesk.core.conversion.convert import convert_checkpoint
from bertdesk.core.engine.embed import embed_texts, token_vectors
from bertdesk.core.errors import BundleError, IntrospectionError, JobCancelled
from bertdesk.core.jobs import JobHandle
from tests.checkpoints import make_checkpoint
from tests.cli.cli_child import run_cli
from tests.core.bundles.bundle_edits import edit_config


def _one_line_error(result: subprocess.CompletedProcess) -> str:
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr and result.stderr.count("\n") == 1, result.stderr
    return result.stderr


# --- 7: one bad folder never hides the good ones -----------------------------------------------------------------


def _hostile_models_folder(tiny_bundle: Path, root: Path) -> tuple[Path, dict[str, str]]:
    """A models folder with two good bundles and one broken folder per way a folder can break, with the words each
    broken folder's reason must contain."""
    models = root / "models"
    models.mkdir()
    for name in ("a-good", "z-good"):
        shutil.copytree(tiny_bundle, models / name)

    def broken(name: str) -> Path:
        return Path(shutil.copytree(tiny_bundle, models / name))

    (models / "empty").mkdir()
    broken("nested").joinpath("config.json").write_text('{"x": ' + "[" * 100_000 + "]" * 100_000 + "}")
    broken("latin1").joinpath("config.json").write_bytes('{"model_type": "bért"}'.encode("latin-1"))
    broken("list-config").joinpath("config.json").write_text("[5]")
    edit_config(broken("arch"), architectures=[5])
    edit_config(broken("labels"), architectures=["BertForSequenceClassification"], id2label=["a", "b"])
    edit_config(broken("infinite"), num_hidden_layers=float("inf"))
    loop = broken("loop") / "config.json"
    loop.unlink()
    loop.symlink_to(loop)
    folder_config = broken("config-folder") / "config.json"
    folder_config.unlink()
    folder_config.mkdir()
    broken("garbage-graph").joinpath("model.onnx").write_bytes(b"\x08\x07\x12\xff\xff\xff" * 50)
    broken("bad-tokenizer").joinpath("tokenizer.json").write_text('{"model": 42}')
    broken("normalize").joinpath("bertdesk.json").write_text('{"pooling": "mean", "normalize": "false"}')
    (models / "not-a-folder.txt").write_text("ignored")
    expected = {
        "empty": "has no config.json",
        "nested": "nested too deeply",
        "latin1": "not UTF-8",
        "list-config": "does not hold a JSON object",
        "arch": "architectures must list class names",
        "labels": "id2label must be an object",
        "infinite": "num_hidden_layers must be a whole number, not Infinity",
        "loop": "cannot read",
        "config-folder": "is a folder, not a file",
        "garbage-graph": "not a readable ONNX graph",
        "bad-tokenizer": "not a readable tokenizer.json",
        "normalize": "normalize must be true or false",
    }
    return models, expected


def test_list_bundles_lists_good_ones_and_every_broken_one_with_its_reason(tiny_bundle: Path, tmp_path: Path):
    models, expected = _hostile_models_folder(tiny_bundle, tmp_path)
    problems: list[str] = []
    assert [info.name for info in list_bundles(models, errors=problems)] == ["a-good", "z-good"]
    assert len(problems) == len(expected), problems
    for name, words in expected.items():
        reason = next((p for p in problems if f"/{name}" in p), None)
        assert reason is not None and words in reason and "\n" not in reason, (name, reason)
    assert open_model(models / "z-good").run(np.array([[2, 10, 3]]))["last_hidden_state"].shape == (1, 3, 32)


def test_models_command_lists_good_and_broken_bundles(tiny_bundle: Path, tmp_path: Path) -> None:
    models, expected = _hostile_models_folder(tiny_bundle, tmp_path)
    result = run_cli("models", "--json", models=models)
    assert result.returncode == 0 and "Traceback" not in result.stderr, result.stderr
    data = json.loads(result.stdout)
    assert [m["name"] for m in data["models"]] == ["a-good", "z-good"]
    assert len(data["problems"]) == len(expected)
    _one_line_error(run_cli("embed", "hello", "--model", str(models / "infinite"), models=models))


# --- 8: the config must agree with the graph ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"num_hidden_layers": 12}, "config.json says num_hidden_layers 12, but the graph has 2 layers"),
        ({"num_hidden_layers": 1}, "config.json says num_hidden_layers 1, but the graph has 2 layers"),
        ({"hidden_size": 64}, "config.json says hidden_size 64, but the graph's word embedding is 32 wide"),
        ({"num_attention_heads": 8}, "config.json says num_attention_heads 8, but the graph splits attention into 4"),
        ({"max_position_embeddings": 1_000_000}, "says max_position_embeddings 1000000, but the graph's position "
                                                 "embedding has 64 rows"),
        ({"max_position_embeddings": 3}, "says max_position_embeddings 3, but the graph's position embedding has 64"),
    ],
)
def test_config_that_disagrees_with_the_graph(bundle_copy: Path, changes: dict, expected: str) -> None:
    edit_config(bundle_copy, **changes)
    with pytest.raises(BundleError) as info:
        inspect_bundle(bundle_copy)
    assert expected in str(info.value)


def test_layer_count_mismatch_on_the_command_line(bundle_copy: Path) -> None:
    """12 layers claimed on a 2-layer graph ended in an IndexError at --layer 8; now the load says why."""
    edit_config(bundle_copy, num_hidden_layers=12)
    message = _one_line_error(run_cli("embed", "hello", "--model", str(bundle_copy), "--layer", "8", "--json"))
    assert "num_hidden_layers 12, but the graph has 2 layers" in message


def test_layer_out_of_range_names_the_valid_range(tiny_bundle: Path) -> None:
    message = _one_line_error(run_cli("embed", "hello", "--model", str(tiny_bundle), "--layer", "3", "--json"))
    assert "layer 3 does not exist: this model has layers 0 (embeddings) to 2" in message


def test_exported_graph_layer_count_is_checked(tmp_path: Path) -> None:
    pytest.importorskip("torch")
    from tests.checkpoints import save_tokenizer
    from tests.onnx_exports import export, tiny_model

    model = tiny_model("bert")
    folder = tmp_path / "exported"
    (folder / "onnx").mkdir(parents=True)
    export(model, folder / "onnx" / "model.onnx", "legacy-14")
    model.config.architectures = ["BertModel"]
    model.config.num_hidden_layers = 3
    model.config.save_pretrained(folder)
    save_tokenizer(folder, size=model.config.vocab_size)
    with pytest.raises(BundleError, match="num_hidden_layers 3, but the graph has 2 layers"):
        inspect_bundle(folder)


# --- 9: onnxruntime failures while running ------------------------------------------------------------------------


def _break_merge_shape(folder: Path) -> None:
    """A graph that loads but fails at run time: its heads are merged into a shape of 3 rows, which only a 3-token
    input can take (onnxruntime cannot know the sequence length when it loads the graph)."""
    model = onnx.load(str(folder / "model.onnx"))
    for tensor in model.graph.initializer:
        if tensor.name == "merge_heads_shape":
            tensor.CopyFrom(numpy_helper.from_array(np.array([0, 3, -1], np.int64), tensor.name))
    onnx.save(model, str(folder / "model.onnx"))


def test_graph_that_fails_while_running(bundle_copy: Path) -> None:
    _break_merge_shape(bundle_copy)
    bundle = Bundle(bundle_copy)
    assert bundle.run(np.array([[2, 10, 3]]))["last_hidden_state"].shape == (1, 3, 32)
    for handle in (None, JobHandle()):
        with pytest.raises(BundleError) as info:
            bundle.run(np.array([[2, 10, 11, 3]]), handle=handle)
        message = str(info.value)
        assert message.startswith("bundle: the model failed while running: ") and "Reshape" in message
        assert "\n" not in message and "[ONNXRuntimeError]" not in message
    with pytest.raises(BundleError, match="failed while running"):
        embed_texts(bundle, ["hello world"], layer=1)
    message = _one_line_error(run_cli("embed", "hello world", "--model", str(bundle_copy)))
    assert "the model failed while running" in message


def test_a_cancelled_run_stays_cancelled(bundle_copy: Path) -> None:
    _break_merge_shape(bundle_copy)
    handle = JobHandle()
    handle.cancel()
    with pytest.raises(JobCancelled):
        Bundle(bundle_copy).run(np.array([[2, 10, 11, 3]]), handle=handle)


def test_graph_replaced_before_its_internals_are_exposed(tiny_checkpoint: Path, tmp_path: Path) -> None:
    folder = convert_checkpoint(tiny_checkpoint, tmp_path / "plain")
    bundle = Bundle(folder)
    (folder / "model.onnx").write_bytes(b"\xff" * 100)
    with pytest.raises(BundleError, match="cannot be read again to show its internals"):
        bundle.run(np.array([[2, 10, 3]]), internals=True)


# --- 10: a bundle converted without --attentions looks inside itself --------------------------------------------


@pytest.fixture(scope="module")
def tiny_checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_checkpoint(tmp_path_factory.mktemp("ckpt") / "bert", "bert", "encoder")


def test_plain_conversion_exposes_every_layer(tiny_checkpoint: Path, tmp_path: Path) -> None:
    plain = Bundle(convert_checkpoint(tiny_checkpoint, tmp_path / "plain"))
    full = Bundle(convert_checkpoint(tiny_checkpoint, tmp_path / "full", internals=True))
    assert not plain.info.has_internals and full.info.has_internals
    text = "the cat sat on the mat by the river bank"
    for layer in range(plain.info.num_layers + 1):
        pieces, vectors = token_vectors(plain, text, layer=layer)
        assert pieces == token_vectors(full, text, layer=layer)[0]
        np.testing.assert_allclose(vectors, token_vectors(full, text, layer=layer)[1], atol=1e-5, rtol=0)
        np.testing.assert_allclose(embed_texts(plain, [text, "hello"], layer=layer),
                                   embed_texts(full, [text, "hello"], layer=layer), atol=1e-5, rtol=0)
    ids = np.array([[2, 10, 11, 12, 3]])
    attentions = [bundle.run(ids, internals=True)["attentions"] for bundle in (plain, full)]
    assert attentions[0].shape == (2, 1, 4, 5, 5)
    np.testing.assert_allclose(*attentions, atol=1e-5, rtol=0)


def test_plain_conversion_on_the_command_line(tiny_checkpoint: Path, tmp_path: Path) -> None:
    folder = convert_checkpoint(tiny_checkpoint, tmp_path / "plain")
    result = run_cli("embed", "hello world", "--model", str(folder), "--layer", "1", "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)


def test_foreign_tensors_with_our_names_get_the_right_message(tiny_checkpoint: Path, tmp_path: Path) -> None:
    folder = convert_checkpoint(tiny_checkpoint, tmp_path / "plain")
    model = onnx.load(str(folder / "model.onnx"))
    softmax = next(node for node in model.graph.node if node.output[0] == "attentions.0")
    softmax.output[0] = "probabilities_0"
    for node in model.graph.node:
        node.input[:] = ["probabilities_0" if name == "attentions.0" else name for name in node.input]
    model.graph.node.append(helper.make_node("Identity", ["probabilities_0"], ["attentions.0"]))
    with pytest.raises(IntrospectionError, match="already has tensors named attentions.0, made by other ops"):
        expose_internals(model, 2)


# --- model names that are no usable path --------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["a\0b", "x" * 300, "~no-such-user-bertdesk/model"])
def test_model_names_that_are_no_usable_path(tmp_path: Path, name: str) -> None:
    with pytest.raises(BundleError) as info:
        resolve_bundle(name, tmp_path)
    assert "\n" not in str(info.value) and len(str(info.value)) < 400


def test_model_name_too_long_on_the_command_line(tmp_path: Path) -> None:
    message = _one_line_error(run_cli("embed", "hello", "--model", "x" * 300, models=tmp_path))
    assert "cannot open the model" in message


def test_external_data_name_with_a_nul(bundle_copy: Path) -> None:
    model = onnx.load(str(bundle_copy / "model.onnx"))
    onnx.save_model(model, str(bundle_copy / "model.onnx"), save_as_external_data=True, location="weights.bin",
                    size_threshold=1024)
    model = onnx.load(str(bundle_copy / "model.onnx"), load_external_data=False)
    for tensor in model.graph.initializer:
        for entry in tensor.external_data:
            if entry.key == "location":
                entry.value = "weights\0.bin"
    onnx.save(model, str(bundle_copy / "model.onnx"))
    with pytest.raises(BundleError, match="names its external data file with a NUL"):
        inspect_bundle(bundle_copy)
