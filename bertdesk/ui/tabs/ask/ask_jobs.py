"""The Ask tab's worker-thread jobs: span QA window by window (partial results), or sentence retrieval."""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass

from bertdesk.core.bundles import Bundle
from bertdesk.core.jobs import JobHandle
from bertdesk.core.qa import (
    CharToToken,
    QAResult,
    RetrievalResult,
    batch_widths,
    iter_answer_question,
    retrieve_sentences,
)
from bertdesk.core.tokens import Utf16Offsets
from bertdesk.ui.tabs.ask.options_box import AskSettings

#: Windows per model batch in the tab: small batches, so answers and progress arrive every few windows, and runs
#: of one or two windows are the fastest (see `core.qa.answer.BATCH_TOKENS`).
WINDOWS_PER_BATCH = 2
#: Sentences listed by retrieval at least.
MIN_RETRIEVED = 3


@dataclass(frozen=True)
class AskRun:
    """One run's outcome (or a partial one) with what the tab needs to show it without recomputing."""

    bundle: Bundle
    question: str
    context: str
    settings: AskSettings
    result: QAResult | RetrievalResult
    utf16: Utf16Offsets  # context positions in Python characters ↔ Qt's UTF-16 units
    batch_tokens: int = 0  # the padded tokens per model batch (span QA)
    char_to_token: CharToToken | None = None  # for a complete span-QA result: the token under a character
    batch_widths: tuple[int, ...] = ()  # for a complete span-QA result: each window's padded batch width

    @property
    def is_retrieval(self) -> bool:
        """True for sentence retrieval (no QA model)."""
        return isinstance(self.result, RetrievalResult)


def answer_job(
    handle: JobHandle, bundle: Bundle, question: str, context: str, settings: AskSettings
) -> Generator[AskRun, None, AskRun]:
    """Answer window by window: yield a partial `AskRun` after each small batch, return the complete one."""
    utf16 = Utf16Offsets(context)
    batch_tokens = settings.options.window_len(bundle.info.max_positions) * WINDOWS_PER_BATCH
    run = None
    for result in iter_answer_question(
        bundle, question, context, settings.qa_options(), batch_tokens=batch_tokens, handle=handle
    ):
        run = AskRun(bundle, question, context, settings, result, utf16, batch_tokens)
        if not result.complete:
            yield run
    assert run is not None
    widths = batch_widths([len(w.input_ids) for w in run.result.windows], batch_tokens, bundle.lanes)
    return AskRun(
        bundle, question, context, settings, run.result, utf16, batch_tokens, CharToToken(run.result.context_offsets),
        tuple(widths),
    )


def retrieve_job(handle: JobHandle, bundle: Bundle, question: str, context: str, settings: AskSettings) -> AskRun:
    """Rank the context's sentences by cosine similarity to the question (an embedding model: no spans)."""
    utf16 = Utf16Offsets(context)
    result = retrieve_sentences(bundle, question, context, max(settings.options.top_k, MIN_RETRIEVED), handle=handle)
    return AskRun(bundle, question, context, settings, result, utf16)
