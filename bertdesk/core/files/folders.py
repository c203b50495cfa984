"""Where bertdesk keeps model bundles and user data."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

from bertdesk.core.errors import StorageError

APP_NAME = "bertdesk"
_CHECKOUT_ROOT = Path(__file__).resolve().parents[3]


def _is_checkout(root: Path) -> bool:
    return (root / "pyproject.toml").is_file() and (root / "bertdesk" / "core").is_dir() and (root / ".git").exists()


def _folder(path: Path, what: str) -> Path:
    """`path`, created if missing; StorageError in one line if it is not a folder or cannot be created."""
    try:
        path.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise StorageError(f"the {what} {path} is a file, not a folder") from None
    except OSError as exc:
        reason = exc.strerror or str(exc)
        where = f" ({exc.filename})" if exc.filename and str(exc.filename) != str(path) else ""
        raise StorageError(f"the {what} {path} cannot be created: {reason}{where}") from None
    return path


def data_dir() -> Path:
    """The user's bertdesk data folder (settings, log, library); `BERTDESK_DATA` overrides it.

    Raises StorageError if it is a file or cannot be created.
    """
    override = os.environ.get("BERTDESK_DATA")
    if override:
        return _folder(Path(override), "data folder (BERTDESK_DATA)")
    return _folder(Path(platformdirs.user_data_dir(APP_NAME, appauthor=False)), "data folder")


def models_dir() -> Path:
    """Installed bundles: `BERTDESK_MODELS`, else `models/` of a source checkout, else the user data folder's.

    Raises StorageError if it is a file or cannot be created.
    """
    override = os.environ.get("BERTDESK_MODELS")
    if override:
        return _folder(Path(override), "models folder (BERTDESK_MODELS)")
    if _is_checkout(_CHECKOUT_ROOT):
        return _folder(_CHECKOUT_ROOT / "models", "models folder")
    return _folder(Path(platformdirs.user_data_dir(APP_NAME, appauthor=False)) / "models", "models folder")
