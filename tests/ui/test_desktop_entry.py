"""`bertdesk --install-desktop` / `--uninstall-desktop`, into XDG_DATA_HOME."""

from __future__ import annotations

import configparser
import shlex
import sys
from pathlib import Path

from bertdesk.ui import desktop_entry
from bertdesk.ui.app import main


def read_entry(path: Path) -> configparser.SectionProxy:
    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str  # keys are case-sensitive
    parser.read(path, encoding="utf-8")
    return parser["Desktop Entry"]


def test_install_and_uninstall(tmp_path, capsys):
    xdg = tmp_path / "xdg"
    assert main(["--install-desktop"]) == 0
    entry_path = xdg / "applications" / "bertdesk.desktop"
    svg = xdg / "icons" / "hicolor" / "scalable" / "apps" / "bertdesk.svg"
    png = xdg / "icons" / "hicolor" / "256x256" / "apps" / "bertdesk.png"
    assert entry_path.is_file() and svg.is_file() and png.is_file()
    assert png.read_bytes().startswith(b"\x89PNG")
    assert str(entry_path) in capsys.readouterr().out

    entry = read_entry(entry_path)
    assert entry["Type"] == "Application"
    assert entry["Name"] == "bertdesk"
    assert entry["Icon"] == "bertdesk"
    assert entry["StartupWMClass"] == "bertdesk"
    command = shlex.split(entry["Exec"])
    script = Path(sys.executable).parent / "bertdesk"
    if script.is_file():
        assert command == [str(script)]
    else:
        assert command == [sys.executable, "-m", "bertdesk.ui.app"]

    assert main(["--uninstall-desktop"]) == 0
    assert not entry_path.exists() and not svg.exists() and not png.exists()
    assert main(["--uninstall-desktop"]) == 0
    assert "nothing to remove" in capsys.readouterr().out


def test_xdg_data_home_unset_means_local_share(monkeypatch, tmp_path):
    monkeypatch.delenv("XDG_DATA_HOME")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert desktop_entry.xdg_data_home() == tmp_path / ".local" / "share"
    monkeypatch.setenv("XDG_DATA_HOME", "relative/is/ignored")
    assert desktop_entry.xdg_data_home() == tmp_path / ".local" / "share"


def test_exec_falls_back_to_the_module(monkeypatch, tmp_path):
    monkeypatch.setattr(sys, "executable", str(tmp_path / "no script here" / "python3"))
    assert desktop_entry.exec_command() == f'"{tmp_path}/no script here/python3" -m bertdesk.ui.app'


def test_exec_arguments_are_quoted_per_the_spec():
    assert desktop_entry._quote_exec_arg("/usr/bin/bertdesk") == "/usr/bin/bertdesk"
    assert desktop_entry._quote_exec_arg("/opt/my apps/bertdesk") == '"/opt/my apps/bertdesk"'
    assert desktop_entry._quote_exec_arg("/opt/100%/bertdesk") == "/opt/100%%/bertdesk"
    assert desktop_entry._quote_exec_arg('/opt/a "b"/x') == '"/opt/a \\\\"b\\\\"/x"'
