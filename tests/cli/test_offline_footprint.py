"""An offline, private app writes nothing outside its own folders: CLI runs (the window's screenshot included) leave
the user's home unchanged.

onnxruntime's 1DS telemetry (Linux and macOS builds) writes `~/.cache/Microsoft/DeveloperTools/.onnxruntime/`
(a device id and an event cache) whenever it is imported, unless turned off before it initialises.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT


def tree_digest(folder: Path) -> dict[str, str]:
    """Every entry under `folder` (links not followed) with a digest of its content, or its kind."""
    found: dict[str, str] = {}
    for path in sorted(folder.rglob("*")):
        name = path.relative_to(folder).as_posix()
        if path.is_symlink():
            found[name] = "link -> " + os.readlink(path)
        elif path.is_file():
            found[name] = hashlib.sha256(path.read_bytes()).hexdigest()
        else:
            found[name] = "folder"
    return found


def run_in_home(home: Path, *args: str, data: Path, models: Path) -> subprocess.CompletedProcess:
    """`python -m bertdesk ARGS` with `home` as the user's home and no XDG folders of its own set."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("XDG_", "ORT_"))}
    env.update(HOME=str(home), BERTDESK_DATA=str(data), BERTDESK_MODELS=str(models), QT_QPA_PLATFORM="offscreen")
    return subprocess.run([sys.executable, "-m", "bertdesk", *args], capture_output=True, text=True, env=env,
                          cwd=ROOT, timeout=300)


@pytest.mark.slow
def test_cli_runs_leave_the_home_folder_as_it_was(tmp_path: Path, tiny_classifier_bundle: Path,
                                                  default_bundle_dir: Path) -> None:
    home = tmp_path / "home"
    (home / ".config").mkdir(parents=True)
    (home / ".bashrc").write_text("# the user's own\n")
    data, models = tmp_path / "data", default_bundle_dir.parent
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "notes.txt").write_text("The lighthouse keeper lit the lamp at dusk every evening.\n")
    before = tree_digest(home)
    runs = [
        ("tokenize", "--model", str(tiny_classifier_bundle), "hello there"),
        ("classify", "--json", "--model", str(tiny_classifier_bundle), "a fine day"),
        ("embed", "--json", "a sentence to embed"),
        ("qa", "--json", "--question", "Who lit the lamp?", "--context", "The keeper lit the lamp."),
        ("library", "add", "--json", str(docs)),
        ("library", "ask", "--json", "When was the lamp lit?"),
        ("models", "--json"),
        ("screenshot", "--tab", "ask", str(tmp_path / "ask.png")),
    ]
    for args in runs:
        done = run_in_home(home, *args, data=data, models=models)
        assert done.returncode == 0, (args, done.stderr[-2000:])
    assert tree_digest(home) == before
