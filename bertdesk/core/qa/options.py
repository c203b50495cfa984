"""The question-answering settings (`QAOptions`): their fields, defaults and limits, in one place for the pipeline,
the command line and the Ask tab. Light to import: the command line reads the defaults while it builds its parser."""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from typing import Any

from bertdesk.core.errors import BertdeskError

#: The least value of each whole-number setting.
_AT_LEAST = {"top_k": 1, "max_seq_len": 1, "doc_stride": 0, "max_answer_len": 1, "max_question_len": 1}


def _problem(name: str, value: object) -> str | None:
    """Why `value` cannot be the setting `name`, or None when it can."""
    if name in _AT_LEAST:
        least = _AT_LEAST[name]
        if isinstance(value, bool) or not isinstance(value, int) or value < least:
            return f"{name} must be a whole number of at least {least}, got {value!r}"
    elif name == "null_threshold" and value is not None and (
        isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value)
    ):
        return f"null_threshold must be a finite number, got {value!r}"
    elif name == "handle_impossible_answer" and not isinstance(value, bool):
        return f"handle_impossible_answer must be True or False, got {value!r}"
    return None


def check_setting(name: str, value: object) -> None:
    """Raise a BertdeskError naming the setting when `value` is outside the limits of the QA setting `name`."""
    problem = _problem(name, value)
    if problem is not None:
        raise BertdeskError(problem)


@dataclass(frozen=True)
class QAOptions:
    """The pipeline's settings; `max_seq_len` is capped at the model's positions (`window_len`).

    `handle_impossible_answer` lets the null answer (empty text) compete; `null_threshold` (None: not set) implies it
    and ranks the null answer as if its score were lower by the threshold.
    """

    top_k: int = 1
    max_seq_len: int = 384
    doc_stride: int = 128
    max_answer_len: int = 15
    max_question_len: int = 64
    handle_impossible_answer: bool = False
    null_threshold: float | None = None

    def __post_init__(self) -> None:
        for field in fields(self):
            check_setting(field.name, getattr(self, field.name))

    @classmethod
    def from_user(cls, values: Mapping[str, object], defaults: QAOptions | None = None) -> QAOptions:
        """The options a user set, by field name (other names are ignored; a field not given keeps its default).

        Without `defaults` a bad value is an error that names the field; with them (saved settings, say) a bad value
        keeps its default instead.
        """
        given: dict[str, Any] = {f.name: values[f.name] for f in fields(cls) if f.name in values}  # checked below
        if defaults is None:
            return cls(**given)
        return replace(defaults, **{name: value for name, value in given.items() if _problem(name, value) is None})

    @property
    def with_null(self) -> bool:
        """Whether the null answer competes: asked for, or implied by a threshold."""
        return self.handle_impossible_answer or self.null_threshold is not None

    def window_len(self, max_positions: int) -> int:
        """The tokens of one window for a model of `max_positions` positions: `max_seq_len`, capped at them."""
        return min(self.max_seq_len, max_positions)
