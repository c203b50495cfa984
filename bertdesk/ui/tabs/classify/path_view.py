"""The path a text takes to its label, drawn as a row of boxes: input → pooled vector → linear layer(s) → logits
→ softmax/sigmoid → probabilities, with the sizes of this model and the numbers of this text."""

from __future__ import annotations

from html import escape
from typing import Any

from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QVBoxLayout, QWidget

from bertdesk.core.classify import NONE, SIGMOID, SOFTMAX, ZERO_SHOT, Classification
from bertdesk.ui.widgets import wrapped_label

#: Logits printed in a box before it says "…".
MAX_NUMBERS = 4


def _numbers(values: list[float]) -> str:
    shown = ", ".join(f"{v:.2f}" for v in values[:MAX_NUMBERS])
    return f"[{shown}{', …' if len(values) > MAX_NUMBERS else ''}]"


def path_stages(path: dict[str, Any], row: Classification | None) -> list[tuple[str, str]]:
    """(title, detail) of every box, left to right, for a classifier's path and (if any) one text's numbers."""
    labels = path.get("labels", [])
    width = path.get("width", "?")
    tokens = f"{row.num_tokens} tokens{' (cut)' if row.truncated else ''}" if row is not None else "tokens"
    raw = row.raw_in_label_order() if row is not None else None
    stages = [("Input", tokens)]
    if path.get("method") == ZERO_SHOT:
        pooling = "[CLS]" if path.get("pooling") == "cls" else "mean of tokens"
        stages.append(("Sentence vector", f"{width} numbers, {pooling}, unit length"))
        stages.append(("Cosine", f"with {len(labels)} label sentences ({len(labels)}×{width})"))
        stages.append(("Cosines", _numbers(raw) if raw else f"{len(labels)} numbers"))
        stages.append(("Softmax", f"of cosine ÷ {path.get('temperature', 0):.3g}"))
    else:
        if path.get("input") == "mean":
            unit = ", unit length" if path.get("normalize", True) else ""
            stages.append(("Mean vector", f"{width} numbers{unit}"))
        else:
            stages.append(("[CLS] vector", f"{width} numbers"))
        for layer in path.get("layers", []):
            rows, cols = layer["shape"]
            after = f" → {layer['activation']}" if layer.get("activation") else ""
            stages.append((str(layer["name"]), f"W {rows}×{cols} + b{after}"))
        stages.append(("Logits", _numbers(raw) if raw else f"{len(labels)} numbers"))
        function = path.get("function")
        stages.append({SOFTMAX: ("Softmax", "one label wins, sum 1"),
                       SIGMOID: ("Sigmoid", "each label on its own"),
                       NONE: ("No function", "regression: the logit is the score")}.get(function,
                                                                                        ("?", str(function))))
    if row is not None:
        stages.append(("Label", f"{row.top.label} {row.top.probability:.1%}"))
    return stages


def path_caption(path: dict[str, Any]) -> str:
    """One sentence saying what the boxes do, with this model's sizes."""
    labels, width = len(path.get("labels", [])), path.get("width", "?")
    if path.get("method") == ZERO_SHOT:
        return (f"The text and each label sentence become {width}-number vectors; the cosine between them scores "
                f"the label, and a softmax of cosine ÷ temperature turns the {labels} scores into probabilities.")
    vector = "the mean of the output vectors" if path.get("input") == "mean" else "the first output vector ([CLS])"
    layers = path.get("layers", [])
    last = layers[-1]["shape"] if layers else (labels, width)
    function = {SOFTMAX: "a softmax makes them probabilities that add up to 1",
                SIGMOID: "a sigmoid makes each a probability on its own (they need not add up to 1)",
                NONE: "they are the scores themselves (regression)"}.get(path.get("function"), "")
    return (f"Of the output vectors (one per token), {vector} ({width} numbers) goes through the head: the last "
            f"weight matrix ({last[0]}×{last[1]}) gives one logit per label; {function}.")


class PathView(QWidget):
    """The boxes of the path and a caption under them."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.diagram = wrapped_label(self, name="classify-path", rich=True)
        self.caption = wrapped_label(self, name="classify-path-caption")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.diagram)
        layout.addWidget(self.caption)
        self._stages: list[tuple[str, str]] = []

    def set_path(self, path: dict[str, Any] | None, row: Classification | None = None) -> None:
        """Draw `path` (None: nothing to draw), with `row`'s numbers when given."""
        if not path:
            self._stages = []
            self.diagram.setText("")
            self.caption.setText("")
            return
        self._stages = path_stages(path, row)
        palette = self.palette()
        box = palette.color(QPalette.ColorRole.AlternateBase).name()
        border = palette.color(QPalette.ColorRole.Mid).name()
        cells = []
        for i, (title, detail) in enumerate(self._stages):
            if i:
                cells.append('<td valign="middle" style="padding:0 2px;">→</td>')
            cells.append(
                f'<td style="background-color:{box}; border:1px solid {border}; padding:3px 6px;">'
                f"<b>{escape(title)}</b><br>{escape(detail)}</td>"
            )
        self.diagram.setText(f'<table cellspacing="0" style="border-collapse:collapse;"><tr>{"".join(cells)}'
                             "</tr></table>")
        self.caption.setText(path_caption(path))

    def stages(self) -> list[tuple[str, str]]:
        """The boxes drawn, left to right."""
        return list(self._stages)
