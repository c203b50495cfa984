"""What the command line's `qa` prints, as JSON-ready values (the CLI only parses and prints).

    qa --question Q (--context TEXT | --context-file F) [settings] --json   → qa_command(...)
    qa --batch FILE.jsonl [settings]                                        → qa_batch_command(...): one dict a line
"""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from bertdesk.core.bundles.bundle import Bundle
from bertdesk.core.bundles.tokenizer import is_unicode
from bertdesk.core.errors import BertdeskError, StorageError
from bertdesk.core.jobs import JobHandle
from bertdesk.core.qa.answer import answer_question, iter_answer_questions
from bertdesk.core.qa.mode import qa_mode
from bertdesk.core.qa.options import QAOptions
from bertdesk.core.qa.sentence_ranking import retrieve_sentences


def qa_command(
    bundle: Bundle, question: str, context: str, options: QAOptions, *, details: bool = False,
    handle: JobHandle | None = None,
) -> dict[str, Any]:
    """Answers to `question` from `context`: span QA with a question-answering bundle, else sentence retrieval
    (`kind` says which)."""
    if qa_mode(bundle) == "sentences":
        result = retrieve_sentences(bundle, question, context, top_k=options.top_k, handle=handle)
        return {"model": bundle.info.name, **result.to_dict()}
    result = answer_question(bundle, question, context, options, handle=handle)
    return {"model": bundle.info.name, **result.to_dict(details=details)}


def read_batch(path: Path) -> Iterator[tuple[object, str, str]]:
    """(id, question, context) for each line of a JSON Lines file; blank lines are skipped, a bad line is an error
    naming its number."""
    try:
        stream = path.open(encoding="utf-8-sig")
    except OSError as exc:
        raise StorageError(f"cannot read {path}: {exc.strerror or exc}") from exc
    with stream:
        try:
            for number, line in enumerate(stream, 1):
                if not line.strip():
                    continue
                try:
                    row = json.loads(line)
                except (ValueError, RecursionError) as exc:
                    raise BertdeskError(f"{path} line {number} is not valid JSON") from exc
                if not isinstance(row, dict):
                    raise BertdeskError(f"{path} line {number} must be an object with question and context")
                question, context = row.get("question"), row.get("context")
                if not isinstance(question, str) or not isinstance(context, str):
                    raise BertdeskError(f"{path} line {number} needs \"question\" and \"context\" as text")
                if not (is_unicode(question) and is_unicode(context)):
                    raise BertdeskError(f"{path} line {number} holds characters that are not valid Unicode "
                                        "(unpaired surrogates such as \\ud800): write them as UTF-8")
                yield row.get("id", number), question, context
        except UnicodeDecodeError as exc:
            raise BertdeskError(f"{path} is not UTF-8 text (JSON Lines files are UTF-8)") from exc


def qa_batch_command(
    bundle: Bundle, path: Path, options: QAOptions, *, handle: JobHandle | None = None
) -> Iterator[dict[str, Any]]:
    """One result per line of `path`, in order, `{"id", "answers", ...}`: one model, windows batched across
    questions, the file read as the answers go (bounded memory)."""
    if qa_mode(bundle) != "span":
        raise BertdeskError(f"{bundle.info.name} is not a question-answering model; `qa --batch` evaluates span QA")
    ids: deque[object] = deque()

    def pairs() -> Iterator[tuple[str, str]]:
        for row_id, question, context in read_batch(path):
            ids.append(row_id)
            yield question, context

    for result in iter_answer_questions(bundle, pairs(), options, handle=handle):
        yield {"id": ids.popleft(), **result.to_dict()}
