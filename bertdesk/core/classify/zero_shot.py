"""Zero-shot classification with an embedding model: the text against one sentence per label, by cosine.

Each label becomes a sentence ("This text is about sports.", with its description after it if given); the text and
every label sentence are embedded with the model's native pooling; the cosines, divided by a temperature, go through
a softmax. It knows only what the embedding model puts near each label sentence: labels that are close in meaning,
negations and labels the model has no notion of give weak or wrong scores.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bertdesk.core.bundles.bundle import Bundle
from bertdesk.core.classify.heads import check_inputs
from bertdesk.core.classify.scoring import (
    ZERO_SHOT,
    Classification,
    ClassifyResult,
    classifications,
    encode_items,
    pooled_vectors,
    run_buckets,
)
from bertdesk.core.engine.embed import EncodedBatch, embed_texts
from bertdesk.core.errors import BertdeskError
from bertdesk.core.jobs import JobHandle

DEFAULT_TEMPLATE = "This text is about {label}."
DEFAULT_TEMPERATURE = 0.05


@dataclass(frozen=True)
class ZeroShotLabel:
    """A label and, optionally, a description that sharpens its sentence."""

    name: str
    description: str = ""


def label_sentence(label: ZeroShotLabel, template: str = DEFAULT_TEMPLATE) -> str:
    """The sentence a label is compared by: the template with {label} filled in, then the description."""
    if "{label}" not in template:
        raise BertdeskError('the template must contain {label}, e.g. "This text is about {label}."')
    sentence = template.replace("{label}", label.name)
    return f"{sentence} {label.description.strip()}" if label.description.strip() else sentence


def parse_labels(labels: list[str | ZeroShotLabel | tuple[str, str]]) -> list[ZeroShotLabel]:
    """Labels from names, (name, description) pairs or `ZeroShotLabel`s; at least two, distinct, non-empty."""
    parsed = []
    for label in labels:
        if isinstance(label, ZeroShotLabel):
            parsed.append(label)
        elif isinstance(label, str):
            parsed.append(ZeroShotLabel(label.strip()))
        elif isinstance(label, tuple) and len(label) == 2 and all(isinstance(x, str) for x in label):
            parsed.append(ZeroShotLabel(label[0].strip(), label[1]))
        else:
            raise BertdeskError(f"a label must be a name or a (name, description) pair, not {label!r}")
    names = [label.name for label in parsed]
    if any(not name for name in names):
        raise BertdeskError("a label is empty")
    if len(parsed) < 2:
        raise BertdeskError("zero-shot classification needs at least two labels")
    if len(set(names)) != len(names):
        raise BertdeskError(f"labels repeat: {', '.join(sorted({n for n in names if names.count(n) > 1}))}")
    return parsed


def softmax_at(cosines: np.ndarray, temperature: float) -> np.ndarray:
    """Softmax of cosine / temperature over the last axis."""
    scaled = np.asarray(cosines, np.float64) / temperature
    shifted = np.exp(scaled - scaled.max(axis=-1, keepdims=True))
    return shifted / shifted.sum(axis=-1, keepdims=True)


class ZeroShotClassifier:
    """An embedding bundle with its label sentences embedded once, as a `Scorer` for any number of texts."""

    method = ZERO_SHOT

    def __init__(
        self,
        bundle: Bundle,
        labels: list[str | ZeroShotLabel | tuple[str, str]],
        *,
        template: str = DEFAULT_TEMPLATE,
        temperature: float = DEFAULT_TEMPERATURE,
        handle: JobHandle | None = None,
    ) -> None:
        if not temperature > 0:
            raise BertdeskError(f"the temperature must be above 0, not {temperature}")
        if "last_hidden_state" not in bundle.info.outputs:
            raise BertdeskError(f"{bundle.info.name}'s graph gives no token vectors (last_hidden_state) to compare")
        self.bundle = bundle
        self.zero_shot_labels = parse_labels(labels)
        self.labels = [label.name for label in self.zero_shot_labels]
        self.sentences = [label_sentence(label, template) for label in self.zero_shot_labels]
        self.template = template
        self.temperature = float(temperature)
        self.label_vectors = _unit(embed_texts(bundle, self.sentences, handle=handle))

    @property
    def path(self) -> dict:
        """What the tab shows: how each label was phrased, the pooling, the temperature."""
        return {
            "method": ZERO_SHOT,
            "template": self.template,
            "labels": self.labels,
            "label_sentences": self.sentences,
            "pooling": self.bundle.info.pooling,
            "width": self.bundle.info.hidden_size,
            "temperature": self.temperature,
        }

    def vectors(self, batch: EncodedBatch, handle: JobHandle | None = None) -> np.ndarray:
        """Unit sentence vectors of a batch, with the model's native pooling."""
        return _unit(pooled_vectors(self.bundle, batch, self.bundle.info.pooling, handle))

    def score(self, batch: EncodedBatch, handle: JobHandle | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(cosines, probabilities), each (batch, labels)."""
        cosines = self.vectors(batch, handle) @ self.label_vectors.T
        return cosines, softmax_at(cosines, self.temperature)


def _unit(vectors: np.ndarray) -> np.ndarray:
    return vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)


def zero_shot(
    bundle: Bundle,
    texts: list[str],
    labels: list[str | ZeroShotLabel | tuple[str, str]],
    *,
    template: str = DEFAULT_TEMPLATE,
    temperature: float = DEFAULT_TEMPERATURE,
    batch_size: int = 32,
    handle: JobHandle | None = None,
) -> ClassifyResult:
    """Classify texts against labels with an embedding model: each label's cosine and its probability (a softmax
    of cosine / temperature), highest first."""
    items = check_inputs(texts, None)
    scorer = ZeroShotClassifier(bundle, labels, template=template, temperature=temperature, handle=handle)
    encodings = encode_items(scorer, items)
    rows: list[Classification | None] = [None] * len(items)
    for _, batch, chosen, (cosines, probabilities) in run_buckets(bundle, [encodings],
                                                                  lambda b: scorer.score(b, handle),
                                                                  max_rows=batch_size, handle=handle):
        for i, row in zip(batch, classifications(scorer, [items[i] for i in batch], chosen, cosines, probabilities),
                          strict=True):
            rows[i] = row
    return ClassifyResult(rows=rows, path=scorer.path)  # type: ignore[arg-type]
