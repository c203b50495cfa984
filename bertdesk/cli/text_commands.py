"""The text commands: `tokenize`, `embed` and `similarity`."""

from __future__ import annotations

import argparse
import io
import json
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

from bertdesk.cli.arguments import argument, count, count_or_zero, open_bundle, precision_option
from bertdesk.cli.output import emit, emit_lines
from bertdesk.core.errors import BertdeskError, StorageError


def cmd_tokenize(args: argparse.Namespace) -> None:
    """Tokens, ids, offsets, type ids, masks, truncation."""
    from bertdesk.core.tokens import tokenize

    text = argument(args.text, "the text")
    pair = argument(args.pair, "--pair") if args.pair is not None else None
    bundle = open_bundle(args)
    result = tokenize(bundle.tokenizer, text, pair, max_length=bundle.info.max_positions)

    def human() -> str:
        pieces = " ".join(t.piece for t in result.model_tokens())
        note = f" (truncated at {result.max_length})" if result.truncated else ""
        return f"{result.num_tokens} tokens{note}: {pieces}"

    emit(args, result.to_dict(), human)


def cmd_embed(args: argparse.Namespace) -> None:
    """Sentence vectors."""
    from bertdesk.core.engine import embed_stream, embed_texts, resolve_layer

    if args.file is not None:
        if args.texts:
            raise BertdeskError("give texts or --file, not both")
        bundle = open_bundle(args)
        resolve_layer(bundle, args.layer)  # a wrong layer is refused before any line is read
        lines = _text_lines(args.file)
        vectors = embed_stream(bundle, lines, layer=args.layer, pooling=args.pool)
        rows = ({"index": n, "vector": [round(float(x), 7) for x in v]} for n, v in enumerate(vectors, 1))
        emit_lines(args, rows, lambda row: f"{row['index']}\t{' '.join(f'{x:.4f}' for x in row['vector'][:4])} "
                                            f"… ({len(row['vector'])} dims)")
        return
    if not args.texts:
        raise BertdeskError("give one or more texts, or --file FILE")
    texts = [argument(t, f"text {n}") for n, t in enumerate(args.texts, 1)]
    bundle = open_bundle(args)
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
    emit(args, data, lambda: "\n".join(f"{t[:40]!r}: {v[:4].round(4)}… ({len(v)} dims)" for t, v in zip(
        texts, vectors, strict=True)))


_SAMPLE_BYTES = 65536  # what the encoding of a streamed file is judged from


def _text_lines(path: Path) -> Iterator[str]:
    """The lines of a text file (`-`: standard input) without their line ends, read as they are needed; the
    encoding is judged from the start of the file (a BOM, UTF-8, else a legacy code page)."""
    from bertdesk.core.files import detect_encoding

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
        bundle = open_bundle(args)
        if args.positions is not None:
            from bertdesk.core.similarity import positions_report

            data = positions_report(bundle, args.positions)
        else:
            data = similarity.neighbours_report(bundle, argument(args.neighbours, "--neighbours"), args.count)
        emit(args, data, lambda: json.dumps(data, ensure_ascii=False))
        return
    if args.attention:
        if args.tokens is None or args.layer is None:
            raise BertdeskError("--attention needs --tokens TEXT and --layer L (attention layers are 1 to N)")
        text = argument(args.tokens, "--tokens")
        bundle = open_bundle(args)
        data = similarity.attention_report(bundle, text, layer=args.layer, head=args.head, causal=args.causal)
        emit(args, data, lambda: json.dumps(data, ensure_ascii=False))
        return
    if args.head is not None:
        raise BertdeskError("--head goes with --attention")
    if args.tokens is not None:
        text = argument(args.tokens, "--tokens")
        bundle = open_bundle(args)
        result = similarity.token_similarity(bundle, text, layer=args.layer, causal=args.causal)
    elif args.sentences is not None:
        if args.causal:
            raise BertdeskError("--causal compares tokens: use it with --tokens")
        sentences = [argument(s, f"sentence {n}") for n, s in enumerate(args.sentences, 1)]
        bundle = open_bundle(args)
        result = similarity.sentence_similarity(bundle, sentences, layer=args.layer, pooling=args.pool)
    else:
        raise BertdeskError("give --tokens TEXT, --sentences S..., --positions N or --neighbours TOKEN")

    def human() -> str:
        width = max(len(label) for label in result.labels[:40])
        rows = [f"{label[:width]:>{width}} " + " ".join(f"{v:5.2f}" for v in row)
                for label, row in zip(result.labels, result.matrix, strict=True)]
        return f"cosine similarity after layer {result.layer}:\n" + "\n".join(rows)

    emit(args, {"model": bundle.info.name, **result.to_dict()}, human)


def add_text_commands(command: Callable[..., argparse.ArgumentParser]) -> None:
    """Add `tokenize`, `embed` and `similarity`; `command(name, func, help, model=...)` makes a subcommand (see
    program.build_parser)."""
    sub = command("tokenize", cmd_tokenize, "split text into WordPiece tokens")
    sub.add_argument("text", help="the text (segment A); - reads standard input")
    sub.add_argument("--pair", help="a second text (segment B), joined as [CLS] A [SEP] B [SEP]")
    sub = command("embed", cmd_embed, "embed texts as vectors")
    sub.add_argument("texts", nargs="*", help="one or more texts")
    sub.add_argument("--file", type=Path, help="one text a line (- reads standard input): one vector a line out, in "
                                               "order, as they are done")
    precision_option(sub)
    sub.add_argument("--layer", type=int, help="hidden state to use: 0 = embeddings … L = last (default); -1 = last")
    sub.add_argument("--pool", choices=["cls", "mean"], help="sentence vector: [CLS] or mean of tokens "
                                                               "(default: the model's native pooling)")
    sub = command("similarity", cmd_similarity, "cosine similarity of tokens or sentences")
    group = sub.add_mutually_exclusive_group()
    group.add_argument("--tokens", metavar="TEXT", help="token x token similarity within one text")
    group.add_argument("--sentences", nargs="+", metavar="S", help="sentence x sentence similarity")
    group.add_argument("--positions", type=count, metavar="N",
                       help="cosine of the first N learned position vectors, and of the segment vectors")
    group.add_argument("--neighbours", metavar="TOKEN", help="nearest vocabulary entries by input-embedding cosine")
    sub.add_argument("--count", type=count, default=10, help="with --neighbours: how many (default 10)")
    sub.add_argument("--attention", action="store_true",
                     help="with --tokens and --layer L: attention of layer L (1..N), mean over heads or --head H")
    sub.add_argument("--head", type=count_or_zero, help="with --attention: one head (0-based), with its scores "
                                                         "before the softmax")
    sub.add_argument("--causal", action="store_true",
                     help="with --tokens: run the same weights with a causal mask (each token sees only its left)")
    sub.add_argument("--layer", type=int, help="hidden state to use (default: last)")
    sub.add_argument("--pool", choices=["cls", "mean"], help="sentence pooling (default: the model's)")
    precision_option(sub)
