"""The task commands: `qa` (extractive question answering), `classify` and `train-head`."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

from bertdesk.cli.arguments import argument, count, count_or_zero, finite, open_bundle, precision_option
from bertdesk.cli.output import emit, emit_lines, one_line, stderr_progress
from bertdesk.core.errors import BertdeskError
from bertdesk.core.qa import QAOptions


def _answers_line(result: dict) -> str:
    answers = result.get("answers") or result.get("sentences") or []
    shown = "; ".join(f"{a.get('text', '')!r} ({a.get('score', 0):.3f})" for a in answers)
    return f"{result.get('id', '')} {shown}".strip()


def cmd_qa(args: argparse.Namespace) -> None:
    """Extractive question answering (or sentence retrieval with an embedding model)."""
    from bertdesk.core.qa import qa_batch_command, qa_command

    options = QAOptions.from_user(vars(args))
    if args.batch is not None:
        if args.question is not None or args.context is not None or args.context_file is not None:
            raise BertdeskError("--batch takes questions and contexts from the file: drop --question/--context")
        bundle = open_bundle(args)
        emit_lines(args, qa_batch_command(bundle, args.batch, options, handle=stderr_progress()), _answers_line)
        return
    if args.question is None:
        raise BertdeskError("give --question (with --context or --context-file), or --batch FILE.jsonl")
    question = argument(args.question, "--question")
    if (args.context is None) == (args.context_file is None):
        raise BertdeskError("give the context with exactly one of --context TEXT or --context-file FILE")
    if args.context is not None:
        context = argument(args.context, "--context")
    else:
        from bertdesk.core.files import read_text_file

        context = read_text_file(args.context_file)[0]
    bundle = open_bundle(args)
    result = qa_command(bundle, question, context, options, details=args.details)
    emit(args, result, lambda: _answers_line(result))


def cmd_classify(args: argparse.Namespace) -> None:
    """Fine-tuned classification, or zero-shot against --labels with an embedding model."""
    from bertdesk.core.classify import classify_command, classify_file_command, split_labels

    labels = split_labels(argument(args.labels, "--labels")) if args.labels is not None else None
    if args.labels is not None and not labels:
        raise BertdeskError("--labels needs at least one label, e.g. --labels sports,politics")
    if args.file is not None:
        if args.texts:
            raise BertdeskError("give texts or --file, not both")
        bundle = open_bundle(args)
        rows = classify_file_command(bundle, args.file, labels=labels, text_column=args.text_column,
                                     pair_column=args.pair_column, handle=stderr_progress())
        emit_lines(args, rows, lambda row: f"{row.get('index', '')}\t{one_line(str(row.get('label', '')))}\t"
                                            f"{row.get('probability', 0):.4f}")
        return
    if not args.texts:
        raise BertdeskError("give one or more texts, or --file FILE")
    texts = [argument(t, f"text {n}") for n, t in enumerate(args.texts, 1)]
    pair = argument(args.pair, "--pair") if args.pair is not None else None
    bundle = open_bundle(args)
    result = classify_command(bundle, texts, pair=pair, labels=labels)
    emit(args, result, lambda: "\n".join(
        f"{one_line(str(r.get('label', '')))}\t{r.get('probability', 0):.4f}\t{t[:60]!r}"
        for r, t in zip(result["results"], texts, strict=True)))


def cmd_train_head(args: argparse.Namespace) -> None:
    """A few-shot classification head trained on examples, saved with the encoder as a new bundle."""
    from bertdesk.core.classify import train_head_command

    bundle = open_bundle(args)
    result = train_head_command(bundle, args.examples, args.out, pooling=args.pool, handle=stderr_progress())
    emit(args, result, lambda: f"saved {result['out']}")


def add_task_commands(command: Callable[..., argparse.ArgumentParser]) -> None:
    """Add `qa`, `classify` and `train-head`; `command(name, func, help, model=...)` makes a subcommand (see
    program.build_parser)."""
    sub = command("qa", cmd_qa, "answer a question from a context (extractive QA), or from a JSON Lines batch")
    sub.add_argument("--question", help="the question; - reads standard input")
    sub.add_argument("--context", help="the text to find the answer in; - reads standard input")
    sub.add_argument("--context-file", type=Path, help="a text file to find the answer in (encoding detected)")
    sub.add_argument("--batch", type=Path, help='a JSON Lines file, one {"id", "question", "context"} a line: '
                                                "one line of answers out per line in, in order")
    qa = QAOptions()
    sub.add_argument("--top-k", type=count, default=qa.top_k, help=f"how many answers (default {qa.top_k})")
    sub.add_argument("--max-seq-len", type=count, default=qa.max_seq_len,
                     help=f"tokens per window (default {qa.max_seq_len})")
    sub.add_argument("--doc-stride", type=count_or_zero, default=qa.doc_stride,
                     help=f"tokens shared by neighbouring windows (default {qa.doc_stride})")
    sub.add_argument("--max-answer-len", type=count, default=qa.max_answer_len,
                     help=f"longest answer in tokens (default {qa.max_answer_len})")
    sub.add_argument("--null-threshold", type=finite, help="allow 'no answer' when its score beats the best span's "
                                                            "by this margin (SQuAD 2.0 style)")
    sub.add_argument("--details", action="store_true", help="with --json: per-window probabilities and layout")
    precision_option(sub)
    sub = command("classify", cmd_classify, "classify texts with a fine-tuned head, or zero-shot against labels")
    sub.add_argument("texts", nargs="*", help="texts to classify; - reads standard input")
    sub.add_argument("--pair", help="a second text (segment B) for pair tasks")
    sub.add_argument("--labels", help="zero-shot with an embedding model: comma-separated labels")
    sub.add_argument("--file", type=Path, help="TXT (one text a line) or CSV/TSV: one result line per row")
    sub.add_argument("--text-column", help="with --file CSV: the text column's name or number")
    sub.add_argument("--pair-column", help="with --file CSV: the segment-B column's name or number")
    precision_option(sub)
    sub = command("train-head", cmd_train_head, "train a few-shot classification head and save it as a bundle")
    sub.add_argument("--examples", type=Path, required=True, help="CSV with text,label rows")
    sub.add_argument("--out", type=Path, required=True, help="the new bundle folder")
    sub.add_argument("--pool", choices=["mean", "cls"], default="mean", help="sentence vector the head reads")
