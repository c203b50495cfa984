"""Exposing the per-layer hidden states and attention probabilities of an unfused BERT-family ONNX graph.

Public exports (HF optimum, torch.onnx) keep every layer's attention Softmax and LayerNorms as separate ops; this
module finds them by graph structure, not by node names (those differ between exporters), and adds graph outputs
for them. Hidden states follow the Hugging Face convention: index 0 is the embeddings output after its LayerNorm,
index i the output of layer i.
"""

from __future__ import annotations

import math
from collections import defaultdict, deque
from dataclasses import dataclass

import onnx
from onnx import helper, numpy_helper, shape_inference

from bertdesk.core.errors import IntrospectionError

_MS = "com.microsoft"
# Ops written by onnxruntime's transformer optimizer (com.microsoft domain, plus ONNX's own opset-23 Attention); they
# swallow the per-layer Softmax and LayerNorm tensors. Ordered so the op that explains the most is named first.
_FUSED_OPS = (
    "Attention",
    "MultiHeadAttention",
    "PackedAttention",
    "PackedMultiHeadAttention",
    "QAttention",
    "GroupQueryAttention",
    "LongformerAttention",
    "SparseAttention",
    "DecoderMaskedMultiHeadAttention",
    "EmbedLayerNormalization",
    "QEmbedLayerNormalization",
    "SkipLayerNormalization",
    "SkipSimplifiedLayerNormalization",
    "BiasSoftmax",
    "FastGelu",
    "BiasGelu",
    "Gelu",
    "QuickGelu",
)
# Fused ops that each compute one layer's whole attention.
_FUSED_LAYER_OPS = {"Attention", "MultiHeadAttention", "PackedAttention", "PackedMultiHeadAttention", "QAttention"}
# Ops that can compute query @ key^T; the backward search from a Softmax stops at them and at Gemm.
_MATMULS = {"MatMul", "FusedMatMul", "Einsum"}
_SMALL_INITIALIZER = 1024  # elements; larger ones are weights, smaller ones shapes and scalars


@dataclass(frozen=True)
class Internals:
    """Names of the graph outputs added by `expose_internals`."""

    hidden_states: list[str]  # "hidden_states.0" ... "hidden_states.L"
    attentions: list[str]  # "attentions.0" ... "attentions.{L-1}"


def has_fused_attention(model: onnx.ModelProto) -> str | None:
    """Return the name of a fused transformer op in the graph (e.g. "Attention", "SkipLayerNormalization"), or None."""
    found = {node.op_type for node in model.graph.node if _domain(node) == _MS or node.op_type == "Attention"}
    return next((op for op in _FUSED_OPS if op in found), None)


def expose_internals(model: onnx.ModelProto, num_layers: int) -> tuple[onnx.ModelProto, Internals]:
    """Return a copy of `model` with per-layer hidden states and attention probabilities as extra graph outputs.

    The outputs are named "hidden_states.0" ... "hidden_states.{num_layers}" and "attentions.0" ...
    "attentions.{num_layers - 1}", made by Identity nodes so the original tensors keep their names; the original
    outputs stay first and unchanged. A graph that already has all these outputs is returned as is.
    Raises IntrospectionError when the graph has fused ops or its Softmax / LayerNorm sites don't match `num_layers`.
    """
    if num_layers < 1:
        raise ValueError(f"num_layers must be at least 1, got {num_layers}")
    internals = Internals(
        hidden_states=[f"hidden_states.{i}" for i in range(num_layers + 1)],
        attentions=[f"attentions.{i}" for i in range(num_layers)],
    )
    wanted = internals.hidden_states + internals.attentions
    result = onnx.ModelProto()
    result.CopyFrom(model)
    graph = result.graph
    if {out.name for out in graph.output} >= set(wanted):
        return result, internals

    fused = has_fused_attention(model)
    if fused:
        raise IntrospectionError(
            f"This ONNX graph has been optimized for onnxruntime (it contains the fused op {fused}), so its per-layer "
            "attentions and hidden states cannot be read; use an unoptimized export."
        )
    producers = {name: node.op_type for node in graph.node for name in node.output}
    expected_ops = {name: "LayerNormalization" for name in internals.hidden_states} | {
        name: "Softmax" for name in internals.attentions
    }
    if all(producers.get(name) == op for name, op in expected_ops.items()):
        # Written by bertdesk's converter without --attentions: the tensors are there under these names already.
        existing = {out.name for out in graph.output}
        for name in wanted:
            if name not in existing:
                graph.output.add(name=name).type.tensor_type.elem_type = onnx.TensorProto.FLOAT
        return result, internals
    taken = _tensor_names(graph) & set(wanted)
    foreign = sorted(name for name in taken if producers.get(name) != expected_ops[name])
    if foreign:
        raise IntrospectionError(
            f"This ONNX graph already has tensors named {', '.join(foreign[:4])}{' …' if len(foreign) > 4 else ''}, "
            "made by other ops than bertdesk's converter uses for them, so bertdesk cannot add its own outputs "
            "under those names."
        )
    if taken:
        raise IntrospectionError(
            f"This ONNX graph has bertdesk's per-layer tensors for fewer than the {num_layers} layers its "
            f"config.json says (it lacks {sorted(set(wanted) - taken, key=wanted.index)[0]})."
        )

    nodes = _topological([node for node in graph.node if _well_formed(node)])
    constants = _constants(graph, nodes)
    attentions = _attention_softmaxes(nodes, constants)
    if len(attentions) != num_layers:
        raise IntrospectionError(
            f"Found {len(attentions)} attention Softmax op(s) in the ONNX graph but the model has {num_layers} layers."
        )
    hidden = _hidden_states(_layer_norms(nodes, constants), attentions)
    sources = hidden + [name for _, name in attentions]

    types = _tensor_types(model)
    fallback = next(
        (out.type.tensor_type.elem_type for out in model.graph.output if out.type.tensor_type.elem_type),
        onnx.TensorProto.FLOAT,
    )
    for source, name in zip(sources, wanted, strict=True):
        graph.node.append(helper.make_node("Identity", [source], [name], name=f"bertdesk_expose_{name}"))
        output = graph.output.add(name=name)
        if source in types:
            output.type.CopyFrom(types[source])
        else:
            output.type.tensor_type.elem_type = fallback
    return result, internals


def count_layers(model: onnx.ModelProto) -> int | None:
    """How many encoder layers the graph has: its fused attention ops, else its attention Softmax ops; None when
    the graph has neither (it computes attention some other way)."""
    fused = [node for node in model.graph.node if node.op_type in _FUSED_LAYER_OPS and _domain(node) in ("", _MS)]
    if fused:
        return len(fused)
    nodes = _topological([node for node in model.graph.node if _well_formed(node)])
    return len(_attention_softmaxes(nodes, _constants(model.graph, nodes))) or None


def count_heads(model: onnx.ModelProto, hidden_size: int) -> int | None:
    """The attention heads of the graph, where it says: a fused attention op's num_heads, or a Reshape to a constant
    (batch, sequence, heads, head size) shape; None when the graph computes its head split at run time."""
    for node in model.graph.node:
        if node.op_type in _FUSED_LAYER_OPS:
            heads = next((a.i for a in node.attribute if a.name == "num_heads"), 0)
            if heads > 0:
                return heads
    shapes = {
        init.name: init
        for init in model.graph.initializer
        if list(init.dims) == [4] and init.data_type == onnx.TensorProto.INT64
        and init.data_location != onnx.TensorProto.EXTERNAL
    }
    for node in model.graph.node:
        if node.op_type == "Reshape" and len(node.input) == 2 and node.input[1] in shapes:
            try:
                heads, head_size = (int(v) for v in numpy_helper.to_array(shapes[node.input[1]])[2:])
            except ValueError:  # its data does not hold four numbers
                continue
            if heads > 0 and head_size > 0 and heads * head_size == hidden_size:
                return heads
    return None


def _well_formed(node: onnx.NodeProto) -> bool:
    """Whether the node has the inputs and output the structural search reads (a damaged graph may lack them)."""
    needed = {"Softmax": 1, "Sub": 2, "Div": 2, "Mul": 2, "ReduceMean": 1, "LayerNormalization": 1}.get(node.op_type, 0)
    return len(node.input) >= needed and len(node.output) >= 1 and bool(node.output[0])


def _domain(node: onnx.NodeProto) -> str:
    return "" if node.domain == "ai.onnx" else node.domain


def _tensor_names(graph: onnx.GraphProto) -> set[str]:
    names = {value.name for value in graph.input} | {init.name for init in graph.initializer}
    return names | {name for node in graph.node for name in node.output}


def _topological(nodes: list[onnx.NodeProto]) -> list[onnx.NodeProto]:
    """The nodes in a topological order (ONNX asks for one, but not every file has it), stable for sorted graphs."""
    producer = {name: i for i, node in enumerate(nodes) for name in node.output if name}
    waiting = [0] * len(nodes)
    dependents: dict[int, list[int]] = defaultdict(list)
    for i, node in enumerate(nodes):
        for parent in {producer[name] for name in node.input if name in producer}:
            waiting[i] += 1
            dependents[parent].append(i)
    ready = deque(i for i, count in enumerate(waiting) if count == 0)
    order: list[int] = []
    while ready:
        i = ready.popleft()
        order.append(i)
        for child in dependents[i]:
            waiting[child] -= 1
            if waiting[child] == 0:
                ready.append(child)
    return [nodes[i] for i in order]


def _constants(graph: onnx.GraphProto, nodes: list[onnx.NodeProto]) -> set[str]:
    """Initializers, Constant outputs and whatever is computed from them alone.

    Initializers count even when also listed as graph inputs (old exports list every weight there).
    """
    constants = {init.name for init in graph.initializer}
    for node in nodes:
        if all(not name or name in constants for name in node.input):
            constants.update(node.output)
    return constants


def _attention_softmaxes(nodes: list[onnx.NodeProto], constants: set[str]) -> list[tuple[int, str]]:
    """(position, output) of each Softmax whose input comes from a product of two computed tensors (query @ key^T).

    The search walks back from the Softmax input through scaling and masking ops and stops at matrix products, so
    it never reaches an earlier layer; a classifier's Softmax over logits (x @ weights) does not qualify.
    """
    producer = {name: node for node in nodes for name in node.output if name}
    found = []
    for position, node in enumerate(nodes):
        if node.op_type != "Softmax" or _domain(node):
            continue
        seen: set[str] = set()
        pending = [node.input[0]]
        while pending:
            name = pending.pop()
            parent = producer.get(name)
            if name in seen or name in constants or parent is None:
                continue
            seen.add(name)
            if parent.op_type in _MATMULS:
                operands = [operand for operand in parent.input if operand]
                if len(operands) >= 2 and not constants.intersection(operands):
                    found.append((position, node.output[0]))
                    break
            elif parent.op_type != "Gemm":
                pending.extend(parent.input)
    return found


def _layer_norms(nodes: list[onnx.NodeProto], constants: set[str]) -> list[tuple[int, str]]:
    """(position, output) of each LayerNorm: a LayerNormalization op or its decomposed form, in graph order.

    The decomposed form is found from its centering step x - ReduceMean(x): the consumer that divides the
    centered values by a standard deviation computed from them, followed by the optional scale and shift.
    """
    producer = {name: node for node in nodes for name in node.output if name}
    consumers: dict[str, list[int]] = defaultdict(list)
    for position, node in enumerate(nodes):
        for name in node.input:
            consumers[name].append(position)
    found = []
    for position, node in enumerate(nodes):
        if node.op_type == "LayerNormalization":
            found.append((position, node.output[0]))
        elif node.op_type == "Sub" and not _domain(node):
            mean = producer.get(node.input[1])
            if mean is None or mean.op_type != "ReduceMean" or mean.input[0] != node.input[0]:
                continue
            normalized = _normalized(node.output[0], nodes, producer, consumers)
            if normalized is not None:
                found.append(_affine_end(normalized, nodes, consumers, constants))
    return sorted(found)


def _normalized(
    centered: str,
    nodes: list[onnx.NodeProto],
    producer: dict[str, onnx.NodeProto],
    consumers: dict[str, list[int]],
) -> int | None:
    """Position of the node computing centered / std (Div, or Mul by a reciprocal) where std comes from centered."""
    for position in consumers[centered]:
        node = nodes[position]
        if node.op_type == "Div" and node.input[0] == centered:
            divisor = node.input[1]
        elif node.op_type == "Mul" and centered in node.input and len(set(node.input)) == 2:
            divisor = next(name for name in node.input if name != centered)
        else:
            continue
        ancestors = _ancestors(divisor, producer, depth=6)
        if centered in ancestors and any(
            name in producer and producer[name].op_type == "ReduceMean" for name in ancestors
        ):
            return position
    return None


def _ancestors(name: str, producer: dict[str, onnx.NodeProto], depth: int) -> set[str]:
    """Tensors from which `name` is computed, at most `depth` nodes back (`name` included)."""
    found = {name}
    frontier = [name]
    for _ in range(depth):
        frontier = [parent for child in frontier if child in producer for parent in producer[child].input if parent]
        found.update(frontier)
    return found


def _affine_end(
    position: int, nodes: list[onnx.NodeProto], consumers: dict[str, list[int]], constants: set[str]
) -> tuple[int, str]:
    """(position, output) after following a normalization through its scale (Mul) and shift (Add), where present."""
    for op in ("Mul", "Add"):
        following = consumers[nodes[position].output[0]]
        if len(following) == 1:
            node = nodes[following[0]]
            if node.op_type == op and constants.intersection(node.input):
                position = following[0]
    return position, nodes[position].output[0]


def _hidden_states(layer_norms: list[tuple[int, str]], attentions: list[tuple[int, str]]) -> list[str]:
    """The embeddings LayerNorm (the last one before the first attention) and each layer's second LayerNorm.

    BERT and DistilBERT layers both have two LayerNorms after their attention Softmax: one closing the attention
    block, one closing the layer. A task head after the last layer may add more; those are left out.
    """
    starts = [position for position, _ in attentions]
    ends: list[float] = [*starts[1:], math.inf]
    before = [name for position, name in layer_norms if position < starts[0]]
    per_layer = [
        [name for position, name in layer_norms if start < position < end]
        for start, end in zip(starts, ends, strict=True)
    ]
    counts = [len(names) for names in per_layer]
    if not before or any(count != 2 for count in counts[:-1]) or counts[-1] < 2:
        raise IntrospectionError(
            f"Expected one LayerNorm after the embeddings and two in each of the {len(attentions)} layers, but found "
            f"{len(before)} before the first attention and {', '.join(map(str, counts))} in the layers."
        )
    return [before[-1]] + [names[1] for names in per_layer]


def _tensor_types(model: onnx.ModelProto) -> dict[str, onnx.TypeProto]:
    """Types of the graph's tensors as far as ONNX shape inference tells; empty when it fails."""
    try:
        inferred = shape_inference.infer_shapes(_without_weights(model)).graph
    except Exception:  # inference is only a nicety here, and it fails in many ways
        return {}
    return {value.name: value.type for value in [*inferred.value_info, *inferred.output]}


def _without_weights(model: onnx.ModelProto) -> onnx.ModelProto:
    """A copy for shape inference in which large initializers become graph inputs of the same type and shape.

    Inference serializes the model (once more in memory, and capped at 2 GB); small initializers stay because
    they are what Reshape and friends read their target shapes from.
    """
    skeleton = onnx.ModelProto()
    skeleton.ir_version = model.ir_version
    skeleton.opset_import.extend(model.opset_import)
    skeleton.functions.extend(model.functions)
    graph, source = skeleton.graph, model.graph
    graph.node.extend(source.node)
    graph.input.extend(source.input)
    graph.output.extend(source.output)
    graph.value_info.extend(source.value_info)
    inputs = {value.name for value in source.input}
    for init in source.initializer:
        if math.prod(init.dims) <= _SMALL_INITIALIZER:
            graph.initializer.append(init)
        elif init.name not in inputs:
            graph.input.append(helper.make_tensor_value_info(init.name, init.data_type, list(init.dims)))
    return skeleton
