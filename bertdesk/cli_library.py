"""The `library` command: the offline document library (added by the library issue)."""

from __future__ import annotations

import argparse
from collections.abc import Callable


def add_library_commands(command: Callable[..., argparse.ArgumentParser]) -> None:
    """Add `library` to the parser; `command(name, func, help, model=...)` makes a subcommand (see cli.build_parser)."""
