"""Where bertdesk keeps model bundles and user data."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

APP_NAME = "bertdesk"
_CHECKOUT_ROOT = Path(__file__).resolve().parents[2]


def _is_checkout(root: Path) -> bool:
    return (root / "pyproject.toml").is_file() and (root / "bertdesk" / "core").is_dir() and (root / ".git").exists()


def data_dir() -> Path:
    """The user's bertdesk data folder (settings, log, library); `BERTDESK_DATA` overrides it."""
    override = os.environ.get("BERTDESK_DATA")
    path = Path(override) if override else Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))
    path.mkdir(parents=True, exist_ok=True)
    return path


def models_dir() -> Path:
    """Installed bundles: `BERTDESK_MODELS`, else `models/` of a source checkout, else the user data folder's."""
    override = os.environ.get("BERTDESK_MODELS")
    if override:
        path = Path(override)
    elif _is_checkout(_CHECKOUT_ROOT):
        path = _CHECKOUT_ROOT / "models"
    else:
        path = Path(platformdirs.user_data_dir(APP_NAME, appauthor=False)) / "models"
    path.mkdir(parents=True, exist_ok=True)
    return path
