"""A few-shot head trained here: labelled examples → sentence vectors → multinomial logistic regression in numpy,
checked by k-fold cross-validation, and saved with the encoder as a new classification bundle (one ONNX graph)."""

from __future__ import annotations

import csv
import json
import shutil
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from bertdesk.core.bundles.bundle import Bundle
from bertdesk.core.bundles.config import TASK_CLASSIFICATION, TASK_ENCODER
from bertdesk.core.bundles.install import install_bundle
from bertdesk.core.bundles.names import BUNDLE_METADATA, TOKENIZER_FILES
from bertdesk.core.classify.batch import _delimiter, _open_text
from bertdesk.core.classify.heads import apply_function
from bertdesk.core.classify.scoring import SOFTMAX, pooled_vectors
from bertdesk.core.engine.embed import POOLINGS, EncodedBatch, embed_texts
from bertdesk.core.errors import BertdeskError, StorageError
from bertdesk.core.jobs import JobHandle, ensure_handle

MAX_FOLDS = 5
_MIN_STD = 1e-4  # features that barely vary are not blown up by the standardisation


@dataclass(frozen=True)
class Example:
    """A labelled text."""

    text: str
    label: str


def read_examples(path: str | Path) -> list[Example]:
    """Examples from a CSV/TSV file: columns "text" and "label" by header, or two columns (text, label) without."""
    path = Path(path)
    if not path.is_file():
        raise StorageError(f"{path} is not a file")
    with _open_text(path) as f:
        sample = f.read(65536)
        f.seek(0)
        try:
            records = [r for r in csv.reader(f, delimiter=_delimiter(path, sample)) if any(c.strip() for c in r)]
        except csv.Error as exc:
            raise BertdeskError(f"{path.name}: not valid CSV ({exc})") from exc
    if not records:
        raise BertdeskError(f"{path.name} holds no examples")
    header = [c.strip().lower() for c in records[0]]
    if "text" in header and "label" in header:
        text_index, label_index, records = header.index("text"), header.index("label"), records[1:]
    elif all(len(r) == 2 for r in records):
        text_index, label_index = 0, 1
    else:
        raise BertdeskError(f"{path.name}: give two columns, text and label (or name them in a header row)")
    examples = []
    for number, record in enumerate(records, 1):
        if max(text_index, label_index) >= len(record):
            raise BertdeskError(f"{path.name}, example {number}: it has no text or no label")
        examples.append(Example(record[text_index], record[label_index].strip()))
    return examples


def _softmax_cross_entropy(
    x: np.ndarray, y: np.ndarray, num_labels: int, penalty: float
) -> Callable[[np.ndarray], tuple[float, np.ndarray]]:
    """The objective mean cross-entropy + penalty/2 · |W|² over flat parameters [W (d x k), b (k)], with gradient."""
    n, d = x.shape
    onehot = np.eye(num_labels)[y]

    def objective(params: np.ndarray) -> tuple[float, np.ndarray]:
        w, b = params[: d * num_labels].reshape(d, num_labels), params[d * num_labels :]
        z = x @ w + b
        z -= z.max(axis=1, keepdims=True)
        log_p = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
        loss = -(onehot * log_p).sum() / n + 0.5 * penalty * (w * w).sum()
        residual = (np.exp(log_p) - onehot) / n
        return loss, np.concatenate([(x.T @ residual + penalty * w).ravel(), residual.sum(axis=0)])

    return objective


def _lbfgs(objective: Callable[[np.ndarray], tuple[float, np.ndarray]], x: np.ndarray, *, iterations: int = 500,
           memory: int = 10, tolerance: float = 1e-6) -> np.ndarray:
    """Minimise a smooth function by L-BFGS with a backtracking (Armijo) line search; deterministic."""
    value, gradient = objective(x)
    steps: list[tuple[np.ndarray, np.ndarray, float]] = []  # (s, y, 1 / y·s)
    for _ in range(iterations):
        if np.abs(gradient).max() < tolerance:
            break
        direction = -gradient
        alphas = []
        for s, y, rho in reversed(steps):
            alpha = rho * (s @ direction)
            direction = direction - alpha * y
            alphas.append(alpha)
        if steps:
            s, y, _ = steps[-1]
            direction = direction * ((s @ y) / (y @ y))
        for (s, y, rho), alpha in zip(steps, reversed(alphas), strict=True):
            direction = direction + s * (alpha - rho * (y @ direction))
        slope = gradient @ direction
        if slope >= 0:  # not a descent direction: start the memory afresh
            steps, direction, slope = [], -gradient, -(gradient @ gradient)
        step = 1.0 if steps else min(1.0, 1.0 / max(np.abs(gradient).sum(), 1e-12))
        while True:
            candidate = x + step * direction
            new_value, new_gradient = objective(candidate)
            if new_value <= value + 1e-4 * step * slope or step < 1e-12:
                break
            step *= 0.5
        s, y = candidate - x, new_gradient - gradient
        if s @ y > 1e-12:
            steps = [*steps[-(memory - 1) :], (s, y, 1.0 / (s @ y))]
        x, value, gradient = candidate, new_value, new_gradient
    return x


def fit_logistic_regression(
    vectors: np.ndarray, targets: np.ndarray, num_labels: int, *, c: float = 1.0
) -> tuple[np.ndarray, np.ndarray]:
    """Multinomial logistic regression with an L2 penalty (C as in scikit-learn: the sum of the losses + |W|²/2C),
    on standardised features; returns (weight (labels, dim), bias (labels,)) for the raw vectors."""
    vectors = np.asarray(vectors, np.float64)
    mean = vectors.mean(axis=0)
    std = np.maximum(vectors.std(axis=0), _MIN_STD)
    x = (vectors - mean) / std
    n, d = x.shape
    objective = _softmax_cross_entropy(x, np.asarray(targets), num_labels, 1.0 / (c * n))
    params = _lbfgs(objective, np.zeros(d * num_labels + num_labels))
    w, b = params[: d * num_labels].reshape(d, num_labels).T, params[d * num_labels :]
    # Fold the standardisation into the layer: (v - mean) / std · wᵀ + b = v · (w / std)ᵀ + (b - (w / std) · mean).
    weight = w / std
    return weight, b - weight @ mean


@dataclass(frozen=True)
class CrossValidation:
    """Out-of-fold predictions of k models, each trained without its fold."""

    folds: int
    accuracy: float
    confusion: list[list[int]]  # confusion[true label][predicted label], labels in the head's order
    predictions: list[str]  # each example's out-of-fold prediction

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {"folds": self.folds, "accuracy": self.accuracy, "confusion": self.confusion}


@dataclass(frozen=True)
class FewShotHead:
    """A linear layer over pooled sentence vectors, trained here."""

    labels: list[str]
    pooling: str  # "mean" or "cls"
    normalize: bool  # vectors are scaled to unit length before the layer
    weight: np.ndarray = field(repr=False)  # (labels, hidden)
    bias: np.ndarray = field(repr=False)  # (labels,)
    num_examples: int
    training_accuracy: float
    cross_validation: CrossValidation | None  # None when a label has a single example
    c: float

    def logits(self, vectors: np.ndarray) -> np.ndarray:
        """(n, labels) logits for pooled (and, if `normalize`, unit-length) sentence vectors."""
        return np.asarray(vectors, np.float64) @ self.weight.T + self.bias

    def probabilities(self, vectors: np.ndarray) -> np.ndarray:
        """(n, labels) softmax probabilities."""
        return apply_function(self.logits(vectors), SOFTMAX)

    def to_dict(self) -> dict[str, Any]:
        """The training report, JSON-ready (the weights are left out)."""
        return {
            "labels": self.labels,
            "pooling": self.pooling,
            "normalize": self.normalize,
            "weight_shape": list(self.weight.shape),
            "num_examples": self.num_examples,
            "training_accuracy": self.training_accuracy,
            "cross_validation": self.cross_validation.to_dict() if self.cross_validation else None,
            "c": self.c,
        }


class FewShotScorer:
    """A few-shot head over its encoder bundle as a `Scorer`, before (or without) saving it as a bundle: pooled,
    normalised token vectors through the head's linear layer, then a softmax."""

    method = SOFTMAX

    def __init__(self, bundle: Bundle, head: FewShotHead) -> None:
        if head.weight.shape[1] != bundle.info.hidden_size:
            raise BertdeskError(f"the head reads {head.weight.shape[1]}-wide vectors; {bundle.info.name}'s are "
                                f"{bundle.info.hidden_size} wide: train it again with this model")
        self.bundle = bundle
        self.head = head
        self.labels = list(head.labels)

    @property
    def path(self) -> dict[str, Any]:
        """The same shape as a fine-tuned head's path: the pooled vector, the one linear layer, softmax."""
        return {
            "input": "[CLS]" if self.head.pooling == "cls" else "mean",
            "width": int(self.head.weight.shape[1]),
            "layers": [{"name": "few-shot head", "shape": tuple(int(d) for d in self.head.weight.shape),
                        "activation": None}],
            "labels": self.labels,
            "function": SOFTMAX,
            "normalize": self.head.normalize,
        }

    def score(self, batch: EncodedBatch, handle: JobHandle | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(logits, probabilities), each (batch, labels)."""
        vectors = pooled_vectors(self.bundle, batch, self.head.pooling, handle)
        if self.head.normalize:
            vectors = vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
        logits = self.head.logits(vectors)
        return logits, apply_function(logits, SOFTMAX)


def _examples(examples: Iterable[Example | tuple[str, str]]) -> list[Example]:
    parsed = [e if isinstance(e, Example) else Example(*e) for e in examples]
    if any(not isinstance(e.text, str) or not isinstance(e.label, str) for e in parsed):
        raise BertdeskError("every example must be a text and a label")
    if any(not e.text.strip() for e in parsed):
        raise BertdeskError("an example has no text")
    if any(not e.label.strip() for e in parsed):
        raise BertdeskError("an example has no label")
    if len({e.label for e in parsed}) < 2:
        raise BertdeskError("give examples of at least two labels")
    return parsed


def _folds(targets: np.ndarray, folds: int) -> np.ndarray:
    """Each example's fold: round-robin within each label, so every fold holds every label (stratified)."""
    assignment = np.zeros(len(targets), np.int64)
    for label in np.unique(targets):
        members = np.flatnonzero(targets == label)
        assignment[members] = np.arange(len(members)) % folds
    return assignment


def cross_validate(
    vectors: np.ndarray, targets: np.ndarray, labels: list[str], *, folds: int = MAX_FOLDS, c: float = 1.0,
    handle: JobHandle | None = None,
) -> CrossValidation | None:
    """Stratified k-fold accuracy and confusion matrix (k = `folds`, at most the smallest label's count); None
    when a label has fewer than two examples."""
    handle = ensure_handle(handle)
    folds = min(folds, int(np.bincount(targets, minlength=len(labels)).min()))
    if folds < 2:
        return None
    assignment = _folds(targets, folds)
    predicted = np.zeros(len(targets), np.int64)
    for fold in range(folds):
        handle.check()
        train, test = assignment != fold, assignment == fold
        weight, bias = fit_logistic_regression(vectors[train], targets[train], len(labels), c=c)
        predicted[test] = np.argmax(vectors[test] @ weight.T + bias, axis=1)
        handle.progress((fold + 1) / folds, f"fold {fold + 1} of {folds}")
    confusion = np.zeros((len(labels), len(labels)), np.int64)
    np.add.at(confusion, (targets, predicted), 1)
    return CrossValidation(folds, float((predicted == targets).mean()), confusion.tolist(),
                           [labels[i] for i in predicted])


def train_head(
    bundle: Bundle,
    examples: Iterable[Example | tuple[str, str]],
    *,
    pooling: str = "mean",
    normalize: bool = True,
    folds: int = MAX_FOLDS,
    c: float = 1.0,
    handle: JobHandle | None = None,
) -> FewShotHead:
    """Embed the examples with an encoder bundle ([CLS] or mean pooling, last layer), train a logistic-regression
    layer on them and measure it by stratified k-fold cross-validation. Labels keep their first-seen order."""
    handle = ensure_handle(handle)
    if pooling not in POOLINGS:
        raise BertdeskError(f"unknown pooling {pooling!r} (choose {' or '.join(POOLINGS)})")
    if not c > 0:
        raise BertdeskError(f"C must be above 0, not {c}")
    if "last_hidden_state" not in bundle.info.outputs:
        raise BertdeskError(f"{bundle.info.name}'s graph gives no token vectors (last_hidden_state) to pool")
    parsed = _examples(examples)
    labels = list(dict.fromkeys(e.label for e in parsed))
    targets = np.asarray([labels.index(e.label) for e in parsed])
    vectors = embed_texts(bundle, [e.text for e in parsed], pooling=pooling, normalize=normalize,
                          handle=handle.sub(0.0, 0.6, "embedding: "))
    cv = cross_validate(vectors, targets, labels, folds=folds, c=c, handle=handle.sub(0.6, 0.95, "cross-validation: "))
    handle.check()
    weight, bias = fit_logistic_regression(vectors, targets, len(labels), c=c)
    training = float((np.argmax(vectors @ weight.T + bias, axis=1) == targets).mean())
    handle.progress(1.0, "trained")
    return FewShotHead(labels, pooling, normalize, weight, bias, len(parsed), training, cv, c)


def _append_head(model: onnx.ModelProto, head: FewShotHead) -> None:
    """Add pooling, normalisation and the linear layer after `last_hidden_state`, as a new output `logits`."""
    graph = model.graph
    nodes, consts = [], []

    def const(name: str, value: np.ndarray) -> str:
        consts.append(numpy_helper.from_array(np.array(value, order="C"), f"head.{name}"))
        return f"head.{name}"

    def op(op_type: str, inputs: list[str], output: str | None = None, **attrs: object) -> str:
        output = output or f"head.{op_type.lower()}_{len(nodes)}"
        nodes.append(helper.make_node(op_type, inputs, [output], name=output, **attrs))
        return output

    hidden = op("Cast", ["last_hidden_state"], to=TensorProto.FLOAT)
    if head.pooling == "cls":
        pooled = op("Gather", [hidden, const("first", np.array(0, np.int64))], axis=1)
    else:
        weights = op("Unsqueeze", [op("Cast", ["attention_mask"], to=TensorProto.FLOAT), const("axis2", np.array([2]))])
        axis1 = const("axis1", np.array([1], np.int64))
        summed = op("ReduceSum", [op("Mul", [hidden, weights]), axis1], keepdims=0)
        count = op("ReduceSum", [weights, axis1], keepdims=0)
        count = op("Max", [count, const("min_count", np.array(1e-9, np.float32))])
        pooled = op("Div", [summed, count])
    if head.normalize:
        squares = op("ReduceSum", [op("Mul", [pooled, pooled]), const("last_axis", np.array([-1]))], keepdims=1)
        norm = op("Max", [op("Sqrt", [squares]), const("min_norm", np.array(1e-12, np.float32))])
        pooled = op("Div", [pooled, norm])
    op("Gemm", [pooled, const("weight", head.weight.astype(np.float32)), const("bias", head.bias.astype(np.float32))],
       "logits", transB=1)
    graph.node.extend(nodes)
    graph.initializer.extend(consts)
    graph.output.append(helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", len(head.labels)]))


def _check_encoder(bundle: Bundle, model: onnx.ModelProto, head: FewShotHead) -> None:
    if bundle.info.task != TASK_ENCODER:
        raise BertdeskError(f"{bundle.info.name} is a {bundle.info.task} model: train a head on an encoder model")
    inputs = {i.name for i in model.graph.input}
    if head.pooling == "mean" and "attention_mask" not in inputs:
        raise BertdeskError(f"{bundle.info.name}'s graph takes no attention_mask: use [CLS] pooling")
    opset = next((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), 0)
    if opset < 13:
        raise BertdeskError(f"{bundle.info.name}'s graph uses ONNX opset {opset}; a head needs opset 13 or later")
    if head.weight.shape[1] != bundle.info.hidden_size:
        raise BertdeskError(f"the head reads {head.weight.shape[1]}-wide vectors; {bundle.info.name}'s are "
                            f"{bundle.info.hidden_size} wide")


def _config(bundle: Bundle, head: FewShotHead) -> dict:
    raw = json.loads((Path(bundle.info.path) / "config.json").read_text(encoding="utf-8"))
    prefix = "Bert" if bundle.info.model_type == "bert" else "DistilBert"
    raw["architectures"] = [f"{prefix}ForSequenceClassification"]
    raw["id2label"] = {str(i): label for i, label in enumerate(head.labels)}
    raw["label2id"] = {label: i for i, label in enumerate(head.labels)}
    raw["problem_type"] = "single_label_classification"
    return raw


def export_head(bundle: Bundle, head: FewShotHead, out: str | Path, *, handle: JobHandle | None = None) -> Path:
    """Save the encoder with the head as a new sequence-classification bundle in `out` (which must not exist):
    one ONNX graph (the encoder's, with pooling and a Gemm appended, output `logits`), config.json with the
    labels, the tokenizer. Installed as every bundle is (`install_bundle`): written beside `out`, checked to run,
    then moved into place."""
    handle = ensure_handle(handle)
    out = Path(out)
    taken = StorageError(f"{out} already exists: choose a new folder for the bundle")
    if out.exists():  # before the encoder is read; again under the lock
        raise taken
    handle.progress(0.05, "reading the encoder")
    model = onnx.load(str(bundle.graph_path))
    _check_encoder(bundle, model, head)
    _append_head(model, head)
    model.graph.name = f"{model.graph.name}+few-shot head"
    handle.check()

    def build(staging: Path) -> None:
        try:
            _write_head_bundle(bundle, head, model, staging, handle)
        except OSError as exc:
            raise StorageError(f"cannot write the bundle to {out}: {exc.strerror or exc}") from exc

    install_bundle(out, build, handle=handle, taken=taken)
    handle.progress(1.0, "saved")
    return out


def _write_head_bundle(bundle: Bundle, head: FewShotHead, model: onnx.ModelProto, folder: Path,
                       handle: JobHandle) -> None:
    """Write the classification bundle of `bundle`'s encoder with `head` (its graph `model`) into `folder`."""
    handle.progress(0.3, "writing the graph")
    large = model.ByteSize() > 1_500_000_000
    onnx.save_model(model, str(folder / "model.onnx"), save_as_external_data=large, location="model.onnx.data")
    handle.check()
    source = Path(bundle.info.path)
    (folder / "config.json").write_text(json.dumps(_config(bundle, head), indent=2), encoding="utf-8")
    for name in TOKENIZER_FILES:
        if (source / name).is_file():
            shutil.copy2(source / name, folder / name)
    metadata = {}
    if (source / BUNDLE_METADATA).is_file():
        metadata = json.loads((source / BUNDLE_METADATA).read_text(encoding="utf-8"))
    metadata.update({"task": TASK_CLASSIFICATION, "source": str(source), "head": head.to_dict()})
    (folder / BUNDLE_METADATA).write_text(json.dumps(metadata, indent=2), encoding="utf-8")
