"""int8 variants: written in the public layout, loadable, and carrying their measured agreement with fp32."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from bertdesk.core.bundles.bundle import Bundle, precision_variant
from bertdesk.core.bundles.install import foreign_content
from bertdesk.core.conversion.quantize import QUANTIZED_GRAPH, VARIANTS_KEY, quantize_bundle
from bertdesk.core.errors import BundleError, MakeInt8Variant
from bertdesk.core.jobs import JobHandle
from bertdesk.core.models import default_model
from bertdesk.core.models.default_model import DEFAULT_MODEL_NAME, ensure_default_model, verify


def test_tiny_classifier_variant_loads_runs_and_records_agreement(tiny_classifier_bundle: Path, tmp_path: Path) -> None:
    folder = shutil.copytree(tiny_classifier_bundle, tmp_path / "cls")
    with pytest.raises(BundleError, match="has no int8 graph$") as missing:
        precision_variant(folder, "int8")
    assert missing.value.remedies == (MakeInt8Variant(str(folder)),)  # each front end says how to make one
    record = quantize_bundle(folder)
    assert precision_variant(folder, "int8") == "model_quantized"
    assert (folder / QUANTIZED_GRAPH).is_file()
    assert not list((folder / "onnx").glob(".*tmp"))
    stored = json.loads((folder / "bertdesk.json").read_text())[VARIANTS_KEY][QUANTIZED_GRAPH]
    assert stored == record
    assert record["precision"] == "int8" and 0 <= record["agreement"]["label_agreement"] <= 1
    bundle = Bundle(folder, "quantized", threads=1)
    assert bundle.info.graph == QUANTIZED_GRAPH
    ids = np.array([bundle.model_tokenizer.encode("a test sentence").ids])
    assert np.isfinite(bundle.run(ids)["logits"]).all()


def test_default_model_int8_keeps_sentence_vectors_and_its_manifest(default_bundle_dir: Path, tmp_path: Path) -> None:
    folder = shutil.copytree(default_bundle_dir, tmp_path / "minilm")
    agreement = quantize_bundle(folder)["agreement"]
    assert agreement["cosine_mean"] >= 0.99
    assert verify(folder) == []  # the checksum manifest still holds: setup does not reinstall over the variant


def test_a_bundle_with_its_int8_variant_is_still_ours_and_nothing_else_is(tiny_bundle: Path, tmp_path: Path) -> None:
    folder = shutil.copytree(tiny_bundle, tmp_path / "tiny")
    quantize_bundle(folder)
    assert foreign_content(folder) is None
    (folder / "onnx" / ".model_quantized.onnx.4242.tmp").write_bytes(b"left by a killed quantize")
    (folder / "model-inferred.onnx").write_bytes(b"left by an older quantize killed mid-way")
    assert foreign_content(folder) is None
    (folder / "onnx" / "notes.txt").write_text("mine")
    assert "onnx/notes.txt" in foreign_content(folder)


def test_setup_adds_the_int8_variant_and_a_failure_leaves_fp32_whole(
    default_bundle_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BERTDESK_MODELS", str(tmp_path))
    target = shutil.copytree(default_bundle_dir, tmp_path / DEFAULT_MODEL_NAME, ignore=shutil.ignore_patterns("onnx"))
    # The fp32 bundle as it was before its variant: no record of one, and checksums of the files it holds.
    metadata = json.loads((target / "bertdesk.json").read_text())
    metadata.pop("variants", None)
    (target / "bertdesk.json").write_text(json.dumps(metadata, indent=2))
    default_model._write_manifest(target)
    assert verify(target) == []
    (target / "onnx").write_text("a file where the variant's folder goes")  # quantizing fails
    reports: list[str] = []
    assert ensure_default_model(JobHandle(lambda _, text: reports.append(text)), int8=True) == target
    assert any("could not be made" in r for r in reports)
    assert verify(target) == [] and "variants" not in json.loads((target / "bertdesk.json").read_text())
    (target / "onnx").unlink()
    ensure_default_model(int8=True)
    assert (target / QUANTIZED_GRAPH).is_file() and verify(target) == [] and foreign_content(target) is None
    bundle = Bundle(target, precision="int8")
    assert bundle.info.agreement["cosine_mean"] >= 0.99


def test_the_quantizers_scratch_never_lands_beside_the_fp32_graph(
    tiny_bundle: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What a kill -9 right after the quantizer's shape inference would leave in the bundle: nothing but our own
    leftover-named work folder (given a path, onnxruntime writes model-inferred.onnx beside the source, and the
    next `setup --force` refused the folder as not ours)."""
    import onnx.shape_inference

    folder = shutil.copytree(tiny_bundle, tmp_path / "tiny")
    before = {p.name for p in folder.iterdir()}
    infer = onnx.shape_inference.infer_shapes_path
    seen: list[set[str]] = []

    def infer_and_look(*args, **kwargs) -> None:
        infer(*args, **kwargs)
        seen.append({p.name for p in folder.iterdir()} | {f"onnx/{p.name}" for p in (folder / "onnx").glob("*")})

    monkeypatch.setattr(onnx.shape_inference, "infer_shapes_path", infer_and_look)
    quantize_bundle(folder)
    assert seen, "the quantizer no longer runs shape inference through a file: look for its scratch elsewhere"
    for listing in seen:
        strays = {n for n in listing - before - {"onnx"} if not n.startswith("onnx/.model_quantized.onnx.")}
        assert strays == set()
    assert foreign_content(folder) is None
