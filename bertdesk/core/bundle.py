"""Model bundles: a folder with config.json, tokenizer.json and an ONNX graph, validated, described and run."""

from __future__ import annotations

import functools
import json
import os
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
from google.protobuf.message import DecodeError
from tokenizers import Tokenizer

from bertdesk.core.config import TASK_CLASSIFICATION, TASK_ENCODER, TASK_QA, ModelConfig, read_config
from bertdesk.core.convert import ATTENTION_BIAS, BUNDLE_METADATA
from bertdesk.core.errors import BundleError, JobCancelled
from bertdesk.core.jobs import JobHandle
from bertdesk.core.tokenizer import load_tokenizer

FEEDABLE_INPUTS = ("input_ids", "attention_mask", "token_type_ids", "position_ids", ATTENTION_BIAS)
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

    def summary(self) -> str:
        """One line: name, task, layers/heads/hidden, size."""
        return (
            f"{self.name} — {self.task}, {self.num_layers} layers, {self.num_heads} heads, "
            f"{self.hidden_size} wide, {self.size_bytes / 1e6:.0f} MB"
        )


def graph_variants(folder: Path) -> list[Path]:
    """The ONNX graphs of a bundle: `model.onnx` and/or the `onnx/model*.onnx` layout of public exports."""
    found = [folder / "model.onnx"] if (folder / "model.onnx").is_file() else []
    onnx_dir = folder / "onnx"
    if onnx_dir.is_dir():
        found += sorted(onnx_dir.glob("model*.onnx"), key=lambda p: (p.name != "model.onnx", p.name))
    return found


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


def _load_graph(path: Path) -> onnx.ModelProto:
    try:
        model = onnx.load(str(path), load_external_data=False)
    except (DecodeError, OSError, ValueError, RuntimeError) as exc:
        raise BundleError(f"{path} is not a readable ONNX graph (corrupt or truncated file): {exc}") from exc
    if not model.graph.node:
        raise BundleError(f"{path} is not a readable ONNX graph (it has no nodes)")
    return model


def _check_external_data(model: onnx.ModelProto, graph_path: Path, folder: Path) -> None:
    root = folder.resolve()
    for tensor in model.graph.initializer:
        if tensor.data_location != onnx.TensorProto.EXTERNAL:
            continue
        location = next((e.value for e in tensor.external_data if e.key == "location"), "")
        target = (graph_path.parent / location).resolve()
        if root not in target.parents:
            raise BundleError(
                f"{graph_path}: weight {tensor.name!r} points at external data {location!r} outside the bundle folder"
            )
        if not target.is_file():
            raise BundleError(f"{graph_path}: external data file {location!r} for weight {tensor.name!r} is missing")


def _embedding_rows(model: onnx.ModelProto) -> int | None:
    initializers = {t.name: t for t in model.graph.initializer}
    for node in model.graph.node:
        if node.op_type == "Gather" and len(node.input) == 2 and node.input[1] == "input_ids":
            table = initializers.get(node.input[0])
            if table is not None and len(table.dims) == 2:
                return int(table.dims[0])
    return None


def _metadata(folder: Path) -> dict:
    path = folder / BUNDLE_METADATA
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise BundleError(f"{path} is not valid JSON: {exc}") from exc
    return data if isinstance(data, dict) else {}


def _folder_size(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def inspect_bundle(
    folder: str | Path, variant: str | None = None
) -> tuple[BundleInfo, ModelConfig, Tokenizer, onnx.ModelProto]:
    """Validate a bundle folder and describe it; raises BundleError saying exactly what is wrong."""
    folder = Path(folder)
    if not folder.is_dir():
        raise BundleError(f"{folder} is not a folder")
    config = read_config(folder / "config.json", error=BundleError)
    if not (folder / "tokenizer.json").is_file():
        raise BundleError(f"{folder} has no tokenizer.json")
    tokenizer = load_tokenizer(folder / "tokenizer.json")
    graph_path, variants = _choose_graph(folder, variant)
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

    rows = _embedding_rows(model)
    if rows is not None and rows != config.vocab_size:
        raise BundleError(f"{folder}: config.json says vocab_size {config.vocab_size}; the embedding has {rows} rows")
    tokenizer_size = tokenizer.get_vocab_size(with_added_tokens=True)
    if tokenizer_size > config.vocab_size:
        raise BundleError(
            f"{folder}: the tokenizer has {tokenizer_size} tokens but the model embeds only {config.vocab_size}"
        )

    meta = _metadata(folder)
    has_internals = any(o.startswith("hidden_states.") for o in outputs) and any(
        o.startswith("attentions.") for o in outputs
    )
    info = BundleInfo(
        **config.to_dict(),
        name=folder.name,
        path=str(folder.resolve()),
        size_bytes=_folder_size(folder),
        has_internals=has_internals,
        graph=str(graph_path.relative_to(folder)),
        variants=[str(p.relative_to(folder)) for p in variants],
        pooling=str(meta.get("pooling", "mean")),
        normalize=bool(meta.get("normalize", False)),
        outputs=outputs,
    )
    return info, config, tokenizer, model


def default_thread_count() -> int:
    """onnxruntime threads: `BERTDESK_THREADS`, else every core but one (left for the window)."""
    override = os.environ.get("BERTDESK_THREADS")
    if override and override.isdigit() and int(override) > 0:
        return int(override)
    return max(1, (os.cpu_count() or 2) - 1)


class Bundle:
    """A loaded model: its description, tokenizer and an onnxruntime session shared by every thread."""

    def __init__(self, folder: str | Path, variant: str | None = None, *, threads: int | None = None) -> None:
        self.info, self.config, self.tokenizer, model = inspect_bundle(folder, variant)
        self.graph_path = Path(self.info.path) / self.info.graph
        self._input_names = {i.name for i in model.graph.input}
        self._threads = threads or default_thread_count()
        self._lock = threading.Lock()
        self._session: ort.InferenceSession | None = None
        self._internals_session: ort.InferenceSession | None = None

    @functools.cached_property
    def model_tokenizer(self) -> Tokenizer:
        """The tokenizer as the model needs it: truncated (longest first, as transformers does) at max length."""
        tokenizer = Tokenizer.from_str(self.tokenizer.to_str())
        tokenizer.enable_truncation(max_length=self.info.max_positions, strategy="longest_first")
        return tokenizer

    def _options(self) -> ort.SessionOptions:
        options = ort.SessionOptions()
        options.intra_op_num_threads = self._threads
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.log_severity_level = 3  # the overridable attention_bias initializer warns at every load
        return options

    def session(self) -> ort.InferenceSession:
        """The onnxruntime session, created on first use; `run` is safe to call from several threads."""
        with self._lock:
            if self._session is None:
                try:
                    self._session = ort.InferenceSession(
                        str(self.graph_path), self._options(), providers=["CPUExecutionProvider"]
                    )
                except Exception as exc:  # onnxruntime raises its own untyped errors for unloadable graphs
                    raise BundleError(f"{self.graph_path}: onnxruntime cannot load the graph: {exc}") from exc
            return self._session

    def _session_with_internals(self) -> ort.InferenceSession:
        if self.info.has_internals:
            return self.session()
        with self._lock:
            if self._internals_session is None:
                from bertdesk.core.introspect import expose_internals

                model = onnx.load(str(self.graph_path))
                exposed, _ = expose_internals(model, self.config.num_layers)
                self._internals_session = ort.InferenceSession(
                    exposed.SerializeToString(), self._options(), providers=["CPUExecutionProvider"]
                )
            return self._internals_session

    def run(
        self,
        input_ids: np.ndarray,
        attention_mask: np.ndarray | None = None,
        token_type_ids: np.ndarray | None = None,
        *,
        internals: bool = False,
        attention_bias: np.ndarray | None = None,
        handle: JobHandle | None = None,
    ) -> dict[str, np.ndarray]:
        """Run the model on a (batch, sequence) batch of ids.

        Returns `last_hidden_state` and the task's outputs (`start_logits`/`end_logits`, `logits`, or
        `pooler_output` where the encoder has one); with `internals`, also `hidden_states` stacked as
        (layers + 1, batch, seq, hidden) and `attentions` as (layers, batch, heads, seq, seq). `attention_bias`
        (broadcastable to batch x heads x seq x seq) is added to every layer's attention scores: a causal mask, say.
        """
        input_ids = np.asarray(input_ids, dtype=np.int64)
        if input_ids.ndim != 2 or input_ids.shape[1] == 0:
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

        session = self._session_with_internals() if internals else self.session()
        all_outputs = [o.name for o in session.get_outputs()]
        wanted = [n for n in all_outputs if not n.startswith(("hidden_states.", "attentions."))]
        if internals:
            hidden_names = sorted((n for n in all_outputs if n.startswith("hidden_states.")), key=_layer_index)
            attention_names = sorted((n for n in all_outputs if n.startswith("attentions.")), key=_layer_index)
            wanted += hidden_names + attention_names
        values = self._run(session, wanted, feed, handle)
        result = dict(zip(wanted, values, strict=True))
        if internals:
            result["hidden_states"] = np.stack([result.pop(n) for n in hidden_names])
            result["attentions"] = np.stack([result.pop(n) for n in attention_names])
        return result

    @staticmethod
    def _run(
        session: ort.InferenceSession, names: list[str], feed: dict[str, np.ndarray], handle: JobHandle | None
    ) -> list[np.ndarray]:
        if handle is None:
            return session.run(names, feed)
        try:
            with handle.run_options() as options:
                return session.run(names, feed, options)
        except JobCancelled:
            raise
        except Exception:
            if handle.is_cancelled():
                raise JobCancelled() from None
            raise


def _layer_index(name: str) -> int:
    return int(name.rsplit(".", 1)[1])


def resolve_bundle(name_or_path: str | Path, models: Path | None = None) -> Path:
    """A bundle folder from a path or the name of an installed bundle."""
    candidate = Path(name_or_path).expanduser()
    if candidate.is_dir():
        return candidate
    from bertdesk.core.paths import models_dir

    models = models or models_dir()
    installed = models / str(name_or_path)
    if installed.is_dir():
        return installed
    names = ", ".join(sorted(p.name for p in models.iterdir() if p.is_dir() and not p.name.startswith("."))) or "none"
    raise BundleError(f"no model folder or installed bundle named {str(name_or_path)!r} (installed: {names})")


def _fingerprint(folder: Path) -> tuple:
    """Identifies a bundle's files as they are now: a rewritten or reconverted bundle gets a new one."""
    files = [folder / n for n in ("config.json", "tokenizer.json", BUNDLE_METADATA)] + graph_variants(folder)
    stats = tuple((f.name, f.stat().st_mtime_ns, f.stat().st_size) for f in files if f.is_file())
    return (str(folder.resolve()), stats)


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
    from bertdesk.core.paths import models_dir

    models = models or models_dir()
    infos = []
    for folder in sorted(p for p in models.iterdir() if p.is_dir() and not p.name.startswith(".")):
        try:
            infos.append(describe_bundle(folder))
        except BundleError as exc:
            if errors is not None:
                errors.append(str(exc))
    return infos


#: Loaded bundles kept for reuse: tabs on the same model share one session, and a switch back is instant; older
#: ones are released once no tab holds them.
MAX_OPEN_BUNDLES = 3
_bundles: OrderedDict[tuple, Bundle] = OrderedDict()
_bundles_lock = threading.Lock()


def open_model(
    name_or_path: str | Path | None = None, *, variant: str | None = None, handle: JobHandle | None = None
) -> Bundle:
    """A loaded bundle by folder or installed name; None means the default model, installed on first use.

    The last few bundles opened are kept (see MAX_OPEN_BUNDLES); a rewritten bundle is loaded anew.
    """
    if name_or_path is None:
        from bertdesk.core.default_model import ensure_default_model

        folder = ensure_default_model(handle=handle)
    else:
        folder = resolve_bundle(name_or_path)
    key = (*_fingerprint(folder), variant)
    with _bundles_lock:
        bundle = _bundles.get(key)
    if bundle is None:
        bundle = Bundle(folder, variant)
    return _remember(_bundles, _bundles_lock, key, bundle, MAX_OPEN_BUNDLES)
