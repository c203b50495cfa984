"""How a question is answered with a model: span QA with a question-answering model, else sentence retrieval."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from bertdesk.core.bundles.config import TASK_QA

if TYPE_CHECKING:
    from bertdesk.core.bundles.bundle import Bundle

#: "span": the model points at the answer in the context; "sentences": the context's sentences ranked by cosine
#: similarity to the question (any model that embeds text).
QAMode = Literal["span", "sentences"]


def qa_mode(bundle: Bundle) -> QAMode:
    """How `bundle` answers a question: "span" QA if it is a question-answering model, else "sentences"."""
    return "span" if bundle.info.task == TASK_QA else "sentences"
