"""Lean sessions: a bundle's graph run without its per-layer outputs, its weights read from the one model.onnx.

A bundle converted with internals lists every layer's hidden states and attention probabilities as graph outputs,
and every bertdesk graph takes an overridable `attention_bias` input (zeros by default). A graph output cannot share
memory with the tensors after it, and an initializer that is also an input cannot be constant-folded ("Initializer
attention_bias appears in graph inputs"). The lean graph drops both, at load time and in memory only: its weights
stay where they are on disk, referenced as external data at their byte offsets inside model.onnx (`load_skeleton`),
so onnxruntime reads them once and no second copy of the graph is written or held.
"""

from __future__ import annotations

import mmap
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
from onnx import numpy_helper

from bertdesk.core.bundles.names import ATTENTION_BIAS

# Windows builds of onnxruntime log telemetry through ETW unless told not to (ORT_DISABLE_TELEMETRY, set when bertdesk
# is imported, turns it off on the others); every session bertdesk makes is made after this module is imported.
ort.disable_telemetry_events()

#: Graph outputs a lean graph does not produce.
INTERNAL_PREFIXES = ("hidden_states.", "attentions.")
# Weights smaller than this stay inline in the lean graph: referencing them costs more than it saves.
_EXTERNAL_MIN_BYTES = 1024
_FOLDER_OPTION = "session.model_external_initializers_file_folder_path"


def lean_graph(model: onnx.ModelProto) -> onnx.ModelProto:
    """Edit `model` in place into its lean form and return it.

    Drops the per-layer graph outputs (`hidden_states.*`, `attentions.*`) and the nodes only they need; turns the
    `attention_bias` input into a constant and, where it is all zeros, removes the additions of it, so the mask
    arithmetic folds. The lean graph gives the same task outputs as the full one.
    """
    graph = model.graph
    kept = [o for o in graph.output if not o.name.startswith(INTERNAL_PREFIXES)]
    del graph.output[:]
    graph.output.extend(kept)
    _fold_attention_bias(graph)
    _drop_dead_nodes(graph)
    return model


def _fold_attention_bias(graph: onnx.GraphProto) -> None:
    bias = next((t for t in graph.initializer if t.name == ATTENTION_BIAS), None)
    if bias is None:
        return
    inputs = [i for i in graph.input if i.name != ATTENTION_BIAS]
    del graph.input[:]
    graph.input.extend(inputs)
    if np.any(numpy_helper.to_array(bias)):
        return
    # x + zeros is x wherever the zeros broadcast into x's shape: (1, 1, 1, 1) against the (batch, 1, 1, key) mask.
    if any(d != 1 for d in bias.dims):
        return
    for node in [n for n in graph.node if n.op_type == "Add" and ATTENTION_BIAS in n.input]:
        other = next((name for name in node.input if name != ATTENTION_BIAS), None)
        if other is None or node.output[0] in {o.name for o in graph.output}:
            continue
        for consumer in graph.node:
            for k, name in enumerate(consumer.input):
                if name == node.output[0]:
                    consumer.input[k] = other
        graph.node.remove(node)


def _drop_dead_nodes(graph: onnx.GraphProto) -> None:
    needed = {o.name for o in graph.output}
    live = []
    for node in reversed(graph.node):
        if any(name in needed for name in node.output):
            live.append(node)
            needed.update(node.input)
            for attribute in node.attribute:  # subgraphs (If/Loop) read outer names too
                if attribute.g.node:
                    needed.update(name for n in attribute.g.node for name in n.input)
    live.reverse()
    del graph.node[:]
    graph.node.extend(live)
    initializers = [t for t in graph.initializer if t.name in needed]
    del graph.initializer[:]
    graph.initializer.extend(initializers)


def _varint(buffer: mmap.mmap | bytes, pos: int) -> tuple[int, int]:
    value, shift = 0, 0
    while True:
        if pos >= len(buffer) or shift > 63:
            raise ValueError(f"a number at byte {pos} runs past the end of the file or of 64 bits")
        byte = buffer[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value, pos
        shift += 7


class _Budget:
    """What reading one graph file may still take: fields (so no file makes a Python object of each of millions of
    tiny fields) and bytes kept in memory (the graph without its large weights)."""

    def __init__(self) -> None:
        self.fields, self.bytes = _MAX_FIELDS, _MAX_SKELETON_BYTES

    def field(self) -> None:
        """Spend one field."""
        self.fields -= 1
        if self.fields < 0:
            raise ValueError(f"it has more than {_MAX_FIELDS:,} fields, far more than any model's graph")

    def keep(self, buffer: mmap.mmap, start: int, end: int) -> bytes:
        """buffer[start:end], once its bytes are spent."""
        self.bytes -= end - start
        if self.bytes < 0:
            raise ValueError(f"its graph without the weights is larger than {_MAX_SKELETON_BYTES >> 20} MB, far "
                             "larger than any model's")
        return buffer[start:end]


def _fields(buffer: mmap.mmap, start: int, end: int, budget: _Budget) -> Iterator[tuple[int, int, int, int]]:
    """(field number, field start, value start, value end) of each field of the message at buffer[start:end];
    the value of a length-delimited field is its payload. Each field is spent from `budget`."""
    pos = start
    while pos < end:
        first = pos
        key, pos = _varint(buffer, pos)
        field, wire = key >> 3, key & 7
        if field == 0:
            raise ValueError(f"field number 0 at byte {first}: this is no protobuf message")
        budget.field()
        if wire == 0:
            value, pos = _varint(buffer, pos)
            yield field, first, pos, pos
            continue
        if wire == 2:
            length, pos = _varint(buffer, pos)
        elif wire in (1, 5):
            length = 8 if wire == 1 else 4
        else:
            raise ValueError(f"unsupported protobuf wire type {wire} at byte {pos}")
        if pos + length > end:
            raise ValueError(f"a field at byte {first} runs past the end of its message")
        yield field, first, pos, pos + length
        pos += length


# Field numbers of onnx.proto: ModelProto.graph, GraphProto.initializer, TensorProto.name and .raw_data.
_MODEL_GRAPH, _GRAPH_INITIALIZER, _TENSOR_NAME, _TENSOR_RAW_DATA = 7, 5, 8, 9
#: Protobuf's own limit on a message, so on an ONNX file (larger models keep their weights in external data).
MAX_GRAPH_BYTES = (1 << 31) - 1
# Fields of a file read at most (its nodes, initializers and their parts) and bytes kept in memory (its weights
# of 1 kB or more left out): all-MiniLM-L6-v2's graph has 947 fields and keeps 20 kB (its int8 one 1,666 and 147 kB).
_MAX_FIELDS = 1_000_000
_MAX_SKELETON_BYTES = 512 * 1024 * 1024
# Wire types of ModelProto's fields by number: 0 for numbers, 2 for text and messages.
_MODEL_WIRE_TYPES = {f.number: 2 if f.type in (f.TYPE_STRING, f.TYPE_BYTES, f.TYPE_MESSAGE) else 0
                     for f in onnx.ModelProto.DESCRIPTOR.fields}


def check_graph_file(path: Path) -> None:
    """Raise ValueError unless `path` could be an ONNX graph, from its size and first bytes alone: a regular file
    of at most 2 GB that starts with a field of ONNX's ModelProto (a zero-filled file starts with none)."""
    info = os.stat(path)
    if not stat.S_ISREG(info.st_mode):
        raise ValueError("it is not a regular file")
    if info.st_size == 0:
        raise ValueError("the file is empty")
    if info.st_size > MAX_GRAPH_BYTES:
        raise ValueError(f"it is {info.st_size / 1e9:.1f} GB; an ONNX file holds at most 2 GB")
    with path.open("rb") as file:
        head = file.read(16)
    key, _ = _varint(head, 0)
    if _MODEL_WIRE_TYPES.get(key >> 3) != key & 7:
        raise ValueError(f"it does not start as an ONNX model does (its first bytes are {head[:8].hex(' ')})")


def load_skeleton(path: str | Path) -> onnx.ModelProto:
    """The ONNX graph at `path` with its large weights left in the file: each initializer of 1 kB or more refers
    to its raw bytes at their offset inside the file itself (external data), so neither the file nor its weights
    are read into memory. Raises ValueError (or onnx's DecodeError) for a file that is not a valid graph (see
    `check_graph_file`), or one far larger than any graph once its weights are left out (see `_Budget`)."""
    path = Path(path)
    check_graph_file(path)
    budget = _Budget()
    with path.open("rb") as file, mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ) as buffer:
        model_parts, graph_parts, tensors = [], [], []
        for field, first, start, end in _fields(buffer, 0, len(buffer), budget):
            if field != _MODEL_GRAPH:
                model_parts.append(budget.keep(buffer, first, end))
                continue
            for graph_field, g_first, t_start, t_end in _fields(buffer, start, end, budget):
                if graph_field == _GRAPH_INITIALIZER:
                    tensors.append(_tensor_without_raw_data(buffer, t_start, t_end, path.name, budget))
                else:
                    graph_parts.append(budget.keep(buffer, g_first, t_end))
    model = onnx.ModelProto.FromString(b"".join(model_parts))
    model.graph.MergeFromString(b"".join(graph_parts))
    model.graph.initializer.extend(tensors)
    return model


def _tensor_without_raw_data(buffer: mmap.mmap, start: int, end: int, location: str,
                             budget: _Budget) -> onnx.TensorProto:
    kept, raw = [], None
    for field, first, f_start, f_end in _fields(buffer, start, end, budget):
        if field == _TENSOR_RAW_DATA and f_end - f_start >= _EXTERNAL_MIN_BYTES:
            raw = (f_start, f_end - f_start)
        else:
            kept.append(budget.keep(buffer, first, f_end))
    tensor = onnx.TensorProto.FromString(b"".join(kept))
    if raw is not None:
        tensor.data_location = onnx.TensorProto.EXTERNAL
        for key, value in (("location", location), ("offset", raw[0]), ("length", raw[1])):
            tensor.external_data.add(key=key, value=str(value))
    return tensor


def skeleton_session(graph_path: str | Path, options: ort.SessionOptions,
                     skeleton: onnx.ModelProto | None = None) -> ort.InferenceSession:
    """An onnxruntime session of `skeleton` (by default `load_skeleton(graph_path)`), its weights read from
    `graph_path`'s folder: onnxruntime reads each weight once instead of parsing the whole file (half the peak
    memory). `options` gains that folder as the place of external data."""
    graph_path = Path(graph_path)
    serialized = (skeleton if skeleton is not None else load_skeleton(graph_path)).SerializeToString()
    options.add_session_config_entry(_FOLDER_OPTION, str(graph_path.parent.resolve()))
    return ort.InferenceSession(serialized, options, providers=["CPUExecutionProvider"])


def lean_session(graph_path: str | Path, options: ort.SessionOptions,
                 skeleton: onnx.ModelProto | None = None) -> ort.InferenceSession:
    """An onnxruntime session of `graph_path`'s lean graph (see `lean_graph`), weights read from the file itself.

    `skeleton` is the graph as `load_skeleton(graph_path)` gives it (edited in place), if the caller has it.
    Raises whatever onnx/onnxruntime raise for unreadable graphs; callers wrap that in their own error.
    """
    graph_path = Path(graph_path)
    return skeleton_session(graph_path, options, lean_graph(skeleton if skeleton is not None
                                                           else load_skeleton(graph_path)))


#: The [CLS] row of `last_hidden_state`, (batch, hidden): what a [CLS]-only run gives instead of every token's row.
CLS_STATE = "cls_state"
#: Outputs that need only the [CLS] row of the last layer.
CLS_OUTPUTS = frozenset({"logits", "pooler_output", CLS_STATE})


def cls_graph(model: onnx.ModelProto) -> onnx.ModelProto | None:
    """Edit a lean bertdesk graph (`lean_graph`) in place so that its last layer computes only the [CLS] row, or
    return None (the model untouched) for a graph not laid out as bertdesk's converter writes it.

    Every layer but the last is needed over all tokens; the last one's keys and values are too, but its query,
    attention output, residual, LayerNorms and feed-forward only for the row the head reads. The result gives the
    outputs in `CLS_OUTPUTS` that the graph has (`last_hidden_state` becomes `CLS_STATE`), about 1/layers fewer
    FLOPs.
    """
    graph = model.graph
    layers = {int(t.name.split(".")[1]) for t in graph.initializer
              if t.name.startswith("layer.") and t.name.endswith(".query.weight_t")}
    if not layers or layers != set(range(len(layers))):
        return None
    last = len(layers) - 1
    layer_in, layer_out = f"hidden_states.{last}", f"hidden_states.{last + 1}"
    consumers: dict[str, list[onnx.NodeProto]] = {}
    for node in graph.node:
        for name in node.input:
            consumers.setdefault(name, []).append(node)
    readers = consumers.get(layer_in, [])
    weights = {f"layer.{last}.{part}.weight_t": part for part in ("query", "key", "value")}
    projections = {weights[w]: n for n in readers if n.op_type == "MatMul" for w in n.input if w in weights}
    residuals = [n for n in readers if n.op_type == "Add"]
    if len(projections) != 3 or len(residuals) != 1 or len(readers) != 4:
        return None
    outputs = {o.name: o for o in graph.output}
    head_readers = [n for n in consumers.get(layer_out, []) if n.op_type != "Identity"]
    identity = [n for n in consumers.get(layer_out, []) if n.op_type == "Identity"]
    # Besides last_hidden_state (read by nothing in the graph: a few-shot head pools it), only [CLS] readers may
    # follow: the head's Slice of row 0 of the sequence axis. A bias kept in the graph (not all zeros) may be shaped
    # for every query row: such graphs stay as they are.
    if (layer_out in outputs or "last_hidden_state" not in outputs or any(ATTENTION_BIAS in n.input for n in graph.node)
            or any(not _slices_row_zero(n, graph) for n in head_readers)
            or [n.output[0] for n in identity] != ["last_hidden_state"] or consumers.get("last_hidden_state")):
        return None

    cls_in = f"{layer_in}.cls"
    starts, ends, axes = (f"cls_graph.{what}" for what in ("starts", "ends", "axes"))
    for name, value in ((starts, 0), (ends, 1), (axes, 1)):
        graph.initializer.append(numpy_helper.from_array(np.array([value], np.int64), name))
    graph.node.insert(_position(graph, layer_in) + 1,
                      onnx.helper.make_node("Slice", [layer_in, starts, ends, axes], [cls_in], name=cls_in))
    for node in (projections["query"], residuals[0]):
        node.input[list(node.input).index(layer_in)] = cls_in
    for node in identity:
        graph.node.remove(node)
    graph.node.append(onnx.helper.make_node("Squeeze", [layer_out, axes], [CLS_STATE], name=CLS_STATE))
    width = outputs["last_hidden_state"].type.tensor_type.shape.dim[2]
    kept = [o for o in graph.output if o.name in CLS_OUTPUTS]
    del graph.output[:]
    graph.output.extend(kept)
    graph.output.append(onnx.helper.make_tensor_value_info(
        CLS_STATE, onnx.TensorProto.FLOAT, ["batch", width.dim_value or width.dim_param or "hidden"]))
    _drop_dead_nodes(graph)
    return model


def _position(graph: onnx.GraphProto, name: str) -> int:
    return next(k for k, node in enumerate(graph.node) if name in node.output)


def _slices_row_zero(node: onnx.NodeProto, graph: onnx.GraphProto) -> bool:
    """A Slice taking rows 0:1 of axis 1 (the sequence), as the converter's head does."""
    if node.op_type != "Slice" or len(node.input) < 4:
        return False
    constants = {t.name: numpy_helper.to_array(t) for t in graph.initializer if t.name in node.input[1:4]}
    if len(constants) < len(set(node.input[1:4])):
        return False
    starts, ends, axes = (constants[name].tolist() for name in node.input[1:4])
    return starts == [0] and ends == [1] and axes == [1]
