"""Model bundles: a folder with config.json, tokenizer.json and an ONNX graph, validated, described and run."""

from __future__ import annotations

import functools
import os
import re
import threading
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
from google.protobuf.message import DecodeError
from tokenizers import Tokenizer

from bertdesk.core.bundles.config import (
    TASK_CLASSIFICATION,
    TASK_ENCODER,
    TASK_QA,
    ModelConfig,
    check_inside,
    describe_value,
    folder_root,
    read_config,
    read_json,
)
from bertdesk.core.bundles.graph import (
    CLS_OUTPUTS,
    CLS_STATE,
    cls_graph,
    lean_graph,
    lean_session,
    load_skeleton,
    skeleton_session,
)
from bertdesk.core.bundles.introspect import count_heads, count_layers
from bertdesk.core.bundles.names import ATTENTION_BIAS, BUNDLE_METADATA, PRECISIONS
from bertdesk.core.bundles.tokenizer import copy_tokenizer, load_tokenizer
from bertdesk.core.errors import BertdeskError, BundleError, JobCancelled, MakeInt8Variant, StorageError
from bertdesk.core.jobs import JobHandle, default_budget_size

FEEDABLE_INPUTS = ("input_ids", "attention_mask", "token_type_ids", "position_ids", ATTENTION_BIAS)
POOLINGS = ("mean", "cls")
#: Graph variants by precision in the public onnx/ layout, the preferred name first.
_PRECISION_VARIANTS = {"fp32": ("model",), "int8": ("model_quantized", "model_int8", "model_uint8", "model_qint8")}
# Operators only integer-quantized graphs hold.
_QUANTIZED_OPS = frozenset({"DynamicQuantizeLinear", "MatMulInteger", "QLinearMatMul", "DynamicQuantizeMatMul",
                            "MatMulIntegerToFloat", "QAttention", "QuantizeLinear", "DequantizeLinear"})
# What onnxruntime raises from session creation and runs: its own exception classes (plain Exception subclasses,
# one per status code) and, from its Python layer, these.
_ORT_ERRORS = (
    *(
        cls
        for cls in vars(ort.capi.onnxruntime_pybind11_state).values()
        if isinstance(cls, type) and issubclass(cls, Exception)
    ),
    RuntimeError,
    ValueError,
    TypeError,
)
_TASK_OUTPUTS = {
    TASK_QA: ("start_logits", "end_logits"),
    TASK_CLASSIFICATION: ("logits",),
    TASK_ENCODER: ("last_hidden_state",),
}


@dataclass(frozen=True, kw_only=True)
class BundleInfo(ModelConfig):
    """What a bundle is: its model's architecture numbers (the config) and the bundle's own facts."""

    name: str
    path: str
    size_bytes: int
    has_internals: bool
    graph: str
    variants: list[str]
    pooling: str
    normalize: bool
    outputs: list[str] = field(default_factory=list)
    #: The chosen graph's precision: "fp32", "fp16" or "int8" (read from its operators and weights).
    precision: str = "fp32"
    #: Each graph variant's precision (by its name) and, where bertdesk made it, how and its measured agreement
    #: with fp32 (bertdesk.json "variants").
    variant_details: dict[str, dict] = field(default_factory=dict)
    #: What is odd about the bundle but does not stop it working, one sentence each.
    notes: list[str] = field(default_factory=list)

    @property
    def agreement(self) -> dict | None:
        """The chosen graph's measured agreement with the fp32 graph; None for fp32 or where it was not measured."""
        return self.variant_details.get(self.graph, {}).get("agreement")

    def to_dict(self) -> dict:
        """JSON-ready fields, with the chosen graph's agreement."""
        return {**super().to_dict(), "agreement": self.agreement}

    def summary(self) -> str:
        """One line: name, task, layers/heads/hidden, size, precision and the other precisions it has."""
        others = sorted({d["precision"] for d in self.variant_details.values()} - {self.precision})
        return (
            f"{self.name} — {self.task}, {self.num_layers} layers, {self.num_heads} heads, "
            f"{self.hidden_size} wide, {self.size_bytes / 1e6:.0f} MB, {self.precision}"
            + (f" (also {', '.join(others)})" if others else "")
        )


def graph_variants(folder: Path) -> list[Path]:
    """The ONNX graphs of a bundle: `model.onnx` and/or the `onnx/model*.onnx` layout of public exports."""
    found = [folder / "model.onnx"] if (folder / "model.onnx").is_file() else []
    onnx_dir = folder / "onnx"
    if onnx_dir.is_dir():
        found += sorted((p for p in onnx_dir.glob("model*.onnx") if p.is_file()),
                        key=lambda p: (p.name != "model.onnx", p.name))
    return found


def variant_precision(path: Path) -> str:
    """A graph variant's precision by its name in the public layout: model_quantized.onnx is "int8", and so on."""
    for precision, stems in _PRECISION_VARIANTS.items():
        if path.stem in stems:
            return precision
    return path.stem.removeprefix("model_")


def precision_variant(folder: Path, precision: str) -> str:
    """The variant name (for `Bundle(folder, variant)`) of the bundle's `precision` graph; BundleError if it has
    none (for int8 with the remedy MakeInt8Variant)."""
    if precision not in PRECISIONS:
        raise BundleError(f"unknown precision {precision!r} (choose {' or '.join(PRECISIONS)})")
    stems = {p.stem for p in graph_variants(folder)}
    for stem in _PRECISION_VARIANTS[precision]:
        if stem in stems:
            return stem
    remedies = [MakeInt8Variant(str(folder))] if precision == "int8" else []
    raise BundleError(f"{folder} has no {precision} graph", *remedies)


def _graph_precision(model: onnx.ModelProto) -> str:
    if any(node.op_type in _QUANTIZED_OPS for node in model.graph.node):
        return "int8"
    names = ("word_embeddings", "word_embeddings.weight")
    embedding = next((t for t in model.graph.initializer if t.name.endswith(names)), None)
    return "fp16" if embedding is not None and embedding.data_type == onnx.TensorProto.FLOAT16 else "fp32"


def _choose_graph(folder: Path, variant: str | None) -> tuple[Path, list[Path]]:
    variants = graph_variants(folder)
    if not variants:
        raise BundleError(f"{folder} has no ONNX graph (expected model.onnx or onnx/model*.onnx)")
    if variant is None:
        return variants[0], variants
    for path in variants:
        if path.stem == variant or path.name == variant or path.stem == f"model_{variant}":
            return path, variants
    names = ", ".join(p.stem for p in variants)
    raise BundleError(f"{folder} has no graph variant {variant!r} (it has: {names})")


def ort_message(exc: BaseException) -> str:
    """The first line of an onnxruntime error without its "[ONNXRuntimeError] : 6 : RUNTIME_EXCEPTION :" prefix."""
    lines = str(exc).strip().splitlines() or [type(exc).__name__]
    line = re.sub(r"^\[ONNXRuntimeError\] : \d+ : \w+ : ", "", lines[0])
    # "… Status Message: /onnxruntime_src/…/reshape_helper.h:84 onnxruntime::…(…) size != 0 was false. The input
    # tensor cannot be reshaped …": the failed check's source location and C++ signature say nothing to a user.
    line = re.sub(r"Status Message: \S+:\d+ .*? was false\. ", "", line)
    return line[:400]


def _load_graph(path: Path) -> onnx.ModelProto:
    """The graph at `path` without its weights (see `load_skeleton`, which checks the file's framing before it
    parses a byte of it); BundleError where it is unreadable."""
    try:
        model = load_skeleton(path)
    except PermissionError as exc:
        raise BundleError(f"cannot read {path}: permission denied") from exc
    except (DecodeError, OSError, ValueError, RuntimeError, RecursionError) as exc:
        raise BundleError(f"{path} is not a readable ONNX graph (corrupt or truncated file): {exc}") from exc
    return _nonempty(model, path)


def _nonempty(model: onnx.ModelProto, path: Path) -> onnx.ModelProto:
    if not model.graph.node:
        raise BundleError(f"{path} is not a readable ONNX graph (it has no nodes)")
    return model


def _check_external_data(model: onnx.ModelProto, graph_path: Path, folder: Path) -> None:
    root = folder_root(folder)
    for tensor in model.graph.initializer:
        if tensor.data_location != onnx.TensorProto.EXTERNAL:
            continue
        location = next((e.value for e in tensor.external_data if e.key == "location"), "")
        if location == graph_path.name:  # weights left inside the graph file by load_skeleton
            continue
        if "\0" in location:
            raise BundleError(f"{graph_path}: weight {tensor.name[:80]!r} names its external data file with a NUL")
        target = (graph_path.parent / location).resolve()
        if root not in target.parents:
            raise BundleError(
                f"{graph_path}: weight {tensor.name!r} points at external data {location!r} outside the bundle folder"
            )
        if not target.is_file():
            raise BundleError(f"{graph_path}: external data file {location!r} for weight {tensor.name!r} is missing")


def _embedding_shape(model: onnx.ModelProto) -> tuple[int, int] | None:
    """(rows, width) of the word embedding table: the initializer the graph gathers input_ids from."""
    initializers = {t.name: t for t in model.graph.initializer}
    for node in model.graph.node:
        if node.op_type == "Gather" and len(node.input) == 2 and node.input[1] == "input_ids":
            table = initializers.get(node.input[0])
            if table is not None and len(table.dims) == 2:
                return int(table.dims[0]), int(table.dims[1])
    return None


def _position_rows(model: onnx.ModelProto) -> int | None:
    """Rows of the learned position embedding table, found by the name every BERT exporter gives it."""
    for table in model.graph.initializer:
        if table.name.endswith(("position_embeddings", "position_embeddings.weight")) and len(table.dims) == 2:
            return int(table.dims[0])
    return None


def _output_width(model: onnx.ModelProto, name: str) -> int | None:
    """The fixed last dimension of graph output `name`, if the graph states one."""
    for output in model.graph.output:
        if output.name == name and output.type.tensor_type.shape.dim:
            width = output.type.tensor_type.shape.dim[-1].dim_value
            return int(width) if width > 0 else None
    return None


def _check_against_graph(config: ModelConfig, model: onnx.ModelProto, folder: Path) -> None:
    """Raise BundleError where config.json's numbers disagree with the graph's own (layers, widths, tables)."""

    def differ(what: str, said: int, found: int | None, graph_says: str) -> None:
        if found is not None and found != said:
            raise BundleError(f"{folder}: config.json says {what} {said}, but {graph_says.format(found)}")

    embedding = _embedding_shape(model) or (None, None)
    differ("vocab_size", config.vocab_size, embedding[0], "the graph's word embedding has {} rows")
    differ("hidden_size", config.hidden_size, embedding[1], "the graph's word embedding is {} wide")
    differ("hidden_size", config.hidden_size, _output_width(model, "last_hidden_state"), "its vectors are {} wide")
    differ("max_position_embeddings", config.max_positions, _position_rows(model),
           "the graph's position embedding has {} rows")
    differ("num_hidden_layers", config.num_layers, count_layers(model), "the graph has {} layers")
    differ("num_attention_heads", config.num_heads, count_heads(model, config.hidden_size),
           "the graph splits attention into {} heads")


def _metadata(folder: Path) -> tuple[str, bool, dict]:
    """(pooling, normalize, variant records) from the bundle's bertdesk.json; mean pooling without normalisation
    and no records when it has none."""
    path = folder / BUNDLE_METADATA
    if not os.path.lexists(path):
        return "mean", False, {}
    data = read_json(path, BundleError)
    if not isinstance(data, dict):
        raise BundleError(f"{path} does not hold a JSON object (it holds {describe_value(data)})")
    pooling, normalize = data.get("pooling", "mean"), data.get("normalize", False)
    if pooling not in POOLINGS:
        raise BundleError(f"{path}: pooling must be {' or '.join(POOLINGS)}, not {describe_value(pooling)}")
    if not isinstance(normalize, bool):
        raise BundleError(f"{path}: normalize must be true or false, not {describe_value(normalize)}")
    variants = data.get("variants", {})
    # The records are descriptions to show, written by `quantize`: a damaged one is left out, not an error.
    records = {k: v for k, v in variants.items() if isinstance(v, dict)} if isinstance(variants, dict) else {}
    return pooling, normalize, records


def _folder_size(folder: Path) -> int:
    """Bytes of the files under `folder`; symbolic links are not followed, unreadable parts are left out."""
    total = 0
    for root, _, files in os.walk(folder):
        for name in files:
            try:
                total += os.stat(os.path.join(root, name)).st_size
            except OSError:
                continue
    return total


def inspect_bundle(
    folder: str | Path, variant: str | None = None
) -> tuple[BundleInfo, ModelConfig, Tokenizer, onnx.ModelProto]:
    """Validate a bundle folder and describe it; raises BundleError saying exactly what is wrong."""
    folder = Path(folder)
    try:
        return _inspect(folder, variant)
    except PermissionError as exc:
        raise BundleError(f"cannot read {exc.filename or folder}: permission denied") from exc
    except OSError as exc:
        raise BundleError(f"cannot read {exc.filename or folder}: {exc.strerror or exc}") from exc


def _inspect(folder: Path, variant: str | None) -> tuple[BundleInfo, ModelConfig, Tokenizer, onnx.ModelProto]:
    if not folder.is_dir():
        raise BundleError(f"{folder} is not a folder")
    config = read_config(folder / "config.json", error=BundleError)
    tokenizer = load_tokenizer(folder / "tokenizer.json")
    graph_path, variants = _choose_graph(folder, variant)
    check_inside(graph_path, folder, BundleError)
    model = _load_graph(graph_path)
    _check_external_data(model, graph_path, folder)

    initializer_names = {t.name for t in model.graph.initializer}
    inputs = [i.name for i in model.graph.input if i.name not in initializer_names]
    unknown = [name for name in inputs if name not in FEEDABLE_INPUTS]
    if unknown:
        raise BundleError(f"{graph_path}: graph input(s) bertdesk cannot feed: {', '.join(unknown)}")
    if "input_ids" not in inputs:
        raise BundleError(f"{graph_path}: the graph has no input_ids input")

    outputs = [o.name for o in model.graph.output]
    expected = _TASK_OUTPUTS[config.task]
    if not all(name in outputs for name in expected):
        raise BundleError(
            f"{graph_path}: config.json says {config.architecture} ({config.task}) but the graph's outputs are "
            f"{', '.join(outputs)}; expected {', '.join(expected)}"
        )

    _check_against_graph(config, model, folder)
    tokenizer_size = tokenizer.get_vocab_size(with_added_tokens=True)
    if tokenizer_size > config.vocab_size:
        raise BundleError(
            f"{folder}: the tokenizer has {tokenizer_size} tokens but the model embeds only {config.vocab_size}"
        )

    pooling, normalize, records = _metadata(folder)
    graph = graph_path.relative_to(folder).as_posix()
    precision = _graph_precision(model)
    variant_names = [p.relative_to(folder).as_posix() for p in variants]
    details = {name: {**records.get(name, {}), "precision": precision if name == graph else variant_precision(path)}
               for name, path in zip(variant_names, variants, strict=True)}
    has_internals = any(o.startswith("hidden_states.") for o in outputs) and any(
        o.startswith("attentions.") for o in outputs
    )
    info = BundleInfo(
        **config.to_dict(),
        name=folder.name,
        path=str(folder.resolve()),
        size_bytes=_folder_size(folder),
        has_internals=has_internals,
        graph=graph,
        variants=variant_names,
        pooling=pooling,
        normalize=normalize,
        outputs=outputs,
        precision=precision,
        variant_details=details,
        notes=_label_notes(config, model),
    )
    return info, config, tokenizer, model


def _label_notes(config: ModelConfig, model: onnx.ModelProto) -> list[str]:
    """A note when config.json's id2label names another number of labels than the graph has logits (the
    classifier then shows LABEL_0, LABEL_1 … instead of those names)."""
    logits = _output_width(model, "logits")
    if config.task != TASK_CLASSIFICATION or not config.labels or logits is None or logits == len(config.labels):
        return []
    return [f"config.json's id2label names {len(config.labels)} labels but the graph gives {logits} logits: the "
            f"labels are shown as LABEL_0 … LABEL_{logits - 1}"]


class NonFiniteOutput(BundleError):
    """The model's outputs hold NaN or infinite values: no result computed from them would mean anything."""


def check_finite(outputs: dict[str, np.ndarray]) -> None:
    """Raise NonFiniteOutput unless the outputs results are decoded from are finite (broken weights give NaN
    everywhere; an answer, label or score decoded from them would look valid and be impossible). The per-layer
    internals are left as they are: a graph made elsewhere may expose scores with -inf where a mask was added."""
    broken = [name for name, value in outputs.items()
              if name not in ("hidden_states", "attentions") and not np.isfinite(value).all()]
    if broken:
        raise NonFiniteOutput(f"the model produced NaN or infinite values ({', '.join(broken)}): its weights may be "
                              "broken, so there is no result to show")


class Bundle:
    """A loaded model: its description, tokenizer and onnxruntime sessions shared by every thread.

    Runs that show no per-layer internals and take no `attention_bias` (nearly all) go through the lean session
    (see `bertdesk.core.bundles.graph`); the first run that asks for either creates the full one beside it.
    Runs that ask only for outputs of the [CLS] row (`CLS_OUTPUTS`: a classifier's logits, say) go through a
    [CLS]-only session.

    The lean and [CLS]-only sessions run on one thread each, the caller's: jobs of many batches run `lanes` of them
    at once (`bertdesk.core.engine.lanes`), which on two cores is 1.1-1.2x faster than one run on two intra-op threads
    (no pool to wake for every operator). The full session, for single runs whose internals are shown, has `lanes`
    intra-op threads.
    """

    def __init__(self, folder: str | Path, variant: str | None = None, *, threads: int | None = None,
                 precision: str | None = None) -> None:
        if precision is not None:
            if variant is not None:
                raise ValueError("give a variant or a precision, not both")
            variant = precision_variant(Path(folder), precision)
        self.info, self.config, self.tokenizer, model = inspect_bundle(folder, variant)
        self.graph_path = Path(self.info.path) / self.info.graph
        self._input_names = {i.name for i in model.graph.input}
        self._skeleton: onnx.ModelProto | None = model  # becomes the lean session
        self._threads = threads or default_budget_size()
        self._lock = threading.Lock()
        self._session: ort.InferenceSession | None = None
        self._internals_session: ort.InferenceSession | None = None
        self._cls_session: ort.InferenceSession | bool | None = None  # False: the graph has no [CLS]-only form

    @functools.cached_property
    def model_tokenizer(self) -> Tokenizer:
        """The tokenizer as the model needs it: truncated (longest first, as transformers does) at max length."""
        tokenizer = copy_tokenizer(self.tokenizer)
        tokenizer.enable_truncation(max_length=self.info.max_positions, strategy="longest_first")
        return tokenizer

    @property
    def lanes(self) -> int:
        """How many runs of the lean or [CLS]-only session a job of many batches may keep going at once."""
        return self._threads

    def _options(self, threads: int = 1) -> ort.SessionOptions:
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        # Idle worker threads sleep instead of spinning: a desktop app must not burn a core between runs.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        # Fatal only: a failed run is logged on stderr before it is raised (and reported by us in one line).
        options.log_severity_level = 4
        return options

    def session(self) -> ort.InferenceSession:
        """The lean onnxruntime session (task outputs only), created on first use; safe to run from several
        threads."""
        with self._lock:
            if self._session is None:
                self._session = self._lean_or_full_session()
            return self._session

    def _lean_or_full_session(self) -> ort.InferenceSession:
        skeleton, self._skeleton = self._skeleton, None
        try:
            return lean_session(self.graph_path, self._options(), skeleton)
        except (*_ORT_ERRORS, DecodeError, OSError, IndexError, RecursionError):
            # A graph the lean rewrite cannot read still runs as it is; if it cannot, its own error is the one to
            # report.
            return self._file_session()

    def _file_session(self) -> ort.InferenceSession:
        try:
            return ort.InferenceSession(str(self.graph_path), self._options(), providers=["CPUExecutionProvider"])
        except _ORT_ERRORS as exc:
            raise BundleError(f"{self.graph_path}: onnxruntime cannot load the graph: {ort_message(exc)}") from exc

    def cls_session(self) -> ort.InferenceSession:
        """The session whose last layer computes only the [CLS] row (`lean.cls_graph`), created on first use; the
        lean session for graphs that cannot be rewritten so (imported exports, int8 variants)."""
        with self._lock:
            if self._cls_session is None:
                self._cls_session = self._create_cls_session()
            if isinstance(self._cls_session, ort.InferenceSession):
                return self._cls_session
        return self.session()

    def _create_cls_session(self) -> ort.InferenceSession | bool:
        try:
            model = cls_graph(lean_graph(load_skeleton(self.graph_path)))
            return False if model is None else skeleton_session(self.graph_path, self._options(), model)
        except (*_ORT_ERRORS, DecodeError, OSError, ValueError, IndexError, RecursionError):
            return False

    def _full_session(self) -> ort.InferenceSession:
        """The session with every layer's outputs and the `attention_bias` input, created on first use."""
        with self._lock:
            if self._internals_session is None:
                self._internals_session = self._create_full_session()
            return self._internals_session

    def _create_full_session(self) -> ort.InferenceSession:
        from bertdesk.core.bundles.introspect import expose_internals

        try:
            model = load_skeleton(self.graph_path)
        except (DecodeError, OSError, ValueError, IndexError, RuntimeError, RecursionError) as exc:
            raise BundleError(f"{self.graph_path} cannot be read again to show its internals: {exc}") from exc
        if not self.info.has_internals:
            model = expose_internals(model, self.config.num_layers)[0]
        try:
            return skeleton_session(self.graph_path, self._options(self._threads), model)
        except _ORT_ERRORS as exc:
            raise BundleError(
                f"{self.graph_path}: onnxruntime cannot run the graph with its internals exposed: {ort_message(exc)}"
            ) from exc

    def run(
        self,
        input_ids: np.ndarray,
        attention_mask: np.ndarray | None = None,
        token_type_ids: np.ndarray | None = None,
        *,
        internals: bool = False,
        attention_bias: np.ndarray | None = None,
        handle: JobHandle | None = None,
        outputs: Iterable[str] | None = None,
    ) -> dict[str, np.ndarray]:
        """Run the model on a (batch, sequence) batch of ids.

        Returns `last_hidden_state` and the task's outputs (`start_logits`/`end_logits`, `logits`, or
        `pooler_output` where the encoder has one); with `internals`, also `hidden_states` stacked as
        (layers + 1, batch, seq, hidden) and `attentions` as (layers, batch, heads, seq, seq). `attention_bias`
        (broadcastable to batch x heads x seq x seq) is added to every layer's attention scores: a causal mask, say.
        `outputs` names the outputs wanted (those the graph has, and `CLS_STATE`, the [CLS] row of
        `last_hidden_state`): only these are returned, and a run that wants only `CLS_OUTPUTS` computes the last
        layer for the [CLS] row alone.
        """
        input_ids = np.asarray(input_ids, dtype=np.int64)
        if input_ids.ndim != 2 or 0 in input_ids.shape:
            raise BundleError(f"input_ids must be a non-empty (batch, sequence) array, got shape {input_ids.shape}")
        batch, seq = input_ids.shape
        if seq > self.info.max_positions:
            raise BundleError(f"{seq} tokens exceed this model's {self.info.max_positions} positions")
        if input_ids.min() < 0 or input_ids.max() >= self.info.vocab_size:
            raise BundleError(f"token ids must lie in 0..{self.info.vocab_size - 1}")
        feed: dict[str, np.ndarray] = {"input_ids": input_ids}
        if "attention_mask" in self._input_names:
            mask = np.ones_like(input_ids) if attention_mask is None else attention_mask
            feed["attention_mask"] = np.asarray(mask, dtype=np.int64)
        if "token_type_ids" in self._input_names:
            types = np.zeros_like(input_ids) if token_type_ids is None else token_type_ids
            feed["token_type_ids"] = np.asarray(types, dtype=np.int64)
        if "position_ids" in self._input_names:
            feed["position_ids"] = np.broadcast_to(np.arange(seq, dtype=np.int64), (batch, seq)).copy()
        if attention_bias is not None:
            if ATTENTION_BIAS not in self._input_names:
                raise BundleError(f"{self.info.name} was not converted by bertdesk: it cannot take another mask")
            feed[ATTENTION_BIAS] = np.asarray(attention_bias, dtype=np.float32)

        asked = None if outputs is None else set(outputs)
        if internals or attention_bias is not None:
            session = self._full_session()
        elif asked is not None and asked <= CLS_OUTPUTS:
            session = self.cls_session()
        else:
            session = self.session()
        all_outputs = [o.name for o in session.get_outputs()]
        wanted = [n for n in all_outputs if not n.startswith(("hidden_states.", "attentions."))]
        # A session without the [CLS]-only output gives CLS_STATE as the first row of last_hidden_state.
        derive_cls = (asked is not None and CLS_STATE in asked and CLS_STATE not in all_outputs
                      and "last_hidden_state" in all_outputs)
        if asked is not None:
            wanted = [n for n in wanted if n in asked or (derive_cls and n == "last_hidden_state")]
        if internals:
            hidden_names = sorted((n for n in all_outputs if n.startswith("hidden_states.")), key=_layer_index)
            attention_names = sorted((n for n in all_outputs if n.startswith("attentions.")), key=_layer_index)
            wanted += hidden_names + attention_names
        threads = self._threads if session is self._internals_session else 1
        values = self._run(session, wanted, feed, handle, threads)
        result = dict(zip(wanted, values, strict=True))
        if internals:
            result["hidden_states"] = np.stack([result.pop(n) for n in hidden_names])
            result["attentions"] = np.stack([result.pop(n) for n in attention_names])
        if derive_cls:
            result[CLS_STATE] = result["last_hidden_state"][:, 0, :]
        if asked is not None:
            result = {name: value for name, value in result.items() if name in asked or name in ("hidden_states",
                                                                                               "attentions")}
        check_finite(result)
        return result

    def _run(
        self, session: ort.InferenceSession, names: list[str], feed: dict[str, np.ndarray], handle: JobHandle | None,
        threads: int,
    ) -> list[np.ndarray]:
        try:
            if handle is None:
                return session.run(names, feed)
            with handle.run_options(threads) as options:
                return session.run(names, feed, options)
        except _ORT_ERRORS as exc:
            if handle is not None and handle.is_cancelled():
                raise JobCancelled() from None
            raise BundleError(f"{self.info.name}: the model failed while running: {ort_message(exc)}") from exc


def _layer_index(name: str) -> int:
    return int(name.rsplit(".", 1)[1])


def resolve_bundle(name_or_path: str | Path, models: Path | None = None) -> Path:
    """A bundle folder from a path or the name of an installed bundle."""
    from bertdesk.core.files.folders import models_dir

    shown = repr(str(name_or_path)[:200])
    try:
        candidate = Path(name_or_path).expanduser()
        if candidate.is_dir():
            return candidate
        models = models or models_dir()
        installed = models / str(name_or_path)
        if installed.is_dir():
            return installed
        names = sorted(p.name for p in models.iterdir() if not p.name.startswith(".") and p.is_dir())
    except (OSError, ValueError, RuntimeError) as exc:  # a name too long, with a NUL, or "~user" of nobody
        raise BundleError(f"cannot open the model {shown}: {getattr(exc, 'strerror', None) or exc}") from exc
    raise BundleError(f"no model folder or installed bundle named {shown} (installed: {', '.join(names) or 'none'})")


def _fingerprint(folder: Path) -> tuple:
    """Identifies a bundle's files as they are now: a rewritten or reconverted bundle gets a new one."""
    try:
        files = [folder / n for n in ("config.json", "tokenizer.json", BUNDLE_METADATA)] + graph_variants(folder)
        stats = tuple((f.name, f.stat().st_mtime_ns, f.stat().st_size) for f in files if f.is_file())
        return (str(folder.resolve()), stats)
    except OSError as exc:
        raise BundleError(f"cannot read {exc.filename or folder}: {exc.strerror or exc}") from exc


_MAX_DESCRIPTIONS = 64
_descriptions: OrderedDict[tuple, BundleInfo] = OrderedDict()
_descriptions_lock = threading.Lock()


def describe_bundle(folder: str | Path) -> BundleInfo:
    """`inspect_bundle(folder)`'s description, remembered until the bundle's files change (parsing a graph takes
    0.1 s per 90 MB)."""
    folder = Path(folder)
    key = _fingerprint(folder) if folder.is_dir() else None
    with _descriptions_lock:
        if key in _descriptions:
            return _descriptions[key]
    info = inspect_bundle(folder)[0]
    _remember(_descriptions, _descriptions_lock, key, info, _MAX_DESCRIPTIONS)
    return info


def _remember(cache: OrderedDict, lock: threading.Lock, key: tuple, value: object, limit: int) -> object:
    """Put `value` in the LRU `cache` unless another thread already did; returns the cached value."""
    with lock:
        value = cache.setdefault(key, value)
        cache.move_to_end(key)
        while len(cache) > limit:
            cache.popitem(last=False)
    return value


def list_bundles(models: Path | None = None, errors: list[str] | None = None) -> list[BundleInfo]:
    """Every valid bundle in the models folder, by name; problems with the others go to `errors` if given."""
    from bertdesk.core.files.folders import models_dir

    models = models or models_dir()
    try:
        folders = sorted(p for p in models.iterdir() if not p.name.startswith(".") and p.is_dir())
    except OSError as exc:
        raise StorageError(f"cannot read the models folder {models}: {exc.strerror or exc}") from exc
    infos = []
    for folder in folders:
        try:
            infos.append(describe_bundle(folder))
        except BertdeskError as exc:
            if errors is not None:
                errors.append(str(exc))
        except Exception as exc:  # a hostile folder can raise anything; it must never hide the good ones
            if errors is not None:
                errors.append(f"{folder} cannot be read as a model bundle ({type(exc).__name__}: {exc})")
    return infos


#: Loaded bundles kept for reuse: tabs on the same model share one session, and a switch back is instant; older
#: ones are released once no tab holds them.
MAX_OPEN_BUNDLES = 3
_bundles: OrderedDict[tuple, Bundle] = OrderedDict()
_bundles_lock = threading.Lock()


def open_model(
    name_or_path: str | Path,
    *,
    variant: str | None = None,
    precision: str | None = None,
    handle: JobHandle | None = None,
) -> Bundle:
    """A loaded bundle by folder or installed name (never installs one: see `models.open_model_or_default`).

    `precision` ("fp32" or "int8") picks the graph of that precision; the default is the bundle's first graph
    (fp32 where it has one). The last few bundles opened are kept (see MAX_OPEN_BUNDLES); a rewritten bundle is
    loaded anew.
    """
    folder = resolve_bundle(name_or_path)
    if precision is not None:
        if variant is not None:
            raise ValueError("give a variant or a precision, not both")
        variant = precision_variant(folder, precision)
    key = (*_fingerprint(folder), variant)
    with _bundles_lock:
        bundle = _bundles.get(key)
    if bundle is None:
        bundle = Bundle(folder, variant)
    return _remember(_bundles, _bundles_lock, key, bundle, MAX_OPEN_BUNDLES)
