"""int8 variants: written in the public layout, loadable, and carrying their measured agreement with fp32."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np

from bertdesk.core.bundle import Bundle
from bertdesk.core.default_model import verify
from bertdesk.core.quantize import QUANTIZED_GRAPH, VARIANTS_KEY, quantize_bundle


def test_tiny_classifier_variant_loads_runs_and_records_agreement(tiny_classifier_bundle: Path, tmp_path: Path) -> None:
    folder = shutil.copytree(tiny_classifier_bundle, tmp_path / "cls")
    record = quantize_bundle(folder)
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
