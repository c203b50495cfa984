"""Promises about the project itself: the README's commands are what CI runs; the core never imports Qt."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _readme_commands() -> list[str]:
    blocks = re.findall(r"```bash\n(.*?)```", (ROOT / "README.md").read_text(encoding="utf-8"), re.S)
    return [block.strip() for block in blocks[:2]]


def test_ci_runs_the_readme_test_command() -> None:
    run_app, run_tests = _readme_commands()
    assert "bertdesk setup" in run_app and run_app.endswith(".venv/bin/bertdesk")
    assert "pytest" in run_tests
    assert run_tests in (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()


def test_core_imports_without_qt() -> None:
    """napari-style: import every core module with Qt made unimportable."""
    modules = sorted(
        ".".join(p.relative_to(ROOT / "bertdesk" / "core").with_suffix("").parts).removesuffix(".__init__")
        for p in (ROOT / "bertdesk" / "core").rglob("*.py")
        if p.name != "__init__.py" or p.parent.name != "core"
    )
    code = (
        "import sys\n"
        "for name in ('PySide6', 'PyQt5', 'PyQt6', 'shiboken6', 'pyqtgraph', 'superqt', 'qtpy'):\n"
        "    sys.modules[name] = None\n"
        + "".join(f"import bertdesk.core.{m}\n" for m in modules)
        + "import bertdesk.cli\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    assert len(modules) >= 10


def test_import_contracts() -> None:
    """The import-linter contracts in pyproject.toml (the core imports no Qt, superqt, pyqtgraph or window code)."""
    lint = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run([str(lint), "--no-cache"], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout, result.stdout
