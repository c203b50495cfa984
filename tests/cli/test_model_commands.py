"""The `models` CLI: pull (in a child process pointed at the local Hub by HF_ENDPOINT), import, quantize, remove,
catalog; user errors are one line with exit code 2."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from bertdesk.cli import main
from tests.conftest import ROOT
from tests.hub_server import HubServer


def _run(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "bertdesk", *args], capture_output=True, text=True, timeout=300,
                          cwd=ROOT, env={**os.environ, **env})


def _error_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if not line.startswith("[")]  # progress lines start with [ 42%]


def test_pull_in_a_child_process_then_listed(qa_checkpoint: Path, models_home: Path) -> None:
    with HubServer(qa_checkpoint, "tests/tiny-qa") as hub:
        env = {"HF_ENDPOINT": hub.endpoint, "HF_HUB_OFFLINE": "0", "BERTDESK_MODELS": str(models_home)}
        done = _run("models", "pull", "tests/tiny-qa", "--name", "qa", "--json", env=env)
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["name"] == "qa" and data["task"] == "question-answering"
    assert data["origin"]["repo_id"] == "tests/tiny-qa"
    assert "downloading model.safetensors" in done.stderr
    listed = _run("models", "--json", env={"BERTDESK_MODELS": str(models_home)})
    assert [m["name"] for m in json.loads(listed.stdout)["models"]] == ["qa"]


def test_pull_offline_is_one_line_and_exit_2(models_home: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        endpoint = f"http://127.0.0.1:{probe.getsockname()[1]}"
    done = _run("models", "pull", "tests/tiny-qa", env={"HF_ENDPOINT": endpoint, "HF_HUB_OFFLINE": "0",
                                                        "BERTDESK_MODELS": str(models_home)})
    assert done.returncode == 2
    [line] = _error_lines(done.stderr)
    assert line.startswith("bertdesk: error: cannot reach the Hugging Face Hub") and "models import DIR" in line


def test_import_quantize_remove(onnx_export: Path, qa_checkpoint: Path, models_home: Path,
                                capsys: pytest.CaptureFixture) -> None:
    assert main(["models", "import", str(onnx_export), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["origin"] == {"kind": "folder", "path": str(onnx_export)}
    assert main(["models", "--json", "import", str(qa_checkpoint), "--name", "qa"]) == 0
    assert json.loads(capsys.readouterr().out)["has_internals"] is True
    assert main(["models", "quantize", "qa", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["precision"] == "int8"
    assert (models_home / "qa" / "onnx" / "model_quantized.onnx").is_file()
    assert main(["models", "remove", "qa"]) == 2  # no terminal to ask: --yes is needed
    assert "pass --yes to confirm" in capsys.readouterr().err
    assert main(["models", "remove", "qa", "--yes", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["removed"] == "qa"
    assert sorted(p.name for p in models_home.iterdir()) == ["tiny-export"]
    assert main(["models"]) == 0
    assert capsys.readouterr().out.startswith(f"models in {models_home}:\n  tiny-export — encoder, 2 layers")


@pytest.mark.parametrize("argv, message", [
    (["models", "import", "/nonexistent/folder"], "is not a folder"),
    (["models", "import", "/nonexistent/x.whl"], "does not exist"),
    (["models", "quantize", "nothing"], "no installed model named 'nothing'"),
    (["models", "remove", "../x", "--yes"], "the model name '../x' cannot"),
    (["models", "pull"], "the following arguments are required: repo_id"),
])
def test_user_errors_are_one_line(argv: list[str], message: str, models_home: Path,
                                  capsys: pytest.CaptureFixture) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err


def test_catalog(models_home: Path, capsys: pytest.CaptureFixture) -> None:
    (models_home / "bge-small-en-v1.5").mkdir(parents=True)
    assert main(["models", "catalog", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)["models"]
    assert len(rows) >= 4 and [r["installed"] for r in rows if r["name"] == "bge-small-en-v1.5"] == [True]
    assert main(["models", "catalog"]) == 0
    assert "bertdesk models pull BAAI/bge-small-en-v1.5" in capsys.readouterr().out


@pytest.mark.usefixtures("hub_online")
@pytest.mark.parametrize("repo_id, reason", [
    ("a/b/c", "it has 2 '/', one at most"),
    ("my model", "it holds ' ': only letters, digits, '-', '_' and '.' may be used"),
    ("owner/na--me", "it holds '--'"),
    ("owner/", "its owner or its name is empty"),
    ("owner/-name", "its owner or name starts or ends with '-' or '.'"),
    ("owner/" + "n" * 200, "its name has 200 characters, 96 at most"),
])
def test_pull_of_an_invalid_id_is_one_short_line_before_any_request(
        repo_id: str, reason: str, qa_checkpoint: Path, models_home: Path, capsys: pytest.CaptureFixture,
        monkeypatch: pytest.MonkeyPatch) -> None:
    with HubServer(qa_checkpoint, "tests/tiny-qa") as hub:
        monkeypatch.setenv("HF_ENDPOINT", hub.endpoint)
        assert main(["models", "pull", repo_id]) == 2
    [line] = capsys.readouterr().err.splitlines()  # not even the "listing" progress line
    assert line.startswith("bertdesk: error: ") and len(line) < 200
    assert f"is not a Hub model id ({reason}): a valid one looks like BAAI/bge-small-en-v1.5 (owner/name)" in line
    assert not hub.requests and not models_home.exists()
