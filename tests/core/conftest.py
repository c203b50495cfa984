"""Fixtures of the core tests that break bundles."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest


@pytest.fixture
def bundle_copy(tiny_bundle: Path, tmp_path: Path) -> Path:
    """A copy of the tiny bundle for this test to change."""
    return Path(shutil.copytree(tiny_bundle, tmp_path / "bundle"))
