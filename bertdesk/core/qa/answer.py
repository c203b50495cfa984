"""Extractive question answering over contexts of any length: windows batched through the model, answers merged.

The answers are those of transformers 4.57.6 `pipeline("question-answering")` on the same weights and settings
(text, character offsets, scores); windows are batched (across questions too) instead of run one by one.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from bertdesk.core.bundles.bundle import Bundle
from bertdesk.core.engine.batching import DEFAULT_TOKEN_BUDGET, plan_batches
from bertdesk.core.engine.lanes import in_lanes, lane_budget
from bertdesk.core.errors import BertdeskError
from bertdesk.core.jobs import JobHandle, ensure_handle
from bertdesk.core.qa.answer_types import QAResult, WindowDetail
from bertdesk.core.qa.decode import AnswerMerger, select_spans
from bertdesk.core.qa.mode import qa_mode
from bertdesk.core.qa.options import QAOptions
from bertdesk.core.qa.windows import TokenizedText, Window, make_windows, pair_template

#: Padded tokens per model run (shared by the lanes): two windows of 384. One or two windows a run answer 35% faster
#: than 12 (6.5 vs 4.8 windows/s at one thread, minilm-l6-squad): a bigger batch's activations leave the caches.
BATCH_TOKENS = DEFAULT_TOKEN_BUDGET
#: Questions tokenized and answered together by the batch variant before their results are handed out.
QUESTIONS_PER_CHUNK = 64


@dataclass
class _Question:
    """One question over one context, cut into windows, with the model's logits as they arrive."""

    question: str
    context: str
    windows: list[Window]
    logits: list[tuple[np.ndarray, np.ndarray] | None]


def _check_bundle(bundle: Bundle) -> None:
    if qa_mode(bundle) != "span":
        raise BertdeskError(
            f"{bundle.info.name} is a {bundle.info.task} model, not a question-answering one: convert a QA model, "
            "or use sentence retrieval"
        )


def _check_text(value: object, what: str) -> str:
    if not isinstance(value, str):
        raise BertdeskError(f"the {what} must be text")
    if not value.strip():
        raise BertdeskError(f"the {what} is empty")
    return value


def _prepare(bundle: Bundle, pairs: list[tuple[str, str]], options: QAOptions) -> list[_Question]:
    """Tokenize every question and context in one call (which releases the GIL) and cut the windows."""
    checked = [(_check_text(q, "question"), _check_text(c, "context")) for q, c in pairs]
    texts = [q for q, _ in checked] + [c for _, c in checked]
    encodings = bundle.tokenizer.encode_batch(texts, add_special_tokens=False)
    template = pair_template(bundle.tokenizer)
    cls_id = bundle.tokenizer.token_to_id("[CLS]")
    max_seq_len = options.window_len(bundle.info.max_positions)
    prepared = []
    for i, (question, context) in enumerate(checked):
        question_tokens = TokenizedText.from_encoding(encodings[i], options.max_question_len)
        context_tokens = TokenizedText.from_encoding(encodings[len(checked) + i])
        if not len(context_tokens):
            raise BertdeskError("the context has no words to answer from")
        windows = make_windows(
            template, question_tokens, context_tokens, max_seq_len=max_seq_len, doc_stride=options.doc_stride,
            cls_id=cls_id,
        )
        prepared.append(_Question(question, context, windows, [None] * len(windows)))
    return prepared


def window_batches(lengths: list[int], batch_tokens: int, lanes: int = 1) -> list[list[int]]:
    """One question's windows (of these token `lengths`) in context order, in batches that run `lanes` at once
    under `batch_tokens` padded tokens together (one window at least each), at least `lanes` batches where there
    are windows enough.

    Every window but the last is full, so all are planned at the first one's length: the shared length bucketing
    then keeps context order (its sort is stable) and cuts consecutive groups, as partial results need.
    """
    return plan_batches([lengths[0]] * len(lengths), lane_budget(batch_tokens, lanes), lanes=lanes) if lengths else []


def _run(bundle: Bundle, group: list[Window], handle: JobHandle) -> list[tuple[np.ndarray, np.ndarray]]:
    """Start and end logits of each window, run as one padded batch."""
    width = max(len(w) for w in group)
    ids = np.zeros((len(group), width), np.int64)
    types = np.zeros_like(ids)
    mask = np.zeros_like(ids)
    for row, window in enumerate(group):
        n = len(window)
        ids[row, :n], types[row, :n], mask[row, :n] = window.input_ids, window.token_type_ids, 1
    out = bundle.run(ids, mask, types, handle=handle)
    return [(out["start_logits"][row, : len(w)], out["end_logits"][row, : len(w)]) for row, w in enumerate(group)]


class _Decoder:
    """The pipeline's post-processing for one question, fed its windows in context order."""

    def __init__(self, item: _Question, options: QAOptions) -> None:
        self._item, self._options = item, options
        self._merger = AnswerMerger(item.context)
        self._details: list[WindowDetail] = []
        self._offsets = item.windows[0].context.offsets  # shared by every result of this question, never copied

    def add(self, window: Window, start_logits: np.ndarray, end_logits: np.ndarray) -> None:
        """Decode the next window's spans and merge them."""
        options = self._options
        spans = select_spans(start_logits, end_logits, window.p_mask, options.top_k * 2 + 10, options.max_answer_len)
        self._merger.add(window, spans)
        self._details.append(_detail(window, spans.start_probs, spans.end_probs, spans.null_score))

    def result(self) -> QAResult:
        """The ranking over the windows added so far."""
        options, total = self._options, len(self._item.windows)
        return QAResult(
            question=self._item.question,
            answers=self._merger.ranked(options.top_k, options.with_null, options.null_threshold or 0.0),
            windows=list(self._details),
            windows_done=len(self._details),
            windows_total=total,
            context_offsets=self._offsets,
            complete=len(self._details) == total,
        )


def _decode_all(item: _Question, options: QAOptions) -> QAResult:
    decoder = _Decoder(item, options)
    for window, logits in zip(item.windows, item.logits, strict=True):
        assert logits is not None
        decoder.add(window, *logits)
    return decoder.result()


def _detail(window: Window, start_probs: np.ndarray, end_probs: np.ndarray, null_score: float) -> WindowDetail:
    first, last = window.context_position, window.context_position + window.token_end - window.token_start
    offsets = window.context.offsets
    return WindowDetail(
        index=window.index,
        token_start=window.token_start,
        token_end=window.token_end,
        char_start=int(offsets[window.token_start, 0]),
        char_end=int(offsets[window.token_end - 1, 1]),
        context_position=window.context_position,
        input_ids=window.input_ids.astype(np.int32),
        token_type_ids=window.token_type_ids.astype(np.int8),
        null_score=null_score,
        start_probs=np.asarray(start_probs[first:last], np.float32),
        end_probs=np.asarray(end_probs[first:last], np.float32),
    )


def qa_options(options: QAOptions | None, settings: dict[str, Any]) -> QAOptions:
    """`options`, or the settings given as keywords (`top_k=3, ...`) made into a QAOptions; not both."""
    if options is None:
        return QAOptions(**settings)
    if settings:
        raise TypeError(f"give QAOptions or settings as keywords, not both (got {', '.join(sorted(settings))})")
    return options


def iter_answer_question(
    bundle: Bundle,
    question: str,
    context: str,
    options: QAOptions | None = None,
    *,
    batch_tokens: int = BATCH_TOKENS,
    handle: JobHandle | None = None,
    **settings: Any,
) -> Iterator[QAResult]:
    """`answer_question`, yielding a partial result after each batch of windows; the last one is complete.

    A partial result ranks the answers of the windows seen so far, in context order.
    """
    handle = ensure_handle(handle)
    _check_bundle(bundle)
    options = qa_options(options, settings)
    handle.progress(0.0, "tokenizing")
    item = _prepare(bundle, [(question, context)], options)[0]
    decoder = _Decoder(item, options)
    done = 0
    total = len(item.windows)
    lanes = bundle.lanes
    plan = window_batches([len(w) for w in item.windows], batch_tokens, lanes)

    def run(indices: list[int]) -> list[tuple[np.ndarray, np.ndarray]]:
        handle.check()
        return _run(bundle, [item.windows[i] for i in indices], handle)

    for indices, logits in in_lanes(plan, run, lanes, handle):
        for i, (start, end) in zip(indices, logits, strict=True):
            decoder.add(item.windows[i], start, end)
        done += len(indices)
        handle.progress(done / total, f"window {done} of {total}")
        yield decoder.result()


def answer_question(
    bundle: Bundle,
    question: str,
    context: str,
    options: QAOptions | None = None,
    *,
    handle: JobHandle | None = None,
    **settings: Any,
) -> QAResult:
    """Answer `question` from `context` (any length) with a question-answering bundle: the best `top_k` answers.

    `options` (or its fields as keywords) are the pipeline's settings: windows of `max_seq_len` tokens (capped at
    the model's positions) overlapping by `doc_stride`, answers of at most `max_answer_len` tokens. The question is
    cut to `max_question_len` tokens (the pipeline's fast-tokenizer path ignores that limit; it only differs for
    longer questions). `handle_impossible_answer` lets the null answer (empty text) compete with its lowest
    per-window score; `null_threshold` implies it and ranks the null answer as if its score were lower by the
    threshold.
    """
    *_, result = iter_answer_question(bundle, question, context, qa_options(options, settings), handle=handle)
    return result


def iter_answer_questions(
    bundle: Bundle,
    pairs: Iterable[tuple[str, str]],
    options: QAOptions | None = None,
    *,
    batch_tokens: int = BATCH_TOKENS,
    handle: JobHandle | None = None,
    **settings: Any,
) -> Iterator[QAResult]:
    """One complete result per (question, context) pair, in order, with windows batched across questions.

    Pairs are taken `QUESTIONS_PER_CHUNK` at a time, so a long stream of pairs runs in bounded memory and results
    come out as each chunk finishes; progress is the fraction of the current chunk's windows done. `options` or
    its fields as keywords, as for `answer_question`.
    """
    handle = ensure_handle(handle)
    _check_bundle(bundle)
    options = qa_options(options, settings)
    chunk: list[tuple[str, str]] = []
    chunks_done = 0
    for pair in pairs:
        chunk.append(pair)
        if len(chunk) == QUESTIONS_PER_CHUNK:
            yield from _answer_chunk(bundle, chunk, options, batch_tokens, handle, chunks_done)
            chunk, chunks_done = [], chunks_done + 1
    if chunk:
        yield from _answer_chunk(bundle, chunk, options, batch_tokens, handle, chunks_done)


def _answer_chunk(
    bundle: Bundle, pairs: list[tuple[str, str]], options: QAOptions, batch_tokens: int, handle: JobHandle,
    chunk_index: int,
) -> Iterator[QAResult]:
    handle.check()
    items = _prepare(bundle, pairs, options)
    owners = [(item, window) for item in items for window in item.windows]
    done = 0
    first = chunk_index * QUESTIONS_PER_CHUNK
    lanes = bundle.lanes
    plan = plan_batches([len(window) for _, window in owners], lane_budget(batch_tokens, lanes), lanes=lanes)

    def run(indices: list[int]) -> list[tuple[np.ndarray, np.ndarray]]:
        handle.check()
        return _run(bundle, [owners[i][1] for i in indices], handle)

    for indices, logits in in_lanes(plan, run, lanes, handle):  # similar lengths together
        for i, window_logits in zip(indices, logits, strict=True):
            item, window = owners[i]
            item.logits[window.index] = window_logits
        done += len(indices)
        text = f"questions {first + 1}-{first + len(pairs)}: window {done} of {len(owners)}"
        handle.progress(done / len(owners), text)
    for item in items:
        yield _decode_all(item, options)


def answer_questions(
    bundle: Bundle,
    pairs: Iterable[tuple[str, str]],
    options: QAOptions | None = None,
    *,
    handle: JobHandle | None = None,
    **settings: Any,
) -> list[QAResult]:
    """`answer_question` for many (question, context) pairs, with windows batched across questions."""
    return list(iter_answer_questions(bundle, pairs, qa_options(options, settings), handle=handle))
