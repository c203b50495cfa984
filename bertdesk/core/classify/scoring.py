"""What every classifier here returns: each label with its probability, sorted, in a JSON-ready form."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

import numpy as np
from tokenizers import Encoding

from bertdesk.core.bundles.bundle import Bundle
from bertdesk.core.bundles.graph import CLS_STATE
from bertdesk.core.engine.batching import DEFAULT_MAX_ROWS, DEFAULT_TOKEN_BUDGET, pad, plan_batches
from bertdesk.core.engine.embed import EncodedBatch, pool
from bertdesk.core.engine.lanes import in_lanes
from bertdesk.core.jobs import JobHandle

Output = TypeVar("Output")

#: How a classifier turns its raw scores into probabilities.
SOFTMAX, SIGMOID, NONE, ZERO_SHOT = "softmax", "sigmoid", "none", "zero-shot"


@dataclass(frozen=True)
class LabelScore:
    """One label of one text: its probability and the raw score it came from (a logit, or a cosine)."""

    label: str
    index: int  # the label's id (its row in the classifier, its place in the label list)
    probability: float
    raw: float

    def to_dict(self, raw_name: str) -> dict[str, Any]:
        """`{"label", "probability", raw_name}`; `raw_name` is "logit" or "cosine"."""
        return {"label": self.label, "probability": self.probability, raw_name: self.raw}


@dataclass(frozen=True)
class Classification:
    """One text (or text pair) classified: every label, highest probability first."""

    index: int  # position in the input: the text's index, or a file's row number
    text: str
    pair: str | None
    method: str  # SOFTMAX, SIGMOID (each label on its own), NONE (regression: raw logits) or ZERO_SHOT
    scores: list[LabelScore]
    num_tokens: int
    truncated: bool

    @property
    def top(self) -> LabelScore:
        """The most probable label."""
        return self.scores[0]

    def raw_in_label_order(self) -> list[float]:
        """The raw scores (logits or cosines) in label-id order."""
        return [s.raw for s in sorted(self.scores, key=lambda s: s.index)]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: the input, the top label, every label with its probability, the raw scores in id order."""
        raw_name = "cosine" if self.method == ZERO_SHOT else "logit"
        return {
            "index": self.index,
            "text": self.text,
            "pair": self.pair,
            "label": self.top.label,
            "probability": self.top.probability,
            "method": self.method,
            "labels": [s.to_dict(raw_name) for s in self.scores],
            f"{raw_name}s": self.raw_in_label_order(),
            "num_tokens": self.num_tokens,
            "truncated": self.truncated,
        }


@dataclass(frozen=True)
class ClassifyResult:
    """Classifications of several texts, with the path they took through the model (for display)."""

    rows: list[Classification]
    path: dict[str, Any]
    cls_vectors: np.ndarray | None = field(default=None, repr=False)  # (n, hidden), when the model gives them

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: the path and each row (the vectors are left out)."""
        return {"path": self.path, "results": [row.to_dict() for row in self.rows]}


class Scorer(Protocol):
    """A classifier over a bundle: raw scores and probabilities for a padded batch of model inputs."""

    bundle: Bundle
    labels: list[str]
    method: str

    def score(self, batch: EncodedBatch, handle: JobHandle | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(raw, probabilities), each (batch, labels)."""


def pad_encodings(encodings: list[Encoding]) -> EncodedBatch:
    """Model inputs for already tokenized rows, padded to the longest."""
    ids, mask, types = pad(encodings)
    return EncodedBatch(ids, mask, types, [e.tokens for e in encodings], [bool(e.overflowing) for e in encodings])


def run_buckets(
    bundle: Bundle,
    chunks: Iterable[list[Encoding]],
    run: Callable[[EncodedBatch], Output],
    *,
    max_rows: int = DEFAULT_MAX_ROWS,
    token_budget: int = DEFAULT_TOKEN_BUDGET,
    handle: JobHandle | None = None,
) -> Iterator[tuple[int, list[int], list[Encoding], Output]]:
    """`run` on the length buckets (`batching.plan_batches`) of each chunk of tokenized rows, `bundle.lanes` at once;
    yields (the chunk's number, the rows' positions in it, their encodings, what `run` gave) per bucket, chunk after
    chunk, shortest first within one. The lanes go on into the next chunk while a chunk's last buckets finish: a
    chunk is read (tokenized, say) only when the lanes need its buckets."""
    lanes = bundle.lanes

    def buckets() -> Iterator[tuple[int, list[Encoding], list[int]]]:
        for number, encodings in enumerate(chunks):
            for rows in plan_batches([len(e.ids) for e in encodings], token_budget, max_rows, lanes):
                yield number, [encodings[i] for i in rows], rows

    def one(bucket: tuple[int, list[Encoding], list[int]]) -> Output:
        if handle is not None:
            handle.check()
        return run(pad_encodings(bucket[1]))

    for (number, chosen, rows), output in in_lanes(buckets(), one, lanes, handle):
        yield number, rows, chosen, output


def classifications(
    scorer: Scorer,
    items: list[tuple[int, str, str | None]],
    encodings: list[Encoding],
    raw: np.ndarray,
    probabilities: np.ndarray,
) -> list[Classification]:
    """One `Classification` per (index, text, pair) item from a scorer's outputs."""
    rows = []
    for (index, text, pair), encoding, raw_row, prob_row in zip(items, encodings, raw, probabilities, strict=True):
        order = sorted(range(len(scorer.labels)), key=lambda i: -float(prob_row[i]))
        scores = [LabelScore(scorer.labels[i], i, float(prob_row[i]), float(raw_row[i])) for i in order]
        rows.append(
            Classification(
                index=index,
                text=text,
                pair=pair,
                method=scorer.method,
                scores=scores,
                num_tokens=len(encoding.ids),
                truncated=bool(encoding.overflowing),
            )
        )
    return rows


def encode_items(scorer: Scorer, items: list[tuple[int, str, str | None]]) -> list[Encoding]:
    """Tokenize (index, text, pair) items as the model needs them (truncated at its length), unpadded."""
    inputs = [text if pair is None else (text, pair) for _, text, pair in items]
    return scorer.bundle.model_tokenizer.encode_batch(inputs)


def pooled_vectors(bundle: Bundle, batch: EncodedBatch, pooling: str, handle: JobHandle | None = None) -> np.ndarray:
    """(batch, hidden) sentence vectors of the last layer pooled `pooling` ("cls" or "mean"); [CLS] pooling runs the
    last layer for the [CLS] row alone (`Bundle.run`'s `outputs`)."""
    if pooling == "cls":
        out = bundle.run(batch.input_ids, batch.attention_mask, batch.token_type_ids, handle=handle,
                         outputs=(CLS_STATE,))
        return out[CLS_STATE]
    out = bundle.run(batch.input_ids, batch.attention_mask, batch.token_type_ids, handle=handle,
                     outputs=("last_hidden_state",))
    return pool(out["last_hidden_state"], batch.attention_mask, pooling)
