"""Hugging Face checkpoint folder (config.json + safetensors + tokenizer) → bertdesk bundle, without torch.

The graph is written op by op from the numpy weights. Every layer adds the graph input `attention_bias`
(broadcast to batch x heads x query x key) to its attention scores; it defaults to zeros, so the same weights can
be run with another mask (a causal one, say) by feeding it.
"""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto

from bertdesk import __version__
from bertdesk.core.bundles.config import (
    MAX_JSON_BYTES,
    MAX_TOKENIZER_BYTES,
    TASK_CLASSIFICATION,
    TASK_ENCODER,
    TASK_QA,
    ModelConfig,
    read_config,
    read_pooling,
    read_small_file,
)
from bertdesk.core.bundles.install import check_target, install_bundle
from bertdesk.core.bundles.names import (
    ATTENTION_BIAS,
    BUNDLE_METADATA,
    MADE_BY,
    MADE_BY_KEY,
    TOKENIZER_FILES,
)
from bertdesk.core.bundles.tokenizer import load_tokenizer
from bertdesk.core.conversion.checkpoint import read_checkpoint
from bertdesk.core.conversion.graph_builder import GraphBuilder
from bertdesk.core.errors import CheckpointError, ReplaceExisting
from bertdesk.core.files.safety import check_separate, output_path, prepare_parent, storage_error
from bertdesk.core.jobs import JobHandle, ensure_handle

# Above this many bytes of weights the graph keeps them in a side file: protobuf cannot exceed 2 GiB.
_EXTERNAL_DATA_BYTES = 1_500_000_000


@dataclass(frozen=True)
class LayerWeights:
    """One encoder layer, in the same post-LayerNorm shape for BERT and DistilBERT."""

    query: tuple[np.ndarray, np.ndarray]
    key: tuple[np.ndarray, np.ndarray]
    value: tuple[np.ndarray, np.ndarray]
    attention_out: tuple[np.ndarray, np.ndarray]
    attention_norm: tuple[np.ndarray, np.ndarray]
    intermediate: tuple[np.ndarray, np.ndarray]
    output: tuple[np.ndarray, np.ndarray]
    output_norm: tuple[np.ndarray, np.ndarray]


class _Weights:
    """Named lookups into a checkpoint, with a clear error for anything missing or misshapen."""

    def __init__(self, tensors: dict[str, np.ndarray], prefix: str) -> None:
        self.tensors = tensors
        self.prefix = prefix

    def has(self, name: str) -> bool:
        return self._key(name) is not None

    def _key(self, name: str) -> str | None:
        for candidate in (self.prefix + name, name):
            if candidate in self.tensors:
                return candidate
            legacy = candidate.replace("LayerNorm.weight", "LayerNorm.gamma")
            legacy = legacy.replace("LayerNorm.bias", "LayerNorm.beta")
            if legacy in self.tensors:
                return legacy
        return None

    def get(self, name: str, shape: tuple[int, ...]) -> np.ndarray:
        key = self._key(name)
        if key is None:
            raise CheckpointError(f"the checkpoint has no weight {self.prefix + name!r}")
        array = self.tensors[key]
        if array.dtype.kind != "f":
            raise CheckpointError(f"weight {key!r} holds {array.dtype} values: bertdesk needs floating-point weights")
        if array.shape != shape:
            raise CheckpointError(f"weight {key!r} has shape {array.shape}, the config implies {shape}")
        if not np.isfinite(array).all():
            raise CheckpointError(f"weight {key!r} holds NaN or infinite values: the checkpoint is damaged")
        return array

    def pair(self, name: str, out_features: int, in_features: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(weight, bias) of a Linear (weight shape (out, in)) or of a LayerNorm (in_features None)."""
        weight_shape = (out_features,) if in_features is None else (out_features, in_features)
        return self.get(f"{name}.weight", weight_shape), self.get(f"{name}.bias", (out_features,))


# Where each part of a layer lives in the checkpoint, per architecture: (layer prefix, {part: name}).
_LAYER_NAMES = {
    "bert": (
        "encoder.layer.{n}.",
        {
            "query": "attention.self.query",
            "key": "attention.self.key",
            "value": "attention.self.value",
            "attention_out": "attention.output.dense",
            "attention_norm": "attention.output.LayerNorm",
            "intermediate": "intermediate.dense",
            "output": "output.dense",
            "output_norm": "output.LayerNorm",
        },
    ),
    "distilbert": (
        "transformer.layer.{n}.",
        {
            "query": "attention.q_lin",
            "key": "attention.k_lin",
            "value": "attention.v_lin",
            "attention_out": "attention.out_lin",
            "attention_norm": "sa_layer_norm",
            "intermediate": "ffn.lin1",
            "output": "ffn.lin2",
            "output_norm": "output_layer_norm",
        },
    ),
}


def _layers(w: _Weights, c: ModelConfig) -> list[LayerWeights]:
    h, i = c.hidden_size, c.intermediate_size
    # (out, in) of each Linear; (width, None) for a LayerNorm
    shapes = {"query": (h, h), "key": (h, h), "value": (h, h), "attention_out": (h, h), "attention_norm": (h, None),
              "intermediate": (i, h), "output": (h, i), "output_norm": (h, None)}
    prefix, names = _LAYER_NAMES[c.model_type]
    _check_layer_count(w, c, prefix)
    return [
        LayerWeights(**{part: w.pair(prefix.format(n=n) + name, *shapes[part]) for part, name in names.items()})
        for n in range(c.num_layers)
    ]


def _check_layer_count(w: _Weights, c: ModelConfig, layer_prefix: str) -> None:
    """The config's layer count must be positive and match the layers in the weights: none may be dropped."""
    if c.num_layers < 1:
        raise CheckpointError(f"config.json gives {c.num_layers} layers: a model needs at least one")
    pattern = re.compile(f"(?:{re.escape(w.prefix)})?" + re.escape(layer_prefix).replace(r"\{n\}", r"(\d+)"))
    indices = {int(m[1]) for name in w.tensors if (m := pattern.match(name))}
    present = max(indices) + 1 if indices else 0
    if present != c.num_layers:
        raise CheckpointError(f"config.json gives {c.num_layers} layers but the weights hold {present}")


def _activation(name: str) -> Callable[[GraphBuilder, str], str]:
    def gelu_erf(g: GraphBuilder, x: str) -> str:
        # Written as x * (1 + erf(x / sqrt 2)) * 0.5, the form onnxruntime's Gelu fusion recognises.
        scaled = g.op("Div", [x, g.const(g.fresh("sqrt2"), np.array(math.sqrt(2), np.float32))])
        one = g.const(g.fresh("one"), np.array(1.0, np.float32))
        gated = g.op("Mul", [x, g.op("Add", [g.op("Erf", [scaled]), one])])
        return g.op("Mul", [gated, g.const(g.fresh("half"), np.array(0.5, np.float32))])

    def gelu_tanh(g: GraphBuilder, x: str) -> str:
        cube = g.op("Mul", [g.op("Mul", [x, x]), x])
        inner = g.op("Add", [x, g.op("Mul", [cube, g.const(g.fresh("c"), np.array(0.044715, np.float32))])])
        scaled = g.op("Mul", [inner, g.const(g.fresh("k"), np.array(math.sqrt(2 / math.pi), np.float32))])
        one = g.const(g.fresh("one"), np.array(1.0, np.float32))
        half = g.op("Mul", [x, g.const(g.fresh("half"), np.array(0.5, np.float32))])
        return g.op("Mul", [half, g.op("Add", [g.op("Tanh", [scaled]), one])])

    def relu(g: GraphBuilder, x: str) -> str:
        return g.op("Relu", [x])

    def silu(g: GraphBuilder, x: str) -> str:
        return g.op("Mul", [x, g.op("Sigmoid", [x])])

    table = {"gelu": gelu_erf, "gelu_new": gelu_tanh, "gelu_pytorch_tanh": gelu_tanh, "relu": relu, "silu": silu,
             "swish": silu}
    if name not in table:
        raise CheckpointError(f"activation {name!r} is not supported (known: {', '.join(sorted(table))})")
    return table[name]


def build_graph(config: ModelConfig, tensors: dict[str, np.ndarray], *, internals: bool = False) -> onnx.ModelProto:
    """The ONNX graph for `config` with weights `tensors` (float32), with per-layer outputs if `internals`."""
    c = config
    prefix = {"bert": "bert.", "distilbert": "distilbert."}[c.model_type]
    w = _Weights(tensors, prefix)
    h, heads, head_size = c.hidden_size, c.num_heads, c.head_size
    act = _activation(c.hidden_act)
    g = GraphBuilder()

    g.add_input("input_ids", TensorProto.INT64, ["batch", "sequence"])
    g.add_input("attention_mask", TensorProto.INT64, ["batch", "sequence"])
    if c.model_type == "bert":
        g.add_input("token_type_ids", TensorProto.INT64, ["batch", "sequence"])
    # An input that is also an initializer: zeros unless the caller feeds another mask.
    g.add_input(ATTENTION_BIAS, TensorProto.FLOAT, ["bias_batch", "bias_heads", "bias_query", "bias_key"])
    g.const(ATTENTION_BIAS, np.zeros((1, 1, 1, 1), np.float32))

    # Embeddings: word + learned position (+ segment) → LayerNorm.
    word = g.const("embeddings.word_embeddings", w.get("embeddings.word_embeddings.weight", (c.vocab_size, h)))
    x = g.op("Gather", [word, "input_ids"], axis=0)
    # Position ids are 0..seq-1: the first seq rows of the learned position table.
    seq_len = g.op("Shape", ["input_ids"], start=1, end=2)
    zero = g.const("zero_1d", np.array([0], np.int64))
    position_table = g.const(
        "embeddings.position_embeddings", w.get("embeddings.position_embeddings.weight", (c.max_positions, h))
    )
    x = g.op("Add", [x, g.op("Slice", [position_table, zero, seq_len, zero])])
    if c.model_type == "bert":
        segment_table = g.const(
            "embeddings.token_type_embeddings",
            w.get("embeddings.token_type_embeddings.weight", (c.type_vocab_size, h)),
        )
        x = g.op("Add", [x, g.op("Gather", [segment_table, "token_type_ids"], axis=0)])
    hidden = g.layer_norm(x, *w.pair("embeddings.LayerNorm", h), c.layer_norm_eps, "embeddings.LayerNorm",
                          output="hidden_states.0")

    # Additive mask (batch, 1, 1, key): 0 where attended, the float minimum at padding, as transformers does.
    mask = g.op("Cast", ["attention_mask"], to=TensorProto.FLOAT)
    inverted = g.op("Sub", [g.const("one_f32", np.array(1.0, np.float32)), mask])
    minimum = g.const("float_min", np.array(np.finfo(np.float32).min, np.float32))
    axes = g.const("axes_1_2", np.array([1, 2], np.int64))
    padding_bias = g.op("Unsqueeze", [g.op("Mul", [inverted, minimum]), axes])
    bias = g.op("Add", [padding_bias, ATTENTION_BIAS], "mask_bias")

    split_heads = g.const("split_heads_shape", np.array([0, 0, heads, head_size], np.int64))
    merge_heads = g.const("merge_heads_shape", np.array([0, 0, h], np.int64))
    scale = g.const("attention_scale", np.array(1 / math.sqrt(head_size), np.float32))
    for n, layer in enumerate(_layers(w, c)):
        name = f"layer.{n}"

        q = _project_heads(g, hidden, layer.query, f"{name}.query", split_heads, [0, 2, 1, 3])
        k = _project_heads(g, hidden, layer.key, f"{name}.key", split_heads, [0, 2, 3, 1])
        v = _project_heads(g, hidden, layer.value, f"{name}.value", split_heads, [0, 2, 1, 3])
        scores = g.op("Add", [g.op("Mul", [g.op("MatMul", [q, k]), scale]), bias])
        probs = g.op("Softmax", [scores], f"attentions.{n}", axis=-1)
        context = g.op("Transpose", [g.op("MatMul", [probs, v])], perm=[0, 2, 1, 3])
        context = g.op("Reshape", [context, merge_heads])
        attended = g.op("Add", [g.linear(context, *layer.attention_out, f"{name}.attention_out"), hidden])
        attended = g.layer_norm(attended, *layer.attention_norm, c.layer_norm_eps, f"{name}.attention_norm")
        inner = act(g, g.linear(attended, *layer.intermediate, f"{name}.intermediate"))
        out = g.op("Add", [g.linear(inner, *layer.output, f"{name}.output"), attended])
        hidden = g.layer_norm(out, *layer.output_norm, c.layer_norm_eps, f"{name}.output_norm",
                              output=f"hidden_states.{n + 1}")

    g.op("Identity", [hidden], "last_hidden_state")
    g.add_output("last_hidden_state", ["batch", "sequence", h])
    _add_head(g, w, c, hidden)
    if internals:
        for n in range(c.num_layers + 1):
            g.add_output(f"hidden_states.{n}", ["batch", "sequence", h])
        for n in range(c.num_layers):
            g.add_output(f"attentions.{n}", ["batch", heads, "sequence", "sequence"])
    return g.build(
        c.architecture,
        {"bertdesk.converter": __version__, "bertdesk.task": c.task, "bertdesk.model_type": c.model_type},
    )


def _project_heads(
    g: GraphBuilder, x: str, weights: tuple[np.ndarray, np.ndarray], name: str, split_shape: str, perm: list[int]
) -> str:
    """A linear projection split into heads: (batch, heads, seq, head) or, for keys, (batch, heads, head, seq)."""
    projected = g.linear(x, *weights, name)
    return g.op("Transpose", [g.op("Reshape", [projected, split_shape])], perm=perm)


def _add_head(g: GraphBuilder, w: _Weights, c: ModelConfig, hidden: str) -> None:
    h = c.hidden_size
    if c.task == TASK_QA:
        logits = g.linear(hidden, *w.pair("qa_outputs", 2, h), "qa_outputs")
        start, end = g.fresh("start"), g.fresh("end")
        sizes = g.const("qa_split", np.array([1, 1], np.int64))
        g.nodes.append(onnx.helper.make_node("Split", [logits, sizes], [start, end], name="qa_split_node", axis=-1))
        axes = g.const("last_axis", np.array([-1], np.int64))
        g.op("Squeeze", [start, axes], "start_logits")
        g.op("Squeeze", [end, axes], "end_logits")
        g.add_output("start_logits", ["batch", "sequence"])
        g.add_output("end_logits", ["batch", "sequence"])
        return
    one = g.const("one_1d", np.array([1], np.int64))
    zero = g.const("zero_1d_head", np.array([0], np.int64))
    cls_vector = g.op("Squeeze", [g.op("Slice", [hidden, zero, one, one]), one])
    if c.task == TASK_CLASSIFICATION:
        num_labels = _num_labels(w, c)
        if c.model_type == "bert":
            pooled = g.op("Tanh", [g.linear(cls_vector, *w.pair("pooler.dense", h, h), "pooler")])
        else:
            pooled = g.op("Relu", [g.linear(cls_vector, *w.pair("pre_classifier", h, h), "pre_classifier")])
        g.op("Identity", [g.linear(pooled, *w.pair("classifier", num_labels, h), "classifier")], "logits")
        g.add_output("logits", ["batch", num_labels])
    elif c.task == TASK_ENCODER and c.model_type == "bert" and w.has("pooler.dense.weight"):
        g.op("Tanh", [g.linear(cls_vector, *w.pair("pooler.dense", h, h), "pooler")], "pooler_output")
        g.add_output("pooler_output", ["batch", h])


def _num_labels(w: _Weights, c: ModelConfig) -> int:
    key = w._key("classifier.weight")
    if key is None:
        raise CheckpointError("the checkpoint has no classifier.weight for its sequence-classification head")
    num_labels = w.tensors[key].shape[0]
    if c.labels and len(c.labels) != num_labels:
        raise CheckpointError(f"config.json names {len(c.labels)} labels, the classifier has {num_labels} outputs")
    return num_labels


def _read_source(source: Path) -> ModelConfig:
    config = read_config(source / "config.json", error=CheckpointError)
    if not (source / "tokenizer.json").is_file():
        raise CheckpointError(f"{source} has no tokenizer.json (a fast tokenizer file is needed)")
    tokenizer = load_tokenizer(source / "tokenizer.json")
    largest_id = tokenizer.get_vocab_size(with_added_tokens=True) - 1
    if largest_id >= config.vocab_size:
        raise CheckpointError(
            f"the tokenizer has ids up to {largest_id} but the model embeds only {config.vocab_size} tokens"
        )
    return config


def write_bundle(
    source: Path,
    folder: Path,
    *,
    internals: bool = False,
    handle: JobHandle | None = None,
    extra_metadata: dict | None = None,
) -> ModelConfig:
    """Convert the checkpoint folder `source` into the bundle files in the existing, empty `folder`."""
    handle = ensure_handle(handle)
    config = _read_source(source)
    handle.progress(0.05, "reading weights")
    tensors = read_checkpoint(source)
    handle.check()
    handle.progress(0.3, "building the graph")
    model = build_graph(config, tensors, internals=internals)
    handle.check()
    handle.progress(0.7, "writing the bundle")
    try:
        weight_bytes = sum(t.nbytes for t in tensors.values())
        onnx.save_model(
            model,
            str(folder / "model.onnx"),
            save_as_external_data=weight_bytes > _EXTERNAL_DATA_BYTES,
            location="model.onnx.data",
        )
        # Written anew, not copied with their modes: the bundle's files get the user's umask.
        for name in ("config.json", *TOKENIZER_FILES):
            if name == "config.json" or os.path.lexists(source / name):
                limit = MAX_TOKENIZER_BYTES if name in ("tokenizer.json", "vocab.txt") else MAX_JSON_BYTES
                (folder / name).write_bytes(read_small_file(source / name, source, limit, CheckpointError))
        metadata = {
            "format": 1,
            MADE_BY_KEY: MADE_BY,
            "converter": f"bertdesk {__version__}",
            "source": str(source.resolve()),
            "task": config.task,
            "internals": internals,
            **read_pooling(source, CheckpointError),
            **(extra_metadata or {}),
        }
        (folder / BUNDLE_METADATA).write_text(json.dumps(metadata, indent=2), encoding="utf-8")
    except OSError as exc:
        raise storage_error(f"cannot write the bundle into {folder.parent}", exc) from exc
    return config


def convert_checkpoint(
    source: str | Path,
    out: str | Path,
    *,
    internals: bool = False,
    force: bool = False,
    handle: JobHandle | None = None,
) -> Path:
    """Convert the Hugging Face checkpoint folder `source` into a bundle folder `out`; returns its absolute path.

    The bundle is written beside `out`, checked to load and run, and swapped into place, so a crash leaves the
    old bundle or the new one. `force` replaces only a bundle bertdesk made, never the source or a folder
    holding it; conversions to the same `out` take turns.
    """
    handle = ensure_handle(handle)
    source = Path(source)
    target = output_path(out)
    _read_source(source)  # a bad checkpoint is refused before anything is written
    check_separate(source, target)
    prepare_parent(target)
    taken = None if force else CheckpointError(f"{target} already exists", ReplaceExisting())
    check_target(target, taken)  # before the weights are read; again under the lock

    def build(staging: Path) -> None:
        write_bundle(source, staging, internals=internals, handle=handle.sub(0.0, 0.9))

    install_bundle(target, build, handle=handle, taken=taken, error=CheckpointError)
    handle.progress(1.0, "converted")
    return target
