"""The window's settings as one JSON file, written atomically, and kept aside when it turns out corrupt.

JSON rather than QSettings: a half-written or hand-broken file is detected (and kept for inspection) instead of
being read silently as empty, and the write is a plain temp-file-and-rename.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from pathlib import Path

from bertdesk.core.paths import data_dir

SETTINGS_NAME = "settings.json"
SCHEMA_VERSION = 1


class SettingsStore:
    """Reads and writes the settings file (by default `data_dir()/settings.json`)."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path if path is not None else data_dir() / SETTINGS_NAME

    def load(self) -> tuple[dict, str | None]:
        """The saved settings, and a message for the user if the file was unreadable (then `{}` is returned and
        the bad file is kept next to it)."""
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return {}, None
        except OSError as exc:
            return {}, f"Could not read the settings file {self.path} ({exc.strerror}); starting with defaults."
        try:
            data = json.loads(raw.decode("utf-8"))
            if not isinstance(data, dict):
                raise ValueError("not a JSON object")
        except (ValueError, RecursionError):  # ValueError includes UnicodeDecodeError; RecursionError: too deep
            return {}, self._keep_bad_copy()
        return data, None

    def save(self, data: dict) -> None:
        """Write `data` atomically: a reader sees either the old file or the new one, never half of one."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        payload = json.dumps({**data, "version": SCHEMA_VERSION}, indent=2, ensure_ascii=False)
        fd, tmp = tempfile.mkstemp(prefix=".settings-", suffix=".tmp", dir=self.path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as file:
                file.write(payload)
                file.flush()
                os.fsync(file.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

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
