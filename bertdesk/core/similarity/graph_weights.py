"""The weights the Similarity views read straight from a bundle's ONNX graph: the word, position and segment
embedding tables and each layer's query/key projections.

Tables are found by the names every BERT exporter gives them (bertdesk: `embeddings.position_embeddings`; Hugging
Face exports: `...embeddings.position_embeddings.weight`); the word table is the one the graph gathers `input_ids`
from; a layer's query/key weights are found from their biases (`layer.N.query.bias`, `encoder.layer.N.attention.
self.query.bias`, `transformer.layer.N.attention.q_lin.bias`) through the Add and MatMul that use them.
"""

from __future__ import annotations

import re
import threading
import weakref
from dataclasses import dataclass

import numpy as np
import onnx
from google.protobuf.message import DecodeError
from onnx import numpy_helper

from bertdesk.core.bundles.bundle import Bundle
from bertdesk.core.errors import BundleError


@dataclass(frozen=True)
class Projection:
    """x @ weight + bias, with `weight` in the (in, out) layout of the graph's MatMul."""

    weight: np.ndarray
    bias: np.ndarray

    def __call__(self, x: np.ndarray) -> np.ndarray:
        """Project the rows of `x`."""
        return x @ self.weight + self.bias


@dataclass(frozen=True)
class GraphWeights:
    """Embedding tables and per-layer query/key projections; a part the graph does not show is None."""

    word_embeddings: np.ndarray | None  # (vocab, hidden)
    position_embeddings: np.ndarray | None  # (max positions, hidden)
    token_type_embeddings: np.ndarray | None  # (types, hidden)
    queries: list[Projection] | None  # one per layer
    keys: list[Projection] | None


_cache: weakref.WeakKeyDictionary[Bundle, GraphWeights] = weakref.WeakKeyDictionary()
_lock = threading.Lock()


def graph_weights(bundle: Bundle) -> GraphWeights:
    """The weights of `bundle`'s graph, read once per bundle (about 0.3 s for a 90 MB graph)."""
    with _lock:
        known = _cache.get(bundle)
    if known is not None:
        return known
    try:
        model = onnx.load(str(bundle.graph_path))
    except (DecodeError, OSError, ValueError, RuntimeError) as exc:
        raise BundleError(f"cannot read the weights of {bundle.graph_path}: {exc}") from exc
    weights = read_weights(model, bundle.config.num_layers)
    with _lock:
        return _cache.setdefault(bundle, weights)


def read_weights(model: onnx.ModelProto, num_layers: int) -> GraphWeights:
    """Find the embedding tables and query/key projections in `model` (see the module's docstring)."""
    initializers = {t.name: t for t in model.graph.initializer}

    def table(*suffixes: str) -> np.ndarray | None:
        for name, tensor in initializers.items():
            if name.endswith(suffixes) and len(tensor.dims) == 2:
                return numpy_helper.to_array(tensor).astype(np.float32)
        return None

    word = None
    for node in model.graph.node:
        gathers_ids = node.op_type == "Gather" and len(node.input) == 2 and node.input[1] == "input_ids"
        if gathers_ids and node.input[0] in initializers:
            word = numpy_helper.to_array(initializers[node.input[0]]).astype(np.float32)
            break
    queries = _projections(model, initializers, num_layers, ("query", "attention.self.query", "attention.q_lin"))
    keys = _projections(model, initializers, num_layers, ("key", "attention.self.key", "attention.k_lin"))
    return GraphWeights(
        word_embeddings=word,
        position_embeddings=table("position_embeddings", "position_embeddings.weight"),
        token_type_embeddings=table("token_type_embeddings", "token_type_embeddings.weight"),
        queries=queries,
        keys=keys,
    )


def _projections(
    model: onnx.ModelProto, initializers: dict[str, onnx.TensorProto], num_layers: int, parts: tuple[str, ...]
) -> list[Projection] | None:
    """Each layer's projection whose bias is named `...layer.N.<part>.bias`, or None if one is missing."""
    producers = {out: node for node in model.graph.node for out in node.output}
    adds = {name: node for node in model.graph.node if node.op_type == "Add" for name in node.input}
    found = []
    for n in range(num_layers):
        pattern = re.compile(rf"(^|\.)layer\.{n}\.({'|'.join(map(re.escape, parts))})\.bias$")
        bias_name = next((name for name in initializers if pattern.search(name)), None)
        add = adds.get(bias_name) if bias_name else None
        if add is None:
            return None
        other = next((name for name in add.input if name != bias_name), None)
        matmul = producers.get(other)
        if matmul is None or matmul.op_type != "MatMul":
            return None
        weight_name = next((name for name in matmul.input if name in initializers), None)
        if weight_name is None:
            return None
        weight = numpy_helper.to_array(initializers[weight_name]).astype(np.float32)
        bias = numpy_helper.to_array(initializers[bias_name]).astype(np.float32)
        if weight.ndim != 2 or weight.shape[1] != bias.shape[0]:
            return None
        found.append(Projection(weight, bias))
    return found
