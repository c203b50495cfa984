"""One text (or pair) through any classifier, with its path and, optionally, why: what the Classify tab shows."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bertdesk.core.classify.occlusion import Explanation, explain
from bertdesk.core.classify.scoring import Classification, Scorer, classifications, encode_items, pad_encodings
from bertdesk.core.errors import BertdeskError
from bertdesk.core.jobs import JobHandle, ensure_handle


@dataclass(frozen=True)
class OneText:
    """A text classified: every label (sorted), the path it took, and the occlusion explanation if asked for."""

    row: Classification
    path: dict[str, Any]
    labels: list[str]  # in id order
    explanation: Explanation | None


def classify_one(
    scorer: Scorer, text: str, pair: str | None = None, *, why: bool = True, handle: JobHandle | None = None
) -> OneText:
    """Classify `text` (with `pair` as segment B) with `scorer`; with `why`, explain its top label by occlusion
    (one more batched run over every word-masked variant)."""
    handle = ensure_handle(handle)
    if not isinstance(text, str) or not text.strip():
        raise BertdeskError("no text to classify")
    items = [(0, text, pair)]
    encodings = encode_items(scorer, items)
    raw, probabilities = scorer.score(pad_encodings(encodings), handle.sub(0.0, 0.3))
    row = classifications(scorer, items, encodings, raw, probabilities)[0]
    explanation = None
    if why:
        explanation = explain(scorer, text, pair, label=row.top.label, handle=handle.sub(0.3, 1.0, "why: "))
    path = getattr(scorer, "path", {})
    path = path if isinstance(path, dict) else path.to_dict()
    return OneText(row=row, path=path, labels=list(scorer.labels), explanation=explanation)
