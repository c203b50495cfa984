"""Changing a copy of a bundle or checkpoint to break it (tests only)."""

from __future__ import annotations

import json
from pathlib import Path


def edit_config(folder: Path, **changes: object) -> None:
    """Set `changes` in `folder`'s config.json."""
    path = folder / "config.json"
    path.write_text(json.dumps(json.loads(path.read_text(encoding="utf-8")) | changes), encoding="utf-8")
