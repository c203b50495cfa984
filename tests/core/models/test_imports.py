"""Importing local model folders: public ONNX export layouts as they are, safetensors checkpoints converted."""

from __future__ import annotations

from pathlib import Path

import pytest

from bertdesk.core.bundles.bundle import inspect_bundle
from bertdesk.core.errors import BertdeskError, BundleError, JobCancelled
from bertdesk.core.jobs import JobHandle
from bertdesk.core.models import import_folder, import_wheel, model_origin
from tests.core.models.conftest import copy_of


def _leftovers(models: Path) -> list[str]:
    return sorted(p.name for p in models.iterdir() if p.name.startswith(".")) if models.is_dir() else []


def test_export_in_the_onnx_folder_is_installed_as_it_is(onnx_export: Path, models_home: Path) -> None:
    path = import_folder(onnx_export)
    assert path == models_home / "tiny-export"
    for name in ("onnx/model.onnx", "config.json", "tokenizer.json", "vocab.txt"):
        assert (path / name).read_bytes() == (onnx_export / name).read_bytes()
    info = inspect_bundle(path)[0]
    assert info.graph == "onnx/model.onnx" and info.task == "encoder"
    assert model_origin(path) == {"kind": "folder", "path": str(onnx_export)}


def test_repository_clone_gives_its_onnx_export_only(onnx_export: Path, tmp_path: Path, models_home: Path) -> None:
    folder = copy_of(onnx_export, tmp_path / "clone")
    for name in ("pytorch_model.bin", "tf_model.h5", "model.safetensors", "openvino/openvino_model.bin", ".git/HEAD"):
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(b"weights of another framework")
    (folder / "README.md").write_text("the model card")
    path = import_folder(folder)
    assert sorted(p.relative_to(path).as_posix() for p in path.rglob("*") if p.is_file()) == [
        "README.md", "bertdesk.json", "config.json", "onnx/model.onnx", "tokenizer.json", "vocab.txt"]


def test_hugging_face_cache_snapshot_of_links_is_copied_as_files(onnx_export: Path, tmp_path: Path,
                                                                  models_home: Path) -> None:
    blobs, snapshot = tmp_path / "blobs", tmp_path / "snapshots" / "abc123"
    for file in [p for p in onnx_export.rglob("*") if p.is_file()]:
        blob = blobs / file.name.replace(".", "-")
        blob.parent.mkdir(parents=True, exist_ok=True)
        blob.write_bytes(file.read_bytes())
        link = snapshot / file.relative_to(onnx_export)
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(blob)
    path = import_folder(snapshot, name="from-cache")
    graph = path / "onnx" / "model.onnx"
    assert not graph.is_symlink() and graph.read_bytes() == (onnx_export / "onnx" / "model.onnx").read_bytes()
    assert inspect_bundle(path)[0].task == "encoder"


def test_export_at_the_root_is_installed_under_the_name_given(onnx_export: Path, tmp_path: Path,
                                                               models_home: Path) -> None:
    folder = copy_of(onnx_export, tmp_path / "flat")
    (folder / "onnx" / "model.onnx").rename(folder / "model.onnx")
    (folder / "onnx").rmdir()
    path = import_folder(folder, name="flat export")
    assert path == models_home / "flat export" and inspect_bundle(path)[0].graph == "model.onnx"


def test_sentence_transformers_pooling_of_an_export_is_kept(onnx_export: Path, tmp_path: Path,
                                                             models_home: Path) -> None:
    folder = copy_of(onnx_export, tmp_path / "st")
    (folder / "1_Pooling").mkdir()
    (folder / "1_Pooling" / "config.json").write_text('{"pooling_mode_cls_token": true}')
    (folder / "modules.json").write_text('[{"type": "sentence_transformers.models.Normalize"}]')
    info = inspect_bundle(import_folder(folder))[0]
    assert (info.pooling, info.normalize) == ("cls", True)


def test_safetensors_checkpoint_is_converted(qa_checkpoint: Path, models_home: Path) -> None:
    fractions: list[float] = []
    path = import_folder(qa_checkpoint, name="qa", handle=JobHandle(lambda f, _: fractions.append(f)))
    info = inspect_bundle(path)[0]
    assert info.task == "question-answering" and info.has_internals and info.graph == "model.onnx"
    assert model_origin(path)["path"] == str(qa_checkpoint)
    assert fractions[-1] == 1.0 and _leftovers(models_home) == []


def test_folder_that_is_no_model_is_refused_in_one_line(tmp_path: Path, models_home: Path) -> None:
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "pytorch_model.bin").write_bytes(b"\0")
    with pytest.raises(BertdeskError) as info:
        import_folder(tmp_path / "notes")
    message = str(info.value)
    assert "is not a model folder: it has no ONNX graph (model.onnx or onnx/model.onnx) and no safetensors" in message
    assert "\n" not in message and not (models_home.exists() and any(models_home.iterdir()))
    with pytest.raises(BertdeskError, match="is not a folder"):
        import_folder(tmp_path / "missing")


def test_export_that_does_not_match_its_config_installs_nothing(onnx_export: Path, tmp_path: Path,
                                                                models_home: Path) -> None:
    folder = copy_of(onnx_export, tmp_path / "bad")
    config = (folder / "config.json").read_text().replace('"BertModel"', '"BertForQuestionAnswering"')
    (folder / "config.json").write_text(config)
    with pytest.raises(BundleError, match="expected start_logits, end_logits"):
        import_folder(folder)
    assert not (models_home / "bad").exists() and _leftovers(models_home) == []


def test_name_taken_or_unusable_is_refused(onnx_export: Path, models_home: Path) -> None:
    import_folder(onnx_export, name="m")
    before = (models_home / "m" / "bertdesk.json").read_bytes()
    with pytest.raises(BertdeskError, match="a model named 'm' is already installed"):
        import_folder(onnx_export, name="m")
    assert (models_home / "m" / "bertdesk.json").read_bytes() == before
    for name in ("../outside", ".hidden", "a/b", ""):
        with pytest.raises(BertdeskError, match="the model name"):
            import_folder(onnx_export, name=name)
    assert not (models_home.parent / "outside").exists()


def test_importing_an_installed_model_again_keeps_its_earlier_origin(onnx_export: Path, models_home: Path) -> None:
    first = import_folder(onnx_export, name="first")
    second = import_folder(first, name="second")
    assert model_origin(second) == {"kind": "folder", "path": str(first),
                                    "earlier": {"kind": "folder", "path": str(onnx_export)}}


def test_cancelled_import_installs_nothing(qa_checkpoint: Path, models_home: Path) -> None:
    handle = JobHandle()
    handle._on_progress = lambda fraction, text: handle.cancel() if fraction > 0.5 else None
    with pytest.raises(JobCancelled):
        import_folder(qa_checkpoint, handle=handle)
    assert not (models_home / "tiny-qa").exists() and _leftovers(models_home) == []


def test_a_wheel_that_is_not_the_default_models_is_refused(tmp_path: Path, models_home: Path) -> None:
    from bertdesk.core.models.default_model import WHEEL_NAME, default_model_path

    fake = tmp_path / WHEEL_NAME
    fake.write_bytes(b"PK not a wheel")
    with pytest.raises(BertdeskError, match="refusing to use it"):
        import_wheel(fake)
    assert not default_model_path().exists()


def test_export_whose_outputs_are_nan_installs_nothing(onnx_export: Path, tmp_path: Path, models_home: Path) -> None:
    import numpy as np
    import onnx
    from onnx import numpy_helper

    folder = copy_of(onnx_export, tmp_path / "nan")
    graph = onnx.load(str(folder / "onnx" / "model.onnx"))
    largest = max(graph.graph.initializer, key=lambda t: int(np.prod(t.dims)))
    largest.CopyFrom(numpy_helper.from_array(np.full_like(numpy_helper.to_array(largest), np.nan), largest.name))
    onnx.save(graph, str(folder / "onnx" / "model.onnx"))
    with pytest.raises(BundleError, match="gives NaN or infinite values on a test input"):
        import_folder(folder)
    assert not (models_home / "nan").exists() and _leftovers(models_home) == []
