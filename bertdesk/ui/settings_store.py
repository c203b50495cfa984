"""The window's settings as one JSON file, written atomically, and kept aside when it turns out corrupt.

JSON rather than QSettings: a half-written or hand-broken file is detected (and kept for inspection) instead of
being read silently as empty, and the write is a plain temp-file-and-rename. A file that cannot be read at all (no
permission, a folder) is left as it is and never written over. Inputs longer than `LARGE_TEXT_CHARS` are kept in
files of their own beside it, each written only when it changed, so that the settings file stays small.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from pathlib import Path

from bertdesk.core.files import data_dir

SETTINGS_NAME = "settings.json"
SCHEMA_VERSION = 1
#: Tab inputs longer than this (in characters) are stored in `INPUTS_FOLDER`, not in the settings file.
LARGE_TEXT_CHARS = 64_000
INPUTS_FOLDER = "inputs"


class SettingsStore:
    """Reads and writes the settings file (by default `data_dir()/settings.json`)."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path if path is not None else data_dir() / SETTINGS_NAME
        # False once the file turned out unreadable: it is the user's to fix, so it is never written over.
        self.writable = True
        self._stored: dict[str, str] = {}  # the text of each large input as last read or written, by file name

    def load(self) -> tuple[dict, str | None]:
        """The saved settings, and a message for the user if the file was unreadable (then `{}` is returned and
        the bad file is kept next to it)."""
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return {}, None
        except OSError as exc:
            self.writable = False
            return {}, (
                f"Could not read the settings file {self.path} ({exc.strerror}); starting with defaults, and "
                "leaving that file as it is: settings are not saved until it can be read."
            )
        try:
            data = json.loads(raw.decode("utf-8"))
            if not isinstance(data, dict):
                raise ValueError("not a JSON object")
        except (ValueError, RecursionError):  # ValueError includes UnicodeDecodeError; RecursionError: too deep
            return {}, self._keep_bad_copy()
        tabs = data.get("tabs")
        if isinstance(tabs, dict):
            data["tabs"] = {name: self._read_large_inputs(state) for name, state in tabs.items()}
        return data, None

    def save(self, data: dict) -> None:
        """Write `data` atomically: a reader sees either the old file or the new one, never half of one.

        Nothing is written once the file turned out unreadable (see `writable`).
        """
        if not self.writable:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tabs = data.get("tabs")
        if isinstance(tabs, dict):
            data = {**data, "tabs": {name: self._write_large_inputs(name, state) for name, state in tabs.items()}}
        payload = json.dumps({**data, "version": SCHEMA_VERSION}, indent=2, ensure_ascii=False)
        _write_atomically(self.path, payload)

    def _inputs(self) -> Path:
        return self.path.parent / INPUTS_FOLDER

    def _write_large_inputs(self, tab: str, state: object) -> object:
        """`state` with each long text replaced by a reference to its own file, written if it changed."""
        if not isinstance(state, dict):
            return state
        kept = dict(state)
        for key, value in state.items():
            name = f"{tab}.{key}.txt"
            if isinstance(value, str) and len(value) > LARGE_TEXT_CHARS:
                if self._stored.get(name) != value:
                    self._inputs().mkdir(exist_ok=True)
                    _write_atomically(self._inputs() / name, value)
                    self._stored[name] = value
                kept[key] = {"file": name}
            elif self._stored.pop(name, None) is not None:
                (self._inputs() / name).unlink(missing_ok=True)  # the input is short again: it lives in settings
        return kept

    def _read_large_inputs(self, state: object) -> object:
        """`state` with each reference to an input file replaced by the file's text (dropped if unreadable)."""
        if not isinstance(state, dict):
            return state
        loaded = dict(state)
        for key, value in state.items():
            if not isinstance(value, dict):
                continue
            name = value.get("file")
            del loaded[key]
            if not isinstance(name, str) or Path(name).name != name or not name.endswith(".txt"):
                continue
            try:
                text = (self._inputs() / name).read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError):
                continue
            loaded[key] = self._stored[name] = text
        return loaded

    def _keep_bad_copy(self) -> str:
        """Move the corrupt file aside; returns the message for the user."""
        kept = self.path.with_name(f"{self.path.name}.corrupt-{time.strftime('%Y%m%d-%H%M%S')}")
        try:
            os.replace(self.path, kept)
        except OSError as exc:
            return (
                f"The settings file {self.path} was corrupt and could not be set aside ({exc.strerror}); "
                "starting with defaults."
            )
        return f"The settings file was corrupt and was set aside as {kept.name}; starting with defaults."


def _write_atomically(path: Path, text: str) -> None:
    """Write `text` to a temporary file beside `path`, then rename it over `path`."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}-", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as file:
            file.write(text)
            file.flush()
            os.fsync(file.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
