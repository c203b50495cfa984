"""Ask the library: the best passages for a question (hybrid search), then the QA reader over them in one batched
run, answers placed on their document's page; without a reader, the best sentence of each passage, labelled as
retrieval."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bertdesk.core.bundles.bundle import Bundle, list_bundles, open_model
from bertdesk.core.bundles.config import TASK_QA
from bertdesk.core.engine.embed import embed_texts
from bertdesk.core.errors import LibraryError, ReindexLibrary
from bertdesk.core.jobs import JobHandle, ensure_handle
from bertdesk.core.library.embedder_choice import open_library_embedder
from bertdesk.core.library.records import PASSAGE_QUERY, PassageInfo, passage_info, usable_rows
from bertdesk.core.library.retrieval import HasPath, PassageHit, check_question, search_passages
from bertdesk.core.library.retrieval_vectors import reading
from bertdesk.core.library.store import LibraryStore, default_db_path
from bertdesk.core.qa import iter_answer_questions
from bertdesk.core.qa.sentence_ranking import split_sentences

MODE_SPAN_QA = "span QA"
MODE_RETRIEVAL = "retrieval"
RETRIEVAL_NOTE = "passage retrieval, not span QA: install a question-answering model for answer spans"
#: Answers the reader gives per passage before they are merged and ranked across passages.
ANSWERS_PER_PASSAGE = 3
#: Passages the reader reads by default: the reader costs ~0.08 CPU s a passage, and on SQuAD questions over a
#: library (bench/library_bench.py) reading 5 finds the right page as often as 20.
READ_PASSAGES = 5
#: An answer's score is its reader score divided by its passage's search rank to this power. The reader's
#: probabilities are per passage (each passage has a "best span" whatever it holds), so by reader score alone a
#: confident span in a poor passage beats the answer in the best one: on 60 SQuAD questions over 400 paragraphs the
#: first answer was right 21 times by reader score (reading 20 passages), 43 times with exponent 1, 47 with 1.5.
RANK_EXPONENT = 1.5


@dataclass(frozen=True)
class LibraryAnswer:
    """An answer on a page: `page_text[start:end] == text`, inside the passage that starts at `passage_start`."""

    text: str
    score: float
    document_id: int
    path: Path
    title: str
    kind: str
    page: int
    passage_id: int
    passage_text: str
    passage_start: int
    start: int
    end: int
    make_up: dict  # bm25_rank, dense_rank, fused, phrase_boost, reader_score (None in retrieval mode), ...

    def to_dict(self) -> dict:
        """JSON-ready fields, as `library ask --json` prints them."""
        return {
            "text": self.text, "score": self.score, "document": self.document_id, "title": self.title,
            "path": str(self.path), "kind": self.kind, "page": self.page, "start": self.start, "end": self.end,
            "passage": self.passage_text, "passage_start": self.passage_start, "passage_id": self.passage_id,
            "make_up": self.make_up,
        }


@dataclass(frozen=True)
class LibraryResult:
    """A question's answers, best first; `mode` says whether they are spans a QA reader chose or retrieved
    sentences."""

    question: str
    mode: str
    answers: tuple[LibraryAnswer, ...]
    reader: str | None
    note: str

    def to_dict(self) -> dict:
        """JSON-ready fields."""
        return {
            "question": self.question, "mode": self.mode, "reader": self.reader, "note": self.note,
            "answers": [a.to_dict() for a in self.answers],
        }


@dataclass(frozen=True)
class _Found:
    """A search hit and its passage."""

    hit: PassageHit
    passage: PassageInfo


def ask_library(
    store: HasPath,
    question: str,
    embedder: Bundle,
    reader: Bundle | None,
    *,
    top_k: int = 5,
    passages: int = 20,
    document_ids: Sequence[int] | None = None,
    folder: Path | None = None,
    handle: JobHandle | None = None,
    read: int = READ_PASSAGES,
) -> LibraryResult:
    """Answer `question` from the library: the best `min(read, passages)` passages (see `search_passages`) read by
    the QA `reader` in one batched run, the `top_k` best answers by reader score divided by their passage's rank to
    the power RANK_EXPONENT (the same span found through overlapping passages counted once, with its best score;
    `make_up` shows both parts). Without a question-answering reader: the `top_k` best passages,
    each with its sentence closest to the question as the answer, in mode "retrieval"."""
    handle = ensure_handle(handle)
    question = check_question(question)
    if isinstance(top_k, bool) or not isinstance(top_k, int) or top_k < 1:
        raise LibraryError(f"top_k must be a whole number of at least 1, got {top_k!r}")
    is_reader = reader is not None and reader.info.task == TASK_QA
    if isinstance(read, bool) or not isinstance(read, int) or read < 1:
        raise LibraryError(f"the number of passages to read must be a whole number of at least 1, got {read!r}")
    limit = min(passages, read) if is_reader else min(passages, top_k)
    hits = search_passages(
        store, question, embedder, limit=max(limit, 1), document_ids=document_ids, folder=folder, handle=handle
    )
    found = _load_passages(store, hits)
    if is_reader:
        assert reader is not None
        answers = _read(reader, question, found, top_k, handle)
        return LibraryResult(question, MODE_SPAN_QA, answers, reader.info.name, "")
    note = RETRIEVAL_NOTE
    if reader is not None:
        note += f" ({reader.info.name} is a {reader.info.task} model, not a question-answering one)"
    answers = _best_sentences(embedder, question, found[:top_k], handle)
    return LibraryResult(question, MODE_RETRIEVAL, answers, None, note)


def _load_passages(store: HasPath, hits: list[PassageHit]) -> list[_Found]:
    """The hits' passages with their documents, in the hits' order (a passage removed meanwhile is left out, and so is
    a damaged one, with a warning; LibraryError if every one is)."""
    with reading(store.path) as (connection, _):
        rows = connection.execute(
            f"{PASSAGE_QUERY} WHERE p.id IN (SELECT value FROM json_each(?))",
            [json.dumps([h.passage_id for h in hits])],
        ).fetchall()
    by_id = {info.id: info for info in usable_rows(rows, passage_info, lambda r: f"passage {r[0]}")}
    if rows and not by_id:
        raise LibraryError("every passage found for the question is damaged in the library (see above)",
                           ReindexLibrary())
    return [_Found(h, by_id[h.passage_id]) for h in hits if h.passage_id in by_id]


def _make_up(hit: PassageHit, **extra: float | None) -> dict:
    return {
        "bm25_rank": hit.bm25_rank, "dense_rank": hit.dense_rank, "fused": hit.score - hit.phrase_boost,
        "phrase_boost": hit.phrase_boost, **extra,
    }


def _answer(found: _Found, text: str, start: int, end: int, score: float, make_up: dict) -> LibraryAnswer:
    passage = found.passage
    return LibraryAnswer(
        text=text, score=score, document_id=passage.document_id, path=passage.path, title=passage.title,
        kind=passage.kind, page=passage.page, passage_id=passage.id, passage_text=passage.text,
        passage_start=passage.start, start=passage.start + start, end=passage.start + end, make_up=make_up,
    )


def _read(reader: Bundle, question: str, found: list[_Found], top_k: int,
          handle: JobHandle) -> tuple[LibraryAnswer, ...]:
    """The reader over every passage in one batched run; a span found in overlapping passages (same page, same
    offsets) is one answer with its best score."""
    # a passage without a letter or digit (zero-width or control characters only) gives the reader no tokens
    readable = [(rank, f) for rank, f in enumerate(found, start=1) if any(c.isalnum() for c in f.passage.text)]
    best: dict[tuple[int, int, int, int], LibraryAnswer] = {}
    results = iter_answer_questions(
        reader, [(question, f.passage.text) for _, f in readable], top_k=ANSWERS_PER_PASSAGE, handle=handle
    )
    for (rank, item), result in zip(readable, results, strict=True):
        for a in result.answers:
            if a.is_null or not a.text.strip():
                continue
            make_up = _make_up(item.hit, reader_score=a.score, passage_rank=rank)
            answer = _answer(item, a.text, a.start, a.end, a.score / rank**RANK_EXPONENT, make_up)
            key = (answer.document_id, answer.page, answer.start, answer.end)
            if key not in best or best[key].score < answer.score:
                best[key] = answer
    ranked = sorted(best.values(), key=lambda a: (-a.score, -a.make_up["fused"], a.passage_id, a.start))
    return tuple(ranked[:top_k])


def _best_sentences(embedder: Bundle, question: str, found: list[_Found],
                    handle: JobHandle) -> tuple[LibraryAnswer, ...]:
    """Each passage's sentence closest in meaning to the question (one embedding run for all of them)."""
    sentences = [split_sentences(f.passage.text) for f in found]
    texts = [question] + [s.text for group in sentences for s in group]
    vectors = embed_texts(embedder, texts, normalize=True, handle=handle)
    scores = vectors[1:] @ vectors[0]
    answers, offset = [], 0
    for item, group in zip(found, sentences, strict=True):
        if not group:
            continue
        index = int(np.argmax(scores[offset : offset + len(group)]))
        sentence, cosine = group[index], float(scores[offset + index])
        offset += len(group)
        make_up = _make_up(item.hit, reader_score=None, sentence_score=cosine)
        answers.append(_answer(item, sentence.text, sentence.start, sentence.end, item.hit.score, make_up))
    return tuple(answers)


def default_reader() -> Bundle | None:
    """The first installed question-answering bundle, or None."""
    for info in list_bundles():
        if info.task == TASK_QA:
            return open_model(info.path)
    return None


def ask_command(
    db_path: Path | None,
    question: str,
    *,
    top_k: int = 5,
    model: str | None = None,
    reader: str | None = None,
    precision: str | None = None,
    handle: JobHandle | None = None,
    read: int = READ_PASSAGES,
) -> dict:
    """`library ask`: the answers as a JSON-ready dict ({"question", "mode", "reader", "note", "answers": [...]}).

    `model` is the embedder (default: the library's recorded one, else the default model), `reader` a QA bundle
    (default: the first installed question-answering bundle, else retrieval only)."""
    path = Path(db_path) if db_path is not None else default_db_path()
    check_question(question)
    with LibraryStore(path, read_only=True) as store:
        embedder = open_library_embedder(store.path, model, precision, handle)
        qa = open_model(reader, handle=handle) if reader is not None else default_reader()
        result = ask_library(store, question, embedder, qa, top_k=top_k, handle=handle, read=read)
    return result.to_dict()
