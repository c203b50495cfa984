"""The lean graph: same task outputs as the full graph, without per-layer outputs or the attention_bias input, its
weights read from model.onnx itself."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest

from bertdesk.core.bundles.bundle import Bundle
from bertdesk.core.bundles.graph import INTERNAL_PREFIXES, lean_graph, lean_session, load_skeleton
from bertdesk.core.bundles.names import ATTENTION_BIAS


def _options() -> ort.SessionOptions:
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    return options


@pytest.mark.parametrize("which", ["tiny", "classifier", "default"])
def test_lean_session_gives_the_full_graphs_outputs(
    which: str, tiny_bundle: Path, tiny_classifier_bundle: Path, default_bundle_dir: Path
) -> None:
    folder = {"tiny": tiny_bundle, "classifier": tiny_classifier_bundle, "default": default_bundle_dir}[which]
    bundle = Bundle(folder, threads=1)
    session = lean_session(bundle.graph_path, _options())
    names = [o.name for o in session.get_outputs()]
    assert not any(n.startswith(INTERNAL_PREFIXES) for n in names)
    assert ATTENTION_BIAS not in {i.name for i in session.get_inputs()}
    rng = np.random.default_rng(0)
    ids = rng.integers(100, bundle.info.vocab_size, (3, 17))
    mask = np.ones_like(ids)
    mask[1, 9:] = 0
    feed = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
    inputs = {i.name for i in session.get_inputs()}
    lean = dict(zip(names, session.run(names, {k: v for k, v in feed.items() if k in inputs}), strict=True))
    full = bundle.run(ids, mask)
    for name in names:
        np.testing.assert_allclose(lean[name], full[name], atol=1e-5)


def test_the_skeleton_points_at_each_weights_bytes_inside_the_file(tiny_bundle: Path) -> None:
    path = tiny_bundle / "model.onnx"
    data = path.read_bytes()
    model = onnx.load(str(path))
    skeleton = load_skeleton(path)
    assert skeleton.graph.node == model.graph.node and skeleton.graph.output == model.graph.output
    referenced = 0
    for tensor, full in zip(skeleton.graph.initializer, model.graph.initializer, strict=True):
        assert tensor.name == full.name and tensor.dims == full.dims
        if tensor.data_location == onnx.TensorProto.EXTERNAL:
            place = {e.key: e.value for e in tensor.external_data}
            start, length = int(place["offset"]), int(place["length"])
            assert place["location"] == "model.onnx" and data[start:start + length] == full.raw_data
            referenced += 1
        else:
            assert tensor.raw_data == full.raw_data and len(full.raw_data) < 1024
    assert referenced > 10


def test_a_truncated_graph_is_refused_by_the_skeleton_reader(tiny_bundle: Path, tmp_path: Path) -> None:
    data = (tiny_bundle / "model.onnx").read_bytes()
    (tmp_path / "model.onnx").write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match="runs past the end"):
        load_skeleton(tmp_path / "model.onnx")


def test_a_nonzero_attention_bias_stays_as_a_constant(tiny_bundle: Path) -> None:
    model = onnx.load(str(tiny_bundle / "model.onnx"))
    bias = next(t for t in model.graph.initializer if t.name == ATTENTION_BIAS)
    bias.raw_data = np.full((1, 1, 1, 1), -1.0, np.float32).tobytes()
    lean = lean_graph(model)
    assert ATTENTION_BIAS not in {i.name for i in lean.graph.input}
    assert any(ATTENTION_BIAS in n.input for n in lean.graph.node)
