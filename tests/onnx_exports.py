"""Tiny random-weight Hugging Face models exported to ONNX the way public exports are made (tests only).

Exporters, as torch 2.13 has them:
- "legacy-14": the TorchScript exporter (dynamo=False) at opset 14, which decomposes LayerNorm into primitive ops,
- "legacy-17": the TorchScript exporter at opset 17, one LayerNormalization op per LayerNorm,
- "dynamo-18": the torch.export-based exporter (the default; needs onnxscript), LayerNormalization ops.
"""

from __future__ import annotations

import os
import warnings

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from pathlib import Path

import numpy as np
import onnx
import torch
import tqdm
from transformers import (
    BertConfig,
    BertForMaskedLM,
    BertForQuestionAnswering,
    BertModel,
    DistilBertConfig,
    DistilBertForSequenceClassification,
    PreTrainedModel,
)

# The dynamo exporter shows tqdm progress bars, and tqdm starts a monitor thread that outlives the test (the leak
# fixtures rightly refuse it); these exports are short, so they need no monitor.
tqdm.tqdm.monitor_interval = 0

NUM_LAYERS = 2
NUM_HEADS = 4
HIDDEN_SIZE = 32
EXPORTERS = {"legacy-14": (False, 14), "legacy-17": (False, 17), "dynamo-18": (True, 18)}
_BERT_CLASSES = {"bert": BertModel, "bert-qa": BertForQuestionAnswering, "bert-mlm": BertForMaskedLM}
KINDS = (*_BERT_CLASSES, "distilbert-cls")


def tiny_model(kind: str, seed: int = 0) -> PreTrainedModel:
    """A 2-layer model of `kind` (one of KINDS) with random weights, in eval mode, eager attention.

    Biases and LayerNorm parameters get noise too, so a LayerNorm's scale and shift are not 1 and 0.
    """
    torch.manual_seed(seed)
    if kind == "distilbert-cls":
        config = DistilBertConfig(
            dim=HIDDEN_SIZE,
            n_layers=NUM_LAYERS,
            n_heads=NUM_HEADS,
            hidden_dim=2 * HIDDEN_SIZE,
            vocab_size=100,
            max_position_embeddings=64,
        )
        model = DistilBertForSequenceClassification._from_config(config, attn_implementation="eager")
    else:
        config = BertConfig(
            hidden_size=HIDDEN_SIZE,
            num_hidden_layers=NUM_LAYERS,
            num_attention_heads=NUM_HEADS,
            intermediate_size=2 * HIDDEN_SIZE,
            vocab_size=100,
            max_position_embeddings=64,
        )
        model = _BERT_CLASSES[kind]._from_config(config, attn_implementation="eager")
    with torch.no_grad():
        for parameter in model.parameters():
            if parameter.dim() == 1:
                parameter.add_(0.1 * torch.randn_like(parameter))
    return model.eval()


def input_names(model: PreTrainedModel) -> list[str]:
    """The model's ONNX input names, in forward() order."""
    names = ["input_ids", "attention_mask"]
    return names if model.config.model_type == "distilbert" else [*names, "token_type_ids"]


def example_inputs(model: PreTrainedModel, batch: int = 2, seq: int = 9, seed: int = 1) -> dict[str, np.ndarray]:
    """Random int64 inputs for `model`; every row but the first is padded, so attention masks matter."""
    rng = np.random.default_rng(seed)
    mask = np.ones((batch, seq), dtype=np.int64)
    for row in range(1, batch):
        mask[row, seq - 2 * row :] = 0
    inputs = {
        "input_ids": rng.integers(0, model.config.vocab_size, (batch, seq), dtype=np.int64),
        "attention_mask": mask,
        "token_type_ids": (np.arange(seq) >= seq // 2).astype(np.int64)[None].repeat(batch, axis=0),
    }
    return {name: inputs[name] for name in input_names(model)}


def output_names(model: PreTrainedModel) -> list[str]:
    """The names of the model's outputs (e.g. last_hidden_state, pooler_output), in order."""
    with torch.no_grad():
        outputs = model(**{name: torch.from_numpy(value) for name, value in example_inputs(model).items()})
    return list(outputs.keys())


def export(model: PreTrainedModel, path: Path, exporter: str) -> onnx.ModelProto:
    """Export `model` with one of EXPORTERS to `path` (batch and sequence axes dynamic) and load it back."""
    dynamo, opset = EXPORTERS[exporter]
    names = input_names(model)
    inputs = example_inputs(model, seq=7)
    with warnings.catch_warnings():
        # The exporters warn about their own deprecations and about tracing constants; nothing a test acts on.
        warnings.simplefilter("ignore")
        torch.onnx.export(
            model,
            tuple(torch.from_numpy(inputs[name]) for name in names),
            str(path),
            input_names=names,
            output_names=output_names(model),
            opset_version=opset,
            dynamo=dynamo,
            dynamic_axes={name: {0: "batch", 1: "sequence"} for name in names},
        )
    return onnx.load(str(path))
