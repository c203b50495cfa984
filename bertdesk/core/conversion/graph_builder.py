"""A thin layer over `onnx.helper` for writing a graph as a sequence of numpy-weighted operations."""

from __future__ import annotations

import itertools

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OPSET = 17  # LayerNormalization arrived in opset 17


class GraphBuilder:
    """Collects nodes and initializers; every helper returns the name of the tensor it produced."""

    def __init__(self) -> None:
        self.nodes: list[onnx.NodeProto] = []
        self.initializers: list[onnx.TensorProto] = []
        self.inputs: list[onnx.ValueInfoProto] = []
        self.outputs: list[onnx.ValueInfoProto] = []
        self._ids = itertools.count()

    def fresh(self, hint: str) -> str:
        """A new unique tensor name."""
        return f"{hint}_{next(self._ids)}"

    def const(self, name: str, array: np.ndarray) -> str:
        """A weight or constant tensor."""
        self.initializers.append(numpy_helper.from_array(np.ascontiguousarray(array), name))
        return name

    def op(self, op_type: str, inputs: list[str], output: str | None = None, **attrs: object) -> str:
        """One node with a single output."""
        output = output or self.fresh(op_type.lower())
        self.nodes.append(helper.make_node(op_type, inputs, [output], name=output, **attrs))
        return output

    def linear(self, x: str, weight: np.ndarray, bias: np.ndarray, name: str) -> str:
        """x @ weight.T + bias, with `weight` in the (out, in) layout of torch.nn.Linear."""
        w = self.const(f"{name}.weight_t", weight.T.astype(np.float32))
        b = self.const(f"{name}.bias", bias.astype(np.float32))
        return self.op("Add", [self.op("MatMul", [x, w]), b])

    def layer_norm(self, x: str, gamma: np.ndarray, beta: np.ndarray, eps: float, name: str, output: str | None = None):
        """LayerNormalization over the last axis."""
        g = self.const(f"{name}.weight", gamma.astype(np.float32))
        b = self.const(f"{name}.bias", beta.astype(np.float32))
        return self.op("LayerNormalization", [x, g, b], output, axis=-1, epsilon=float(eps))

    def add_input(self, name: str, elem_type: int, shape: list[str | int]) -> None:
        """A graph input with symbolic or fixed dimensions."""
        self.inputs.append(helper.make_tensor_value_info(name, elem_type, shape))

    def add_output(self, name: str, shape: list[str | int], elem_type: int = TensorProto.FLOAT) -> None:
        """A graph output."""
        self.outputs.append(helper.make_tensor_value_info(name, elem_type, shape))

    def build(self, graph_name: str, metadata: dict[str, str]) -> onnx.ModelProto:
        """The finished, checked model."""
        graph = helper.make_graph(self.nodes, graph_name, self.inputs, self.outputs, self.initializers)
        model = helper.make_model(
            graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="bertdesk", ir_version=8
        )
        for key, value in metadata.items():
            model.metadata_props.append(onnx.StringStringEntryProto(key=key, value=value))
        onnx.checker.check_model(model, full_check=False)
        return model
