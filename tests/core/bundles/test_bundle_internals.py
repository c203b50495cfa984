"""A bundle whose graph was exported elsewhere (torch's exporter): its internals exposed on request, or refused."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from bertdesk.core.bundles.bundle import Bundle  # noqa: E402
from bertdesk.core.errors import BertdeskError  # noqa: E402
from tests.checkpoints import save_tokenizer  # noqa: E402
from tests.onnx_exports import example_inputs, export, tiny_model  # noqa: E402


def _exported_bundle(folder: Path, kind: str = "bert-qa"):
    model = tiny_model(kind)
    (folder / "onnx").mkdir(parents=True)
    export(model, folder / "onnx" / "model.onnx", "legacy-17")
    model.config.architectures = [type(model).__name__]
    model.config.save_pretrained(folder)
    save_tokenizer(folder, size=model.config.vocab_size)
    return model


def test_exported_graph_internals_match_the_reference(tmp_path: Path) -> None:
    model = _exported_bundle(tmp_path / "exported")
    bundle = Bundle(tmp_path / "exported")
    assert bundle.info.task == "question-answering" and not bundle.info.has_internals
    assert bundle.info.graph == "onnx/model.onnx"
    feed = example_inputs(model)
    ours = bundle.run(**feed, internals=True)
    with torch.no_grad():
        ref = model(**{k: torch.from_numpy(v) for k, v in feed.items()}, output_hidden_states=True,
                    output_attentions=True)
    assert ours["hidden_states"].shape[0] == len(ref.hidden_states) == 3
    for ours_layer, ref_layer in zip(ours["hidden_states"], ref.hidden_states, strict=True):
        assert np.abs(ours_layer - ref_layer.numpy()).max() < 1e-4
    for ours_layer, ref_layer in zip(ours["attentions"], ref.attentions, strict=True):
        assert np.abs(ours_layer - ref_layer.numpy()).max() < 1e-4
    assert np.abs(ours["start_logits"] - ref.start_logits.numpy()).max() < 1e-4
    with pytest.raises(BertdeskError, match="was not converted by bertdesk"):
        bundle.run(feed["input_ids"], attention_bias=np.zeros((1, 1, 9, 9), np.float32))


def test_fused_graph_says_it_cannot_show_internals(tmp_path: Path) -> None:
    from onnxruntime.transformers.optimizer import optimize_model

    model = _exported_bundle(tmp_path / "fused", "bert")
    graph = tmp_path / "fused" / "onnx" / "model.onnx"
    optimize_model(str(graph), model_type="bert", num_heads=4, hidden_size=32).save_model_to_file(str(graph))
    bundle = Bundle(tmp_path / "fused")
    feed = example_inputs(model)
    assert bundle.run(**feed)["last_hidden_state"].shape == (2, 9, 32)
    with pytest.raises(BertdeskError, match="fused"):
        bundle.run(**feed, internals=True)
