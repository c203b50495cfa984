"""Installing a freedesktop.org menu entry and icon for the current user (`bertdesk --install-desktop`)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from importlib.resources import files
from pathlib import Path

ENTRY_NAME = "bertdesk.desktop"
ICON_NAME = "bertdesk"


def xdg_data_home() -> Path:
    """`$XDG_DATA_HOME`, or `~/.local/share` when it is unset or not absolute (as the XDG spec says)."""
    value = os.environ.get("XDG_DATA_HOME", "")
    return Path(value) if os.path.isabs(value) else Path.home() / ".local" / "share"


def installed_paths(data_home: Path | None = None) -> list[Path]:
    """The files `install()` writes: the desktop entry and the icons."""
    home = data_home if data_home is not None else xdg_data_home()
    icons = home / "icons" / "hicolor"
    return [
        home / "applications" / ENTRY_NAME,
        icons / "scalable" / "apps" / f"{ICON_NAME}.svg",
        icons / "256x256" / "apps" / f"{ICON_NAME}.png",
    ]


def exec_command() -> str:
    """The Exec= line: the `bertdesk` script next to this interpreter, else `python -m bertdesk.ui.app`."""
    script = Path(sys.executable).parent / "bertdesk"
    argv = [str(script)] if script.is_file() else [sys.executable, "-m", "bertdesk.ui.app"]
    return " ".join(_quote_exec_arg(arg) for arg in argv)


def install(data_home: Path | None = None) -> list[Path]:
    """Write the desktop entry and icons for the current user; returns the paths written."""
    entry, svg, png = installed_paths(data_home)
    resources = files("bertdesk.resources")
    template = (resources / ENTRY_NAME).read_text(encoding="utf-8")
    for path in (entry, svg, png):
        path.parent.mkdir(parents=True, exist_ok=True)
    entry.write_text(template.replace("@EXEC@", exec_command()), encoding="utf-8")
    svg.write_bytes((resources / f"{ICON_NAME}.svg").read_bytes())
    png.write_bytes((resources / f"{ICON_NAME}.png").read_bytes())
    _refresh_caches(entry.parent)
    return [entry, svg, png]


def uninstall(data_home: Path | None = None) -> list[Path]:
    """Remove what `install()` wrote; returns the paths that existed and were removed."""
    removed = []
    for path in installed_paths(data_home):
        if path.exists():
            path.unlink()
            removed.append(path)
    if removed:
        _refresh_caches(installed_paths(data_home)[0].parent)
    return removed


def _quote_exec_arg(arg: str) -> str:
    # The desktop entry spec: double every % (field codes); quote arguments holding reserved characters, with
    # " ` $ \ backslash-escaped inside the quotes; then the string-level escape doubles every backslash again.
    arg = arg.replace("%", "%%")
    if not any(char in arg for char in " \t\n\"'\\><~|&;$*?#()`"):
        return arg
    quoted = '"' + "".join("\\" + char if char in '"`$\\' else char for char in arg) + '"'
    return quoted.replace("\\", "\\\\")


def _refresh_caches(applications: Path) -> None:
    # Menus pick the entry up by themselves on most desktops; the cache refresh only speeds that up.
    tool = shutil.which("update-desktop-database")
    if tool is not None:
        subprocess.run([tool, "-q", str(applications)], check=False, capture_output=True)
