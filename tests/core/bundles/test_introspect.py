"""expose_internals on graphs made elsewhere: torch.onnx exports of tiny random-weight Hugging Face models,
checked against the models' own output_hidden_states / output_attentions."""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch
from onnx import helper
from transformers.utils import ModelOutput

from bertdesk.core.bundles import introspect
from bertdesk.core.bundles.introspect import expose_internals, has_fused_attention
from bertdesk.core.errors import IntrospectionError
from tests.onnx_exports import (
    EXPORTERS,
    HIDDEN_SIZE,
    NUM_HEADS,
    NUM_LAYERS,
    example_inputs,
    export,
    tiny_model,
)

Export = tuple[torch.nn.Module, onnx.ModelProto, Path]

# torch's default (dynamo) exporter needs onnxscript and takes a few seconds per export.
dynamo_marks = [
    pytest.mark.skipif(
        importlib.util.find_spec("onnxscript") is None, reason="torch's dynamo exporter needs onnxscript"
    ),
    pytest.mark.slow,
]
EXPORTER_PARAMS = [pytest.param(name, marks=dynamo_marks) if name.startswith("dynamo") else name for name in EXPORTERS]


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str, str], Export]:
    """exported(kind, exporter) -> (HF model, ONNX model, its path), each made once per module."""
    cache: dict[tuple[str, str], Export] = {}

    def get(kind: str, exporter: str) -> Export:
        if (kind, exporter) not in cache:
            model = tiny_model(kind)
            path = tmp_path_factory.mktemp("exports") / f"{kind}-{exporter}.onnx"
            cache[kind, exporter] = (model, export(model, path, exporter), path)
        return cache[kind, exporter]

    return get


def run(model: onnx.ModelProto, inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """All of the graph's outputs from onnxruntime, by name."""
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    names = [output.name for output in session.get_outputs()]
    return dict(zip(names, session.run(None, inputs), strict=True))


def reference(model: torch.nn.Module, inputs: dict[str, np.ndarray]) -> ModelOutput:
    """The Hugging Face model's outputs with its hidden states and attentions."""
    with torch.no_grad():
        return model(
            **{name: torch.from_numpy(value) for name, value in inputs.items()},
            output_hidden_states=True,
            output_attentions=True,
        )


def identity_sources(model: onnx.ModelProto) -> dict[str, str]:
    """Exposed output name -> the tensor it copies."""
    exposed = ("hidden_states.", "attentions.")
    return {node.output[0]: node.input[0] for node in model.graph.node if node.output[0].startswith(exposed)}


@pytest.mark.parametrize("exporter", EXPORTER_PARAMS)
@pytest.mark.parametrize("kind", ["bert", "bert-qa", "distilbert-cls"])
def test_exposed_internals_match_transformers(exported, kind: str, exporter: str) -> None:
    hf_model, graph, _ = exported(kind, exporter)
    assert any(node.op_type == "LayerNormalization" for node in graph.graph.node) == (exporter != "legacy-14")

    exposed, internals = expose_internals(graph, NUM_LAYERS)

    assert internals.hidden_states == ["hidden_states.0", "hidden_states.1", "hidden_states.2"]
    assert internals.attentions == ["attentions.0", "attentions.1"]
    original_names = [output.name for output in graph.graph.output]
    assert [output.name for output in exposed.graph.output] == original_names + internals.hidden_states + [
        *internals.attentions
    ]
    onnx.checker.check_model(exposed)

    inputs = example_inputs(hf_model)
    got = run(exposed, inputs)
    expected = reference(hf_model, inputs)
    for name, want in zip(internals.hidden_states, expected.hidden_states, strict=True):
        np.testing.assert_allclose(got[name], want.numpy(), atol=1e-4, rtol=0, err_msg=name)
    for name, want in zip(internals.attentions, expected.attentions, strict=True):
        assert got[name].shape == (2, NUM_HEADS, 9, 9)
        np.testing.assert_allclose(got[name], want.numpy(), atol=1e-4, rtol=0, err_msg=name)
    before = run(graph, inputs)
    for name in original_names:
        np.testing.assert_allclose(got[name], before[name], atol=1e-6, rtol=0, err_msg=name)
        np.testing.assert_allclose(got[name], expected[name].numpy(), atol=1e-4, rtol=0, err_msg=name)


def test_exposing_leaves_the_input_model_alone(exported) -> None:
    _, graph, _ = exported("bert", "legacy-17")
    before = graph.SerializeToString()

    expose_internals(graph, NUM_LAYERS)

    assert graph.SerializeToString() == before


def test_task_head_layer_norm_is_left_out(exported) -> None:
    """BertForMaskedLM has a LayerNorm in its head after the last layer; hidden_states.L is still the encoder's."""
    hf_model, graph, _ = exported("bert-mlm", "legacy-14")

    exposed, internals = expose_internals(graph, NUM_LAYERS)

    inputs = example_inputs(hf_model)
    got = run(exposed, inputs)
    for name, want in zip(internals.hidden_states, reference(hf_model, inputs).hidden_states, strict=True):
        np.testing.assert_allclose(got[name], want.numpy(), atol=1e-4, rtol=0, err_msg=name)


def test_softmax_over_logits_is_not_an_attention(exported) -> None:
    _, graph, _ = exported("distilbert-cls", "legacy-17")
    with_probabilities = onnx.ModelProto()
    with_probabilities.CopyFrom(graph)
    with_probabilities.graph.node.append(helper.make_node("Softmax", ["logits"], ["probabilities"], axis=-1))
    with_probabilities.graph.output.append(helper.make_tensor_value_info("probabilities", onnx.TensorProto.FLOAT, None))

    exposed, _ = expose_internals(with_probabilities, NUM_LAYERS)

    assert identity_sources(exposed) == identity_sources(expose_internals(graph, NUM_LAYERS)[0])


@pytest.mark.parametrize("exporter", ["legacy-14", "legacy-17"])
def test_node_order_does_not_matter(exported, exporter: str) -> None:
    _, graph, _ = exported("bert", exporter)
    shuffled = onnx.ModelProto()
    shuffled.CopyFrom(graph)
    nodes = list(shuffled.graph.node)
    np.random.default_rng(0).shuffle(nodes)
    del shuffled.graph.node[:]
    shuffled.graph.node.extend(nodes)

    exposed, _ = expose_internals(shuffled, NUM_LAYERS)

    assert identity_sources(exposed) == identity_sources(expose_internals(graph, NUM_LAYERS)[0])


def test_works_when_shape_inference_fails(exported, monkeypatch: pytest.MonkeyPatch) -> None:
    hf_model, graph, _ = exported("bert", "legacy-14")

    def fail(model: onnx.ModelProto) -> onnx.ModelProto:
        raise onnx.shape_inference.InferenceError("no inference today")

    monkeypatch.setattr(introspect.shape_inference, "infer_shapes", fail)
    exposed, internals = expose_internals(graph, NUM_LAYERS)

    inputs = example_inputs(hf_model)
    got = run(exposed, inputs)
    expected = reference(hf_model, inputs)
    np.testing.assert_allclose(got["hidden_states.1"], expected.hidden_states[1].numpy(), atol=1e-4, rtol=0)
    np.testing.assert_allclose(got["attentions.1"], expected.attentions[1].numpy(), atol=1e-4, rtol=0)


def test_exposing_twice_keeps_the_graph(exported) -> None:
    _, graph, _ = exported("bert-qa", "legacy-17")
    exposed, internals = expose_internals(graph, NUM_LAYERS)

    again, internals_again = expose_internals(exposed, NUM_LAYERS)

    assert again.SerializeToString() == exposed.SerializeToString()
    assert internals_again == internals


@pytest.mark.parametrize("num_layers", [1, 3])
def test_wrong_layer_count_is_refused(exported, num_layers: int) -> None:
    _, graph, _ = exported("bert", "legacy-17")

    with pytest.raises(IntrospectionError, match=f"Found 2 attention Softmax op.* has {num_layers} layers"):
        expose_internals(graph, num_layers)


def test_missing_layer_norms_are_refused(exported) -> None:
    _, graph, _ = exported("bert", "legacy-17")
    broken = onnx.ModelProto()
    broken.CopyFrom(graph)
    layer_norm = next(node for node in broken.graph.node if node.op_type == "LayerNormalization")
    layer_norm.CopyFrom(helper.make_node("Identity", [layer_norm.input[0]], [layer_norm.output[0]]))

    with pytest.raises(IntrospectionError, match="found 0 before the first attention and 2, 2 in the layers"):
        expose_internals(broken, NUM_LAYERS)


def test_unoptimized_export_has_no_fused_op(exported) -> None:
    assert has_fused_attention(exported("bert", "legacy-14")[1]) is None


@pytest.mark.parametrize(
    ("exporter", "expected"),
    [("legacy-14", "Attention"), pytest.param("dynamo-18", None, marks=dynamo_marks)],
)
def test_graph_fused_by_onnxruntime_is_refused(exported, exporter: str, expected: str | None) -> None:
    from onnxruntime.transformers.optimizer import optimize_model

    _, _, path = exported("bert", exporter)
    optimized = optimize_model(str(path), model_type="bert", num_heads=NUM_HEADS, hidden_size=HIDDEN_SIZE).model
    fused = has_fused_attention(optimized)
    ms_ops = {node.op_type for node in optimized.graph.node if node.domain == "com.microsoft"}

    assert fused in ms_ops
    if expected:
        assert fused == expected
    with pytest.raises(IntrospectionError, match=f"fused op {fused}\\b"):
        expose_internals(optimized, NUM_LAYERS)
