"""Fine-tuned sequence-classification bundles: logits → probabilities as transformers' text-classification pipeline
computes them, and the path a text takes to them ([CLS] vector → linear layers → logits)."""

from __future__ import annotations

import json
import threading
import weakref
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import onnx

from bertdesk.core.bundles.bundle import Bundle
from bertdesk.core.bundles.config import TASK_CLASSIFICATION
from bertdesk.core.bundles.graph import CLS_STATE
from bertdesk.core.bundles.names import BUNDLE_METADATA
from bertdesk.core.classify.scoring import (
    NONE,
    SIGMOID,
    SOFTMAX,
    Classification,
    ClassifyResult,
    classifications,
    encode_items,
    run_buckets,
)
from bertdesk.core.engine.batching import DEFAULT_MAX_ROWS, DEFAULT_TOKEN_BUDGET
from bertdesk.core.engine.embed import EncodedBatch
from bertdesk.core.errors import BertdeskError
from bertdesk.core.jobs import JobHandle


def head_function(problem_type: str | None, num_labels: int) -> str:
    """SOFTMAX, SIGMOID or NONE, decided exactly as transformers' pipeline does by default: regression → none;
    multi-label or a single output → sigmoid; single-label or several outputs → softmax."""
    if problem_type == "regression":
        return NONE
    if problem_type == "multi_label_classification" or num_labels == 1:
        return SIGMOID
    if problem_type == "single_label_classification" or num_labels > 1:
        return SOFTMAX
    return NONE


def apply_function(logits: np.ndarray, function: str) -> np.ndarray:
    """Probabilities from (batch, labels) logits."""
    logits = np.asarray(logits, np.float64)
    if function == SIGMOID:
        return 1.0 / (1.0 + np.exp(-logits))
    if function == SOFTMAX:
        shifted = np.exp(logits - logits.max(axis=-1, keepdims=True))
        return shifted / shifted.sum(axis=-1, keepdims=True)
    return logits


@dataclass(frozen=True)
class HeadLayer:
    """A linear layer of the classifier head, its weight in torch's (out, in) layout, and what follows it."""

    name: str
    shape: tuple[int, int]
    activation: str | None  # "tanh", "relu", ... or None before the logits


@dataclass(frozen=True)
class HeadPath:
    """What the tab shows: the pooled vector the head reads, the linear layers, the function on the logits."""

    input: str  # "[CLS]" or "mean" (a few-shot head trained here on mean-pooled vectors)
    width: int
    layers: list[HeadLayer]
    labels: list[str]
    function: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return asdict(self)


_ACTIVATIONS = {"Tanh": "tanh", "Relu": "relu", "Gelu": "gelu", "Sigmoid": "sigmoid"}
_PASS_THROUGH = {"Identity", "Add", "Cast"}


def _linear_layers(model: onnx.ModelProto, output: str = "logits") -> list[HeadLayer]:
    """The chain of linear layers (MatMul/Gemm with a weight initializer) that ends in `output`, first layer first;
    it stops where the chain stops being linear layers and activations (at the [CLS] slice, say)."""
    producers = {out: node for node in model.graph.node for out in node.output}
    weights = {t.name: tuple(t.dims) for t in model.graph.initializer}
    layers: list[HeadLayer] = []
    pending_activation: str | None = None
    name = output
    for _ in range(64):
        node = producers.get(name)
        if node is None:
            break
        data_inputs = [i for i in node.input if i and i not in weights]
        weight_inputs = [i for i in node.input if i in weights and len(weights[i]) == 2]
        if node.op_type in ("MatMul", "Gemm") and weight_inputs and len(data_inputs) == 1:
            dims = weights[weight_inputs[0]]
            trans_b = any(a.name == "transB" and a.i for a in node.attribute)
            shape = (dims[0], dims[1]) if node.op_type == "Gemm" and trans_b else (dims[1], dims[0])
            label = weight_inputs[0].removesuffix(".weight_t").removesuffix(".weight")
            layers.append(HeadLayer(label, (int(shape[0]), int(shape[1])), pending_activation))
            pending_activation = None
        elif node.op_type in _ACTIVATIONS and len(data_inputs) == 1:
            pending_activation = _ACTIVATIONS[node.op_type]
        elif node.op_type not in _PASS_THROUGH or len(data_inputs) != 1:
            break
        name = data_inputs[0]
    return layers[::-1]


_paths: weakref.WeakKeyDictionary[Bundle, HeadPath] = weakref.WeakKeyDictionary()
_paths_lock = threading.Lock()


def _metadata(bundle: Bundle) -> dict:
    try:
        data = json.loads((Path(bundle.info.path) / BUNDLE_METADATA).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def head_path(bundle: Bundle) -> HeadPath:
    """The classifier head of a sequence-classification bundle, read from its graph (once per bundle)."""
    require_classifier(bundle)
    with _paths_lock:
        if bundle in _paths:
            return _paths[bundle]
    model = onnx.load(str(bundle.graph_path), load_external_data=False)
    layers = _linear_layers(model)
    head = _metadata(bundle).get("head")
    pooling = head.get("pooling") if isinstance(head, dict) else None
    labels = classifier_labels(bundle, layers[-1].shape[0] if layers else None)
    path = HeadPath(
        input="mean" if pooling == "mean" else "[CLS]",
        width=bundle.info.hidden_size,
        layers=layers,
        labels=labels,
        function=head_function(bundle.info.problem_type, len(labels)),
    )
    with _paths_lock:
        return _paths.setdefault(bundle, path)


def require_classifier(bundle: Bundle) -> None:
    """Raise a clear error unless the bundle is a sequence-classification model."""
    if bundle.info.task != TASK_CLASSIFICATION:
        raise BertdeskError(
            f"{bundle.info.name} is a {bundle.info.task} model, not a classifier: choose a sequence-classification "
            "model, or give labels for zero-shot classification"
        )


def classifier_labels(bundle: Bundle, num_outputs: int | None) -> list[str]:
    """The labels from `id2label`, or LABEL_0... (as transformers names them) when the config has none usable."""
    labels = list(bundle.info.labels)
    if num_outputs is not None and len(labels) != num_outputs:
        labels = [f"LABEL_{i}" for i in range(num_outputs)]
    return labels


class HeadClassifier:
    """A fine-tuned classification bundle as a `Scorer`: logits → softmax, sigmoid or nothing."""

    def __init__(self, bundle: Bundle) -> None:
        self.bundle = bundle
        self.path = head_path(bundle)
        self.labels = self.path.labels
        self.method = self.path.function

    def run(self, batch: EncodedBatch, handle: JobHandle | None = None,
            outputs: tuple[str, ...] = ("logits",)) -> dict[str, np.ndarray]:
        """The bundle's `outputs` for a batch (`logits`, and `CLS_STATE` if asked and the graph gives it); only
        the [CLS] row of the last layer is computed."""
        out = self.bundle.run(batch.input_ids, batch.attention_mask, batch.token_type_ids, handle=handle,
                              outputs=outputs)
        if out["logits"].shape[1] != len(self.labels):
            width = out["logits"].shape[1]
            raise BertdeskError(f"{self.bundle.info.name}: {width} logits for {len(self.labels)} labels")
        return out

    def score(self, batch: EncodedBatch, handle: JobHandle | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(logits, probabilities), each (batch, labels)."""
        logits = self.run(batch, handle)["logits"]
        return logits, apply_function(logits, self.method)


def check_inputs(texts: list[str], pairs: list[str] | None) -> list[tuple[int, str, str | None]]:
    """(index, text, pair) items, or a clear error for no text, non-text or a pair list of another length."""
    if isinstance(texts, str):
        texts = [texts]
    if not texts:
        raise BertdeskError("no text given")
    if pairs is not None and len(pairs) != len(texts):
        raise BertdeskError(f"{len(texts)} texts but {len(pairs)} pair texts: give one pair text per text")
    if any(not isinstance(t, str) for t in texts) or any(not isinstance(p, str) for p in pairs or []):
        raise BertdeskError("every input must be text")
    return [(i, text, None if pairs is None else pairs[i]) for i, text in enumerate(texts)]


def classify(
    bundle: Bundle,
    texts: list[str],
    pairs: list[str] | None = None,
    *,
    batch_size: int = DEFAULT_MAX_ROWS,
    token_budget: int = DEFAULT_TOKEN_BUDGET,
    handle: JobHandle | None = None,
) -> ClassifyResult:
    """Classify texts (with `pairs` as segment B) with a fine-tuned classification bundle.

    Every label comes with its probability, highest first: softmax over the logits, or a sigmoid per label for a
    multi-label model (or a single output), or the raw logits for regression — as transformers' text-classification
    pipeline with `top_k=None` gives them. `path` says how: the [CLS] width, the head's weight shapes, the function.
    Texts run in length buckets (`core.batching`: at most `batch_size` rows and `token_budget` padded tokens a
    batch); rows and [CLS] vectors come back in the caller's order.
    """
    scorer = HeadClassifier(bundle)
    items = check_inputs(texts, pairs)
    encodings = encode_items(scorer, items)
    rows: list[Classification | None] = [None] * len(items)
    vectors: np.ndarray | None = None
    done = 0
    for _, batch, chosen, out in run_buckets(bundle, [encodings],
                                             lambda b: scorer.run(b, handle, ("logits", CLS_STATE)),
                                             max_rows=batch_size, token_budget=token_budget, handle=handle):
        logits = out["logits"]
        for i, row in zip(batch, classifications(scorer, [items[i] for i in batch], chosen, logits,
                                                 apply_function(logits, scorer.method)), strict=True):
            rows[i] = row
        if CLS_STATE in out:
            if vectors is None:
                vectors = np.empty((len(items), out[CLS_STATE].shape[1]), out[CLS_STATE].dtype)
            vectors[batch] = out[CLS_STATE]
        done += len(batch)
        if handle is not None:
            handle.progress(done / len(items), f"classified {done}")
    return ClassifyResult(rows=rows, path=scorer.path.to_dict(), cls_vectors=vectors)  # type: ignore[arg-type]
