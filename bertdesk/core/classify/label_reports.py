"""What the command line's `classify` and `train-head` print, as JSON-ready values (the CLI only parses and prints).

    classify TEXT... [--pair TEXT2] [--labels a,b,c] --json   → classify_command(...)
    classify --file F [--labels a,b,c]                         → classify_file_command(...): one dict per row
    train-head --examples CSV --out DIR                        → train_head_command(...)
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from bertdesk.core.bundles.bundle import Bundle
from bertdesk.core.classify.batch import classify_file, scorer_for
from bertdesk.core.classify.few_shot import MAX_FOLDS, export_head, read_examples, train_head
from bertdesk.core.classify.heads import classify
from bertdesk.core.classify.zero_shot import DEFAULT_TEMPERATURE, DEFAULT_TEMPLATE, zero_shot
from bertdesk.core.errors import BertdeskError
from bertdesk.core.jobs import JobHandle


def split_labels(text: str) -> list[str]:
    """The labels of `--labels "sports, politics,cooking"`: split at commas, spaces trimmed, empties dropped."""
    return [label.strip() for label in text.split(",") if label.strip()]


def classify_command(
    bundle: Bundle,
    texts: list[str],
    *,
    pair: str | None = None,
    labels: list[str] | None = None,
    template: str = DEFAULT_TEMPLATE,
    temperature: float = DEFAULT_TEMPERATURE,
    handle: JobHandle | None = None,
) -> dict[str, Any]:
    """Classify `texts` (each with `pair` as segment B, if given) with the bundle's head, or zero-shot against
    `labels`: `{"model", "path", "results": [{"label", "probability", "labels": [every label...], ...}]}`."""
    if labels:
        if pair is not None:
            raise BertdeskError("zero-shot classification (--labels) compares single texts: drop --pair")
        result = zero_shot(bundle, texts, labels, template=template, temperature=temperature, handle=handle)
    else:
        pairs = None if pair is None else [pair] * len(texts)
        result = classify(bundle, texts, pairs, handle=handle)
    return {"model": bundle.info.name, **result.to_dict()}


def classify_file_command(
    bundle: Bundle,
    path: str | Path,
    *,
    labels: list[str] | None = None,
    text_column: str | int | None = None,
    pair_column: str | int | None = None,
    template: str = DEFAULT_TEMPLATE,
    temperature: float = DEFAULT_TEMPERATURE,
    handle: JobHandle | None = None,
) -> Iterator[dict[str, Any]]:
    """Every row of a TXT (one text per line) or CSV/TSV file (a text column), classified, one dict per row in
    input order, streamed: print each as a JSON line as it comes. `index` is the line (TXT) or data row (CSV)."""
    scorer = scorer_for(bundle, labels or None, template=template, temperature=temperature, handle=handle)
    for row in classify_file(scorer, path, text_column=text_column, pair_column=pair_column, handle=handle):
        yield row.to_dict()


def train_head_command(
    bundle: Bundle,
    examples: str | Path,
    out: str | Path,
    *,
    pooling: str = "mean",
    folds: int = MAX_FOLDS,
    c: float = 1.0,
    handle: JobHandle | None = None,
) -> dict[str, Any]:
    """Train a few-shot head on the CSV `examples` (text,label) with an encoder bundle and save encoder + head as a
    new classification bundle in `out`: the training report (k-fold accuracy, confusion matrix) and the folder."""
    head = train_head(bundle, read_examples(examples), pooling=pooling, folds=folds, c=c,
                      handle=handle.sub(0.0, 0.8) if handle else None)
    saved = export_head(bundle, head, out, handle=handle.sub(0.8, 1.0) if handle else None)
    return {"model": bundle.info.name, "out": str(saved), **head.to_dict()}
