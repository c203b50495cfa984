"""The speed work as a user meets it: `embed --file` streaming in input order, `quantize`, `--precision int8`,
`models --json` showing precision and agreement, and an idle loaded model that burns no CPU."""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

import numpy as np

from bertdesk.core.bundles.bundle import Bundle, open_model
from bertdesk.core.engine.embed import embed_texts
from tests.cli.cli_child import run_cli as bertdesk
from tests.cli.test_text_commands import ok_json

LINES = ["A short one.", "", "A much longer line that goes on " + "and on " * 40, "ünïcödé text", "ok"] * 3


def test_embed_file_streams_one_line_per_text_in_input_order(tiny_bundle: Path, tmp_path: Path) -> None:
    path = tmp_path / "texts.txt"
    path.write_text("\r\n".join(LINES) + "\r\n", encoding="utf-8")
    result = bertdesk("embed", "--file", str(path), "--json", "--model", str(tiny_bundle))
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["index"] for r in rows] == list(range(1, len(LINES) + 1))
    expected = embed_texts(Bundle(tiny_bundle, threads=1), LINES)
    np.testing.assert_allclose(np.array([r["vector"] for r in rows]), expected, atol=1e-5)
    piped = bertdesk("embed", "--file", "-", "--json", "--model", str(tiny_bundle), stdin="\n".join(LINES[:4]))
    assert [json.loads(line)["vector"] for line in piped.stdout.splitlines()] == [r["vector"] for r in rows[:4]]


def test_embed_file_refusals_are_one_line(tiny_bundle: Path, tmp_path: Path) -> None:
    (tmp_path / "binary.txt").write_bytes(bytes(range(256)) * 50)
    for args in (["--file", str(tmp_path)], ["--file", str(tmp_path / "missing.txt")],
                 ["--file", str(tmp_path / "binary.txt")], ["some text", "--file", "-"], []):
        result = bertdesk("embed", *args, "--model", str(tiny_bundle))
        assert result.returncode == 2 and result.stdout == "", (args, result.stdout)
        assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr, args


def test_quantize_then_precision_int8_everywhere(tiny_classifier_bundle: Path, tmp_path: Path) -> None:
    models = tmp_path / "models"
    folder = shutil.copytree(tiny_classifier_bundle, models / "clf")
    refused = bertdesk("classify", "a text", "--model", "clf", "--precision", "int8", models=models)
    assert refused.returncode == 2 and "no int8 graph" in refused.stderr and "bertdesk quantize" in refused.stderr

    record = ok_json(bertdesk("quantize", "clf", "--json", models=models))
    assert record["precision"] == "int8" and 0 <= record["agreement"]["label_agreement"] <= 1
    assert (folder / "onnx" / "model_quantized.onnx").is_file()

    listed = ok_json(bertdesk("models", "--json", models=models))["models"][0]
    assert listed["precision"] == "fp32" and listed["agreement"] is None
    assert listed["variant_details"]["onnx/model_quantized.onnx"]["agreement"] == record["agreement"]
    assert "fp32 (also int8)" in bertdesk("models", models=models).stdout

    int8 = ok_json(bertdesk("classify", "a text", "--model", "clf", "--precision", "int8", "--json", models=models))
    fp32 = ok_json(bertdesk("classify", "a text", "--model", "clf", "--json", models=models))
    assert int8["results"][0]["label"] in {"LABEL_A", "LABEL_B", "LABEL_C"}
    assert int8 != fp32  # really another graph
    bundle = open_model(folder, precision="int8")
    assert bundle.info.precision == "int8" and bundle.info.agreement == record["agreement"]
    assert bundle.info.to_dict()["agreement"] == record["agreement"]


def test_quantize_never_overwrites_a_variant_bertdesk_did_not_make(tiny_bundle: Path, tmp_path: Path) -> None:
    folder = shutil.copytree(tiny_bundle, tmp_path / "tiny")
    (folder / "onnx").mkdir()
    (folder / "onnx" / "model_quantized.onnx").write_bytes(b"the user's own file")
    result = bertdesk("quantize", str(folder))
    assert result.returncode == 2 and "bertdesk did not make it" in result.stderr
    assert (folder / "onnx" / "model_quantized.onnx").read_bytes() == b"the user's own file"


def _cpu_seconds() -> float:
    times = os.times()
    return times.user + times.system


def test_an_idle_loaded_model_uses_no_cpu(default_bundle_dir: Path) -> None:
    bundle = Bundle(default_bundle_dir, threads=2)
    embed_texts(bundle, ["a sentence to wake every worker thread up"] * 64)
    before = _cpu_seconds()
    time.sleep(2.0)
    # onnxruntime's workers spin-wait after a run unless told not to (40-60 ms of CPU here within 2 s)
    assert _cpu_seconds() - before < 0.02
