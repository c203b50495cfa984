"""The sample inputs: what a first launch shows, and what the screenshots analyse."""

from __future__ import annotations

import json
from importlib.resources import files


def sample_text(tab_name: str) -> str | None:
    """The sample input for a tab ("tokens", ...), if it has one."""
    samples = json.loads((files("bertdesk.resources") / "samples.json").read_text(encoding="utf-8"))
    return samples.get(tab_name)
