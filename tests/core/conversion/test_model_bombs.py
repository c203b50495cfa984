"""Model folders built to exhaust memory or hang: zero-filled and sparse graphs, config.json as a pipe or as
/dev/zero, safetensors files with gigabytes the header does not describe, files linked out of their folder.

The command line runs in a child process under a memory cap and a timeout, so a regression fails the test instead
of taking the machine down or hanging the suite.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import onnx
import pytest

from bertdesk.core.bundles.bundle import inspect_bundle
from bertdesk.core.conversion.convert import convert_checkpoint
from bertdesk.core.errors import BertdeskError, BundleError, CheckpointError
from bertdesk.core.models import import_folder
from tests.checkpoints import make_checkpoint
from tests.cli.cli_child import ROOT
from tests.core.bundles.bundle_edits import edit_config

#: The child's address space: the normal path (onnxruntime maps a lot of it) runs in well under this.
MEMORY_CAP = 3 * 1024**3
TIMEOUT = 60


def _capped() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_CAP, MEMORY_CAP))


def run_capped(*args: str, models: Path) -> subprocess.CompletedProcess:
    """`python -m bertdesk args` with the models folder `models`, under MEMORY_CAP; fails the test on a hang."""
    env = {**os.environ, "BERTDESK_DATA": str(Path(tempfile.gettempdir()) / "bertdesk-test-data"),
           "BERTDESK_MODELS": str(models)}
    try:
        return subprocess.run([sys.executable, "-m", "bertdesk", *args], capture_output=True, text=True, env=env,
                              cwd=ROOT, timeout=TIMEOUT, preexec_fn=_capped)
    except subprocess.TimeoutExpired:
        pytest.fail(f"bertdesk {' '.join(args)} still ran after {TIMEOUT} s")


def _one_line_error(result: subprocess.CompletedProcess) -> str:
    assert result.returncode == 2, (result.returncode, result.stderr[-2000:])
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr[-2000:]
    return lines[0]


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_checkpoint(tmp_path_factory.mktemp("bombs") / "checkpoint", "bert", "encoder")


def _graph_bombs(tiny_bundle: Path, models: Path) -> None:
    """A good bundle and two whose model.onnx is zeros: 90 MB written, 10 GB sparse."""
    shutil.copytree(tiny_bundle, models / "good")
    for name, size in (("zero", 90_000_000), ("sparse", 10 * 1024**3)):
        folder = Path(shutil.copytree(tiny_bundle, models / name))
        graph = folder / "model.onnx"
        graph.unlink()
        if name == "zero":
            graph.write_bytes(bytes(size))
        else:
            graph.touch()
            os.truncate(graph, size)


def test_zero_filled_graphs_are_one_problem_each_and_the_rest_are_listed(tiny_bundle: Path, tmp_path: Path) -> None:
    models = tmp_path / "models"
    models.mkdir()
    _graph_bombs(tiny_bundle, models)
    result = run_capped("models", "--json", models=models)
    assert result.returncode == 0, result.stderr[-2000:]
    data = json.loads(result.stdout)
    assert [m["name"] for m in data["models"]] == ["good"]
    problems = sorted(data["problems"])
    assert len(problems) == 2, problems
    assert "sparse/model.onnx is not a readable ONNX graph" in problems[0] and "at most 2 GB" in problems[0]
    assert "zero/model.onnx is not a readable ONNX graph" in problems[1] and "00 00 00" in problems[1]
    for name in ("zero", "sparse"):
        line = _one_line_error(run_capped("embed", "--model", str(models / name), "hello", models=models))
        assert "not a readable ONNX graph" in line


def test_a_graph_of_millions_of_tiny_fields_is_refused_before_it_is_parsed(bundle_copy: Path) -> None:
    (bundle_copy / "model.onnx").write_bytes(b"\x08\x00" * 1_500_000)  # ir_version = 0, a million and a half times
    with pytest.raises(BundleError, match="more than 1,000,000 fields"):
        inspect_bundle(bundle_copy)


def _fifo_config(folder: Path) -> None:
    (folder / "config.json").unlink()
    os.mkfifo(folder / "config.json")


def _dev_zero_config(folder: Path) -> None:
    (folder / "config.json").unlink()
    (folder / "config.json").symlink_to("/dev/zero")


@pytest.mark.parametrize("make", [_fifo_config, _dev_zero_config], ids=["fifo", "dev-zero"])
def test_config_that_is_no_regular_file_is_refused_unread(make, tiny_bundle: Path, checkpoint: Path,
                                                          tmp_path: Path) -> None:
    models = tmp_path / "models"
    models.mkdir()
    shutil.copytree(tiny_bundle, models / "good")
    make(Path(shutil.copytree(tiny_bundle, models / "bad")))
    source = Path(shutil.copytree(checkpoint, tmp_path / "checkpoint"))
    make(source)

    listed = run_capped("models", "--json", models=models)
    assert listed.returncode == 0, listed.stderr[-2000:]
    data = json.loads(listed.stdout)
    assert [m["name"] for m in data["models"]] == ["good"]
    assert len(data["problems"]) == 1 and "config.json is not a regular file" in data["problems"][0]
    for args in (("embed", "--model", str(models / "bad"), "hello"), ("convert", str(source), str(tmp_path / "out")),
                 ("models", "import", str(source), "--name", "imported")):
        assert "config.json is not a regular file" in _one_line_error(run_capped(*args, models=models))
    assert not (tmp_path / "out").exists() and not (models / "imported").exists()


def test_oversized_config_is_refused(bundle_copy: Path) -> None:
    path = bundle_copy / "config.json"
    path.write_text(path.read_text() + " " * (17 * 1024 * 1024))  # valid JSON, larger than any real config
    with pytest.raises(BundleError, match="config.json is larger than 16 MB"):
        inspect_bundle(bundle_copy)


def test_bytes_no_header_describes_are_never_read(checkpoint: Path, tmp_path: Path) -> None:
    """Four sparse gigabytes after the last tensor: read whole, they would not fit under the cap."""
    source = Path(shutil.copytree(checkpoint, tmp_path / "checkpoint"))
    weights = source / "model.safetensors"
    os.truncate(weights, weights.stat().st_size + 4 * 1024**3)
    models = tmp_path / "models"
    converted = run_capped("convert", str(source), str(tmp_path / "out"), models=models)
    assert converted.returncode == 0, converted.stderr[-2000:]
    imported = run_capped("models", "import", str(source), "--name", "imported", models=models)
    assert imported.returncode == 0, imported.stderr[-2000:]
    embedded = run_capped("embed", "--model", "imported", "hello", "--json", models=models)
    assert embedded.returncode == 0, embedded.stderr[-2000:]


def test_a_checkpoint_file_linked_out_of_its_folder_is_not_copied(checkpoint: Path, tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("the user's secret\n")
    source = Path(shutil.copytree(checkpoint, tmp_path / "checkpoint"))
    (source / "vocab.txt").unlink(missing_ok=True)
    (source / "vocab.txt").symlink_to(secret)
    with pytest.raises(CheckpointError, match="vocab.txt is a link to .*secret.txt, outside .*checkpoint: bertdesk"):
        convert_checkpoint(source, tmp_path / "out")
    assert not (tmp_path / "out").exists()
    monkeypatch.setenv("BERTDESK_MODELS", str(tmp_path / "models"))
    with pytest.raises(BertdeskError, match="outside"):
        import_folder(source, name="imported")
    assert not (tmp_path / "models" / "imported").exists()


def test_an_export_file_linked_out_of_its_folder_is_not_imported(tiny_bundle: Path, tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("the user's secret\n")
    source = Path(shutil.copytree(tiny_bundle, tmp_path / "export"))
    (source / "notes.txt").symlink_to(secret)
    monkeypatch.setenv("BERTDESK_MODELS", str(tmp_path / "models"))
    with pytest.raises(BundleError, match="notes.txt is a link to .*, outside"):
        import_folder(source, name="imported")
    assert not (tmp_path / "models" / "imported").exists()


@pytest.mark.parametrize("name", ["config.json", "tokenizer.json", "model.onnx"])
def test_a_bundle_file_linked_out_of_its_folder_is_refused(name: str, bundle_copy: Path, tmp_path: Path) -> None:
    outside = Path(shutil.copy(bundle_copy / name, tmp_path / f"elsewhere-{name}"))
    (bundle_copy / name).unlink()
    (bundle_copy / name).symlink_to(outside)
    with pytest.raises(BundleError, match=f"{name} is a link to .*elsewhere-{name}, outside"):
        inspect_bundle(bundle_copy)


def test_checkpoint_weights_linked_out_of_their_folder_are_refused(checkpoint: Path, tmp_path: Path) -> None:
    source = Path(shutil.copytree(checkpoint, tmp_path / "checkpoint"))
    outside = Path(shutil.move(source / "model.safetensors", tmp_path / "elsewhere.safetensors"))
    (source / "model.safetensors").symlink_to(outside)
    with pytest.raises(CheckpointError, match="model.safetensors is a link to .*elsewhere.safetensors, outside"):
        convert_checkpoint(source, tmp_path / "out")


def test_a_cache_snapshot_of_links_into_its_blobs_converts(checkpoint: Path, tmp_path: Path) -> None:
    """Hugging Face's cache keeps a snapshot's files as links into the repository's blobs: those stay allowed."""
    repo = tmp_path / "models--org--tiny"
    snapshot = repo / "snapshots" / "0123abcd"
    snapshot.mkdir(parents=True)
    (repo / "blobs").mkdir()
    for file in checkpoint.iterdir():
        blob = Path(shutil.copy(file, repo / "blobs" / file.name.replace(".", "-")))
        (snapshot / file.name).symlink_to(Path("../../blobs") / blob.name)
    assert inspect_bundle(convert_checkpoint(snapshot, tmp_path / "out"))[0].task == "encoder"


def test_labels_that_do_not_match_the_logits_are_noted(tiny_classifier_bundle: Path, tmp_path: Path) -> None:
    folder = Path(shutil.copytree(tiny_classifier_bundle, tmp_path / "classifier"))
    assert inspect_bundle(folder)[0].notes == []
    edit_config(folder, id2label={str(i): f"class {i}" for i in range(5)})
    info = inspect_bundle(folder)[0]
    assert info.notes == ["config.json's id2label names 5 labels but the graph gives 3 logits: the labels are shown "
                          "as LABEL_0 … LABEL_2"]
    assert info.to_dict()["notes"] == info.notes


def test_a_cache_snapshot_bundle_with_external_weights_loads(tiny_bundle: Path, tmp_path: Path) -> None:
    """A bundle kept as a Hugging Face cache snapshot: its graph and its external weights both link into blobs."""
    built = tmp_path / "built"
    built.mkdir()
    for name in ("config.json", "tokenizer.json"):
        shutil.copy(tiny_bundle / name, built / name)
    onnx.save_model(onnx.load(str(tiny_bundle / "model.onnx")), str(built / "model.onnx"), save_as_external_data=True,
                    location="model.onnx.data", size_threshold=0)
    repo = tmp_path / "models--org--tiny"
    snapshot = repo / "snapshots" / "0123abcd"
    snapshot.mkdir(parents=True)
    (repo / "blobs").mkdir()
    for file in built.iterdir():
        shutil.copy(file, repo / "blobs" / f"blob-{file.name}")
        (snapshot / file.name).symlink_to(Path("../../blobs") / f"blob-{file.name}")
    assert inspect_bundle(snapshot)[0].task == "encoder"


def _varint(value: int) -> bytes:
    out = bytearray()
    while value >= 0x80:
        out.append(value & 0x7F | 0x80)
        value >>= 7
    return bytes(out + bytes([value]))


def test_a_graph_of_one_huge_node_is_refused_before_it_is_copied(tiny_bundle: Path, tmp_path: Path) -> None:
    """A well-framed 1.9 GB (sparse) model.onnx: a graph holding one node of 1.9 GB, copied twice if kept."""
    models = tmp_path / "models"
    folder = Path(shutil.copytree(tiny_bundle, models / "huge-node"))
    node = 1_900_000_000
    node_field = b"\x0a" + _varint(node)  # GraphProto.node
    head = b"\x08\x08" + b"\x3a" + _varint(len(node_field) + node) + node_field  # ir_version 8, ModelProto.graph
    graph = folder / "model.onnx"
    graph.write_bytes(head)
    os.truncate(graph, len(head) + node)
    result = run_capped("models", "--json", models=models)
    assert result.returncode == 0, result.stderr[-2000:]
    problems = json.loads(result.stdout)["problems"]
    assert len(problems) == 1 and "without the weights is larger than 512 MB" in problems[0], problems


def test_the_label_note_is_printed_by_models(tiny_classifier_bundle: Path, tmp_path: Path) -> None:
    from tests.cli.cli_child import run_cli

    folder = Path(shutil.copytree(tiny_classifier_bundle, tmp_path / "models" / "classifier"))
    edit_config(folder, id2label={str(i): f"class {i}" for i in range(5)})
    done = run_cli("models", models=tmp_path / "models")
    assert done.returncode == 0, done.stderr
    assert "    note: config.json's id2label names 5 labels but the graph gives 3 logits" in done.stdout
