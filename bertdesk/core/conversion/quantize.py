"""int8 variants: dynamic quantization of a bundle's fp32 graph, with its measured agreement with fp32 on record.

The variant is written beside the fp32 graph in the public layout, `onnx/model_quantized.onnx`, where
`bundle.graph_variants` finds it (pick it with `variant="quantized"`). Its agreement with fp32 on sample inputs is
stored in the bundle's bertdesk.json under "variants", so the picker and `models --json` can show it.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import tempfile
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort

from bertdesk import __version__
from bertdesk.core.bundles.config import TASK_CLASSIFICATION, TASK_QA, read_json
from bertdesk.core.bundles.graph import lean_session
from bertdesk.core.bundles.names import BUNDLE_METADATA, MANIFEST, QUANTIZED_GRAPH
from bertdesk.core.engine.batching import bucket_texts
from bertdesk.core.errors import BundleError
from bertdesk.core.files.hashing import sha256_file
from bertdesk.core.files.safety import remove_stale, storage_error
from bertdesk.core.jobs import JobHandle, ensure_handle

VARIANTS_KEY = "variants"
#: Sample inputs the agreement is measured on when the caller gives none: short and long, plain and odd.
SAMPLE_TEXTS = (
    "The quick brown fox jumps over the lazy dog.",
    "A thoughtful, funny and moving film that stays with you.",
    "The service was slow and the food arrived cold.",
    "Quantum computers use qubits, which can hold superpositions of 0 and 1.",
    "I absolutely loved it!",
    "Worst purchase I have ever made; it broke after two days.",
    "The Treaty of Westphalia in 1648 ended the Thirty Years' War.",
    "Photosynthesis turns light, water and carbon dioxide into glucose and oxygen.",
    "ok",
    "Is it going to rain tomorrow in Paris?",
    "The committee will review the proposal at its next meeting on Thursday.",
    "Neither the plot nor the acting could save this dull, overlong mess of a movie.",
    "She sells sea shells by the sea shore.",
    "Prices rose 3.2% in March, the fastest pace since 2008.",
    "The mitochondria is the powerhouse of the cell.",
    "Please remember to water the plants while I am away for the weekend.",
    "An unexpectedly tender story about grief, friendship and a very stubborn dog.",
    "Error 404: the page you requested could not be found.",
    "Mount Everest is the highest mountain above sea level, at 8,849 metres.",
    "He said nothing, and that said everything.",
    "Les chats dorment beaucoup pendant la journée.",
    "The algorithm sorts the list in O(n log n) time using a divide-and-conquer strategy.",
    "Terrible acting, but the soundtrack is surprisingly good.",
    "Water boils at 100 degrees Celsius at sea level.",
) + tuple(
    "This is a longer passage written to fill most of a model window: " + " ".join(
        f"sentence {i} talks about topic {i * 7 % 13} and mentions the number {i * 31 % 97}." for i in range(n)
    )
    for n in (10, 25, 40)
)
SAMPLE_QUESTIONS = (
    ("When did the Thirty Years' War end?", "The Treaty of Westphalia in 1648 ended the Thirty Years' War."),
    ("How high is Mount Everest?", "Mount Everest is the highest mountain above sea level, at 8,849 metres."),
    ("What do qubits hold?", "Quantum computers use qubits, which can hold superpositions of 0 and 1."),
    ("What does photosynthesis make?", "Photosynthesis turns light, water and carbon dioxide into glucose."),
    ("When will the committee meet?", "The committee will review the proposal at its next meeting on Thursday."),
    ("How fast did prices rise?", "Prices rose 3.2% in March, the fastest pace since 2008."),
    ("At what temperature does water boil?", "Water boils at 100 degrees Celsius at sea level."),
    ("What broke?", "Worst purchase I have ever made; the kettle broke after two days."),
)


def quantization_settings() -> dict:
    """How variants are made, as recorded: per-channel int8 weights (per-tensor scales lose too much on MiniLM:
    mean cosine 0.957 vs 0.991 on SST-2 dev), activations quantized dynamically per batch, every op type onnxruntime
    supports except the feed-forward down-projections (input: the GELU's output, whose outliers one uint8 scale
    per tensor cannot hold; keeping them fp32 lifts the mean cosine from 0.991 to 0.995).

    Measured against the alternatives on SST-2 dev (labels flipped of 872; 1 thread, speed over fp32): this method 13
    flips at 1.2-1.8x; 8-bit blockwise MatMulNBits (int8 compute, per-block activation scales) 1 flip but 0.56-0.74x,
    its kernels being slower than fp32 SGEMM on AVX2 without VNNI; static per-channel QDQ (MinMax) 33 flips; more
    MatMuls kept fp32, 12 or more.
    """
    return {"per_channel": True, "weight_type": "QInt8", "kept_fp32": "feed-forward output MatMuls"}


def _ffn_output_matmuls(source: Path) -> list[str]:
    """Names of the MatMul nodes of bertdesk graphs' feed-forward down-projections (weights `*.output.weight_t`)."""
    model = onnx.load(str(source), load_external_data=False)
    return [n.name for n in model.graph.node
            if n.op_type == "MatMul" and any(i.endswith(".output.weight_t") for i in n.input)]


def fp32_graph(folder: Path) -> Path:
    """The bundle's fp32 graph: model.onnx, or onnx/model.onnx in the public layout."""
    for candidate in (folder / "model.onnx", folder / "onnx" / "model.onnx"):
        if candidate.is_file():
            return candidate
    raise BundleError(f"{folder} has no fp32 graph (model.onnx or onnx/model.onnx) to quantize")


def quantize_graph(source: Path, target: Path) -> None:
    """Write the dynamic-int8 version of the ONNX graph `source` to `target` (replaced atomically).

    The quantizer's own scratch goes into a work folder beside `target`, named as a leftover of ours, so a kill -9
    mid-way leaves nothing in the user's temp folder and nothing a later run would take for the user's (the next one
    removes it; see filesafety.remove_stale): it gets the
    graph as a ModelProto, since given a path it writes its shape-inferred copy (`model-inferred.onnx`) beside the
    source, and points its temp folder at the work folder.
    """
    from onnxruntime.quantization import QuantType, quantize_dynamic

    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise storage_error(f"cannot write {target}", exc) from exc
    remove_stale(target)  # the work folders of runs that were killed
    work = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    advice = _DropAdvice()
    logging.getLogger().addFilter(advice)
    try:
        work.mkdir(exist_ok=True)
        with _scratch_in(work):
            quantize_dynamic(onnx.load(str(source)), str(work / target.name), weight_type=QuantType.QInt8,
                             per_channel=True, nodes_to_exclude=_ffn_output_matmuls(source))
        os.replace(work / target.name, target)
    except OSError as exc:
        raise storage_error(f"cannot write {target}", exc) from exc
    except Exception as exc:  # the quantizer raises bare errors for graphs it cannot handle
        raise BundleError(f"{source}: onnxruntime cannot quantize this graph: {exc}") from exc
    finally:
        logging.getLogger().removeFilter(advice)
        shutil.rmtree(work, ignore_errors=True)


_scratch_lock = threading.Lock()


@contextlib.contextmanager
def _scratch_in(folder: Path) -> Iterator[None]:
    """Point Python's temp folder at `folder` for the duration (onnxruntime's quantizer takes no folder of its own)."""
    with _scratch_lock:
        saved, tempfile.tempdir = tempfile.tempdir, str(folder)
        try:
            yield
        finally:
            tempfile.tempdir = saved


class _DropAdvice(logging.Filter):
    """Drops the quantizer's advice to pre-process the graph (logged on the root logger, so printed on stderr)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "pre-processing before quantization" not in record.getMessage()


def _session(path: Path) -> ort.InferenceSession:
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.log_severity_level = 3
    return lean_session(path, options)


def _runner(session: ort.InferenceSession, names: list[str]) -> Callable:
    inputs = {i.name for i in session.get_inputs()}

    def run(bucket) -> dict[str, np.ndarray]:
        feed = {"input_ids": bucket.input_ids, "attention_mask": bucket.attention_mask,
                "token_type_ids": bucket.token_type_ids}
        values = session.run(names, {k: v for k, v in feed.items() if k in inputs})
        return dict(zip(names, values, strict=True))

    return run


def _best_span(start: np.ndarray, end: np.ndarray, mask: np.ndarray, max_answer: int = 30) -> tuple[int, int]:
    """The (start, end) token span with the highest start + end logit, end ≥ start, within real tokens."""
    n = int(mask.sum())
    scores = start[:n, None] + end[None, :n]
    scores = np.where(np.triu(np.ones((n, n), bool)) & ~np.triu(np.ones((n, n), bool), max_answer), scores, -np.inf)
    best = int(np.argmax(scores))
    return best // n, best % n


def measure_agreement(folder: Path, fp32: Path, int8: Path, texts: list[str] | None = None,
                      pairs: list[str] | None = None) -> dict:
    """Compare the int8 graph with the fp32 one on sample inputs (or `texts`/`pairs`)."""
    from bertdesk.core.bundles.bundle import Bundle
    from bertdesk.core.engine.embed import pool

    bundle = Bundle(folder, threads=1)
    task = bundle.config.task
    if texts is None:
        if task == TASK_QA:
            texts, pairs = [q for q, _ in SAMPLE_QUESTIONS], [c for _, c in SAMPLE_QUESTIONS]
        else:
            texts = list(SAMPLE_TEXTS)
    names = ["last_hidden_state"] + {TASK_QA: ["start_logits", "end_logits"], TASK_CLASSIFICATION: ["logits"]}.get(
        task, [])
    buckets = bucket_texts(bundle.model_tokenizer, texts, pairs, token_budget=2048, max_rows=16)
    reference, quantized = _runner(_session(fp32), names), _runner(_session(int8), names)
    count, hidden, output = len(texts), bundle.info.hidden_size, names[-1]
    vectors = np.zeros((2, count, hidden), np.float32)
    picks = np.zeros((2, count, 2), np.int64)  # top-1 label, or the answer span's (start, end)
    max_diff = 0.0
    for bucket in buckets:
        for side, out in enumerate((reference(bucket), quantized(bucket))):
            vectors[side, bucket.indices] = pool(out["last_hidden_state"], bucket.attention_mask, bundle.info.pooling)
            if task == TASK_CLASSIFICATION:
                picks[side, bucket.indices, 0] = out["logits"].argmax(1)
            elif task == TASK_QA:
                picks[side, bucket.indices] = [_best_span(*row) for row in zip(
                    out["start_logits"], out["end_logits"], bucket.attention_mask, strict=True)]
            if side == 0:
                first = out[output]
            else:
                max_diff = max(max_diff, float(np.abs(first - out[output]).max()))
    norms = np.linalg.norm(vectors, axis=2)
    cosine = (vectors[0] * vectors[1]).sum(1) / np.maximum(norms[0] * norms[1], 1e-12)
    record: dict = {
        "samples": count,
        "output": output,
        "max_abs_diff": round(max_diff, 6),
        "cosine_mean": round(float(cosine.mean()), 6),
        "cosine_min": round(float(cosine.min()), 6),
    }
    same = (picks[0] == picks[1]).all(axis=1).mean()
    if task == TASK_CLASSIFICATION:
        record["label_agreement"] = round(float(same), 6)
    elif task == TASK_QA:
        record["answer_agreement"] = round(float(same), 6)
    return record


def _write_json_atomically(path: Path, data: dict) -> None:
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        temporary.write_text(json.dumps(data, indent=2), encoding="utf-8")
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


def _refresh_manifest(folder: Path, names: list[str]) -> None:
    """Keep a checksum manifest (the default model's) true for the files this module wrote or changed."""
    path = folder / MANIFEST
    if not path.is_file():
        return

    manifest = read_json(path, BundleError)
    if not isinstance(manifest, dict) or not isinstance(manifest.get("files"), dict):
        raise BundleError(f"{path} is not a checksum manifest bertdesk wrote")
    for name in names:
        manifest["files"][name] = {"sha256": sha256_file(folder / name), "size": (folder / name).stat().st_size}
    _write_json_atomically(path, manifest)


def _variant_records(metadata_path: Path) -> dict:
    try:
        metadata = read_json(metadata_path, BundleError)
    except BundleError:
        return {}
    records = metadata.get(VARIANTS_KEY) if isinstance(metadata, dict) else None
    return records if isinstance(records, dict) else {}


def quantize_bundle(folder: str | Path, handle: JobHandle | None = None, *, texts: list[str] | None = None,
                    pairs: list[str] | None = None) -> dict:
    """Create (or recreate) the bundle's int8 variant `onnx/model_quantized.onnx`, measure its agreement with the
    fp32 graph on sample inputs (or `texts`/`pairs`) and record it in bertdesk.json under "variants"; returns the
    record."""
    handle = ensure_handle(handle)
    folder = Path(folder)
    source = fp32_graph(folder)
    target = folder / QUANTIZED_GRAPH
    metadata_path = folder / BUNDLE_METADATA
    if target.exists() and QUANTIZED_GRAPH not in _variant_records(metadata_path):
        raise BundleError(f"{target} exists and bertdesk did not make it: move it away to let bertdesk write its "
                          "int8 variant there")
    handle.progress(0.05, "quantizing to int8")
    quantize_graph(source, target)
    handle.check()
    handle.progress(0.6, "measuring agreement with fp32")
    record = {
        "precision": "int8",
        "source": source.relative_to(folder).as_posix(),
        "method": "onnxruntime dynamic quantization",
        **quantization_settings(),
        "made_by": f"bertdesk {__version__}",
        "agreement": measure_agreement(folder, source, target, texts, pairs),
    }
    handle.check()
    try:
        metadata = read_json(metadata_path, BundleError) if metadata_path.is_file() else {}
        if not isinstance(metadata, dict):
            raise BundleError(f"{metadata_path} is not a JSON object: bertdesk cannot record the int8 variant in it")
        variants = metadata.get(VARIANTS_KEY) if isinstance(metadata.get(VARIANTS_KEY), dict) else {}
        metadata[VARIANTS_KEY] = {**variants, QUANTIZED_GRAPH: record}
        _write_json_atomically(metadata_path, metadata)
        _refresh_manifest(folder, [BUNDLE_METADATA, QUANTIZED_GRAPH])
    except OSError as exc:
        raise storage_error(f"cannot record the int8 variant in {metadata_path}", exc) from exc
    handle.progress(1.0, "int8 variant ready")
    return record
