"""The `models` command: the installed bundles (and, as it grows, getting, importing and removing them)."""

from __future__ import annotations

import argparse
from collections.abc import Callable

from bertdesk.cli import _emit


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


def add_model_commands(command: Callable[..., argparse.ArgumentParser]) -> None:
    """Add `models` to the parser; `command(name, func, help, model=...)` makes a subcommand (see cli.build_parser)."""
    command("models", cmd_models, "list installed model bundles", model=False)
