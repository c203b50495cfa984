"""Removing and renaming installed bundles: only folders directly inside the models folder, never the model in use."""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
from pathlib import Path

from bertdesk.core.bundles.config import read_json
from bertdesk.core.bundles.names import BUNDLE_METADATA
from bertdesk.core.errors import BertdeskError
from bertdesk.core.files.folders import models_dir
from bertdesk.core.files.safety import TRASH, remove_stale, storage_error, target_lock

#: The key of bertdesk.json that records where an imported or downloaded bundle came from.
ORIGIN_KEY = "origin"
_MAX_NAME = 100
_FORBIDDEN = set('/\\:*?"<>|')


def check_name(name: str) -> str:
    """`name` if it can name a bundle folder in the models folder; BertdeskError in one line otherwise."""
    shown = repr(name[:120])
    if not name or not name.strip() or name != name.strip():
        raise BertdeskError(f"the model name {shown} is empty or has spaces at its ends")
    if name.startswith(".") or any(c in _FORBIDDEN or not c.isprintable() for c in name):
        raise BertdeskError(f"the model name {shown} cannot start with a dot or hold / \\ : * ? \" < > | or control "
                            "characters")
    if len(name.encode()) > _MAX_NAME:
        raise BertdeskError(f"the model name {shown} is longer than {_MAX_NAME} bytes")
    return name


def installed_path(name: str, models: Path | None = None) -> Path:
    """The folder of the installed bundle `name` (directly inside the models folder); BertdeskError if none."""
    models = models or models_dir()
    path = models / check_name(name)
    if not path.is_dir():
        installed = sorted(p.name for p in models.iterdir() if p.is_dir() and not p.name.startswith("."))
        raise BertdeskError(f"no installed model named {name!r} (installed: {', '.join(installed) or 'none'})")
    return path


def _same_model(name: str, in_use: str | None, models: Path) -> bool:
    if in_use is None:
        return False
    try:
        return name == in_use or (models / name).resolve() == Path(in_use).expanduser().resolve() or (
            (models / name).resolve() == (models / in_use).resolve())
    except (OSError, ValueError, RuntimeError):
        return False


def _refuse_in_use(name: str, in_use: str | None, models: Path, action: str) -> None:
    if _same_model(name, in_use, models):
        raise BertdeskError(f"{name} is the model in use: switch to another model before you {action} it")


def remove_model(name: str, *, in_use: str | None, models: Path | None = None) -> None:
    """Delete the installed bundle `name`, refusing the one in use (its name or folder, as the caller passes it).

    Only a folder directly inside the models folder is removed: a symbolic link there loses the link, never what it
    points to. The folder is first renamed aside in one step, so a crash leaves it whole or gone, never half deleted.
    """
    models = models or models_dir()
    path = installed_path(name, models)
    _refuse_in_use(name, in_use, models, "remove")
    with target_lock(path):
        remove_stale(path)
        if path.is_symlink():
            try:
                path.unlink()
            except OSError as exc:
                raise storage_error(f"cannot remove the link {path}", exc) from exc
            return
        trash = path.parent / f".{name}.{TRASH}-{os.getpid()}-{secrets.token_hex(4)}"
        try:
            os.rename(path, trash)
        except OSError as exc:
            raise storage_error(f"cannot remove {path}", exc) from exc
        shutil.rmtree(trash, ignore_errors=True)


def rename_model(old: str, new: str, *, in_use: str | None, models: Path | None = None) -> Path:
    """Rename the installed bundle `old` to `new` (a name free in the models folder); returns its new folder.

    The model in use is refused: the caller switches away from it first.
    """
    models = models or models_dir()
    path = installed_path(old, models)
    target = models / check_name(new)
    if old == new:
        return path
    _refuse_in_use(old, in_use, models, "rename")
    with target_lock(target):
        if os.path.lexists(target):
            raise BertdeskError(f"a model named {new!r} is already installed: choose another name")
        try:
            os.rename(path, target)
        except OSError as exc:
            raise storage_error(f"cannot rename {path} to {new}", exc) from exc
    return target


def model_origin(folder: Path) -> dict | None:
    """Where an installed bundle came from (bertdesk.json "origin": kind hub/folder/wheel, repo id, commit, path),
    or None when it does not say."""
    with contextlib.suppress(BertdeskError):
        data = read_json(folder / BUNDLE_METADATA)
        origin = data.get(ORIGIN_KEY) if isinstance(data, dict) else None
        if isinstance(origin, dict):
            return origin
    return None
