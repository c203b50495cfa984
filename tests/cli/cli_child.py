"""The command line run as a user runs it: `python -m bertdesk ...` in a child process (tests only)."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

from tests.conftest import ROOT


def run_cli(*args: str, models: Path | None = None, stdin: str | None = None) -> subprocess.CompletedProcess:
    """Run bertdesk with `args` from the project folder, its models folder `models` when given and a data folder
    of the tests' own (the error log never goes into the user's), and return what it printed and its exit code."""
    env = {**os.environ, "BERTDESK_DATA": str(Path(tempfile.gettempdir()) / "bertdesk-test-data")}
    if models is not None:
        env["BERTDESK_MODELS"] = str(models)
    return subprocess.run([sys.executable, "-m", "bertdesk", *args], capture_output=True, text=True, env=env,
                          input=stdin, cwd=ROOT, timeout=300)
