"""Downloads through huggingface_hub from a real local HTTP server that answers like the Hub (tests/hub_server.py)."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from bertdesk.core.bundles.bundle import inspect_bundle
from bertdesk.core.errors import BertdeskError, DownloadAgain, ImportFolder, JobCancelled
from bertdesk.core.jobs import JobHandle
from bertdesk.core.models import ModelDownloadError, is_offline_error, model_origin, pull
from bertdesk.core.models.hub import CHUNK_BYTES, PARTIAL_SUFFIX, RESUMES, download_folder
from tests.hub_server import COMMIT, HubServer

pytestmark = pytest.mark.usefixtures("hub_online")
REPO = "tests/tiny-qa"
WEIGHTS = "model.safetensors"


def test_complete_download_is_converted_and_listed(qa_checkpoint: Path, models_home: Path,
                                                   capsys: pytest.CaptureFixture) -> None:
    from bertdesk.cli import main

    fractions: list[float] = []
    with HubServer(qa_checkpoint, REPO) as hub:
        path = pull(REPO, handle=JobHandle(lambda f, _: fractions.append(f)), endpoint=hub.endpoint)
    assert path == models_home / "tiny-qa"
    info = inspect_bundle(path)[0]
    assert info.task == "question-answering" and info.has_internals  # converted by our converter
    assert model_origin(path) == {"kind": "hub", "repo_id": REPO, "revision": "main", "commit": COMMIT,
                                  "endpoint": hub.endpoint}
    assert sorted(r.path.rsplit("/", 1)[1] for r in hub.requests if r.method == "GET" and "/resolve/" in r.path) == \
        ["config.json", WEIGHTS, "tokenizer.json", "vocab.txt"]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    assert sorted(p.name for p in models_home.iterdir()) == ["tiny-qa"]  # the download folder is gone
    capsys.readouterr()
    assert main(["models", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [m["name"] for m in listed["models"]] == ["tiny-qa"] and not listed["problems"]


def test_transfer_dropped_mid_file_resumes_with_a_range_request(qa_checkpoint: Path, models_home: Path) -> None:
    with HubServer(qa_checkpoint, REPO) as hub:
        size = len(hub.files[WEIGHTS])
        assert size > CHUNK_BYTES + 5_000  # the drop falls in the second chunk: every byte received is kept
        hub.drop_after[WEIGHTS] = [CHUNK_BYTES + 5_000]
        path = pull(REPO, endpoint=hub.endpoint)
    gets = hub.gets(WEIGHTS)
    assert [g.range for g in gets] == [None, f"bytes={CHUNK_BYTES + 5_000}-"]
    assert (path / "model.onnx").is_file()


def test_connection_that_keeps_breaking_is_one_line_and_keeps_the_partial_file(qa_checkpoint: Path,
                                                                              models_home: Path) -> None:
    with HubServer(qa_checkpoint, REPO) as hub:
        hub.drop_after[WEIGHTS] = [CHUNK_BYTES + 5_000] + [1_000] * RESUMES
        with pytest.raises(ModelDownloadError) as info:
            pull(REPO, endpoint=hub.endpoint)
        message = str(info.value)
        assert "the download of model.safetensors from http://127.0.0.1:" in message
        assert message.endswith("keeps failing (the connection broke off)")
        assert info.value.remedies == (DownloadAgain(), ImportFolder())
        assert "\n" not in message
        partial = download_folder(REPO, COMMIT) / (WEIGHTS + PARTIAL_SUFFIX)
        kept = CHUNK_BYTES + 5_000 + 1_000 * RESUMES
        assert partial.stat().st_size == kept
        assert len(hub.gets(WEIGHTS)) == RESUMES + 1
        pull(REPO, endpoint=hub.endpoint)  # run again: it resumes
    assert hub.gets(WEIGHTS)[-1].range == f"bytes={kept}-"


def test_server_that_ignores_ranges_gets_the_whole_file_again(qa_checkpoint: Path, models_home: Path) -> None:
    with HubServer(qa_checkpoint, REPO) as hub:
        hub.ranges = False
        hub.drop_after[WEIGHTS] = [CHUNK_BYTES + 5_000]
        pull(REPO, endpoint=hub.endpoint)
    # The partial file was started again, not appended to: the result passed its checksum on the second GET.
    assert [g.range for g in hub.gets(WEIGHTS)] == [None, f"bytes={CHUNK_BYTES + 5_000}-"]


def test_cancelled_download_resumes_after_a_restart(qa_checkpoint: Path, models_home: Path) -> None:
    handle = JobHandle()

    def cancel_in_the_weights(fraction: float, text: str) -> None:
        if WEIGHTS in text:
            handle.cancel()

    handle._on_progress = cancel_in_the_weights
    with HubServer(qa_checkpoint, REPO) as hub:
        with pytest.raises(JobCancelled):
            pull(REPO, handle=handle, endpoint=hub.endpoint)
        partial = download_folder(REPO, COMMIT) / (WEIGHTS + PARTIAL_SUFFIX)
        kept = partial.stat().st_size
        assert 0 < kept < len(hub.files[WEIGHTS])
        assert not (models_home / "tiny-qa").exists()
        # A new pull (a restarted app) asks only for the rest of the file.
        path = pull(REPO, endpoint=hub.endpoint)
    assert hub.gets(WEIGHTS)[-1].range == f"bytes={kept}-"
    assert inspect_bundle(path)[0].task == "question-answering"


@pytest.mark.parametrize("name", [WEIGHTS, "tokenizer.json"])  # an LFS file (sha256) and a git blob (sha1)
def test_same_size_corrupted_file_is_rejected_and_fetched_again(qa_checkpoint: Path, models_home: Path,
                                                                name: str) -> None:
    with HubServer(qa_checkpoint, REPO) as hub:
        hub.corrupt[name] = 1
        path = pull(REPO, endpoint=hub.endpoint)
    assert len(hub.gets(name)) == 2
    source = qa_checkpoint / name
    installed = path / name if name != WEIGHTS else None
    if installed is not None:
        assert installed.read_bytes() == source.read_bytes()


def test_file_corrupted_every_time_fails_and_leaves_nothing(qa_checkpoint: Path, models_home: Path) -> None:
    with HubServer(qa_checkpoint, REPO) as hub:
        hub.corrupt[WEIGHTS] = 5
        with pytest.raises(ModelDownloadError) as info:
            pull(REPO, endpoint=hub.endpoint)
    message = str(info.value)
    assert "model.safetensors does not match the repository's sha256 checksum after a second download" in message
    assert "\n" not in message and not is_offline_error(info.value)
    assert len(hub.gets(WEIGHTS)) == 2
    folder = download_folder(REPO, COMMIT)
    assert not (folder / WEIGHTS).exists() and not (folder / (WEIGHTS + PARTIAL_SUFFIX)).exists()
    assert not (models_home / "tiny-qa").exists()


def test_offline_endpoint_fails_at_once_with_the_way_to_import_by_hand(models_home: Path) -> None:
    import socket

    with socket.socket() as probe:  # a port that nothing listens on
        probe.bind(("127.0.0.1", 0))
        endpoint = f"http://127.0.0.1:{probe.getsockname()[1]}"
    started = time.monotonic()
    with pytest.raises(ModelDownloadError) as info:
        pull(REPO, endpoint=endpoint)
    assert time.monotonic() - started < 5
    message = str(info.value)
    assert is_offline_error(info.value) and "\n" not in message
    assert message.endswith(f"cannot reach the Hugging Face Hub at {endpoint} (connection refused)")
    assert info.value.remedies == (ImportFolder(),)


def test_unknown_repository_and_revision_are_one_line_errors(qa_checkpoint: Path, models_home: Path) -> None:
    with HubServer(qa_checkpoint, REPO) as hub:
        with pytest.raises(ModelDownloadError, match="there is no model repository tests/nothing on"):
            pull("tests/nothing", endpoint=hub.endpoint)
        with pytest.raises(ModelDownloadError, match="tests/tiny-qa has no revision 'v9'"):
            pull(REPO, revision="v9", endpoint=hub.endpoint)


def test_name_taken_is_refused_before_downloading(qa_checkpoint: Path, models_home: Path) -> None:
    (models_home / "tiny-qa").mkdir(parents=True)
    with HubServer(qa_checkpoint, REPO) as hub, pytest.raises(BertdeskError,
                                                              match="a model named 'tiny-qa' is already installed"):
        pull(REPO, endpoint=hub.endpoint)
    assert not hub.requests


def test_onnx_export_repository_is_installed_as_it_is(onnx_export: Path, models_home: Path) -> None:
    with HubServer(onnx_export, "tests/tiny-export") as hub:
        path = pull("tests/tiny-export", name="exported", endpoint=hub.endpoint)
    assert (path / "onnx" / "model.onnx").read_bytes() == (onnx_export / "onnx" / "model.onnx").read_bytes()
    info = inspect_bundle(path)[0]
    assert info.graph == "onnx/model.onnx" and model_origin(path)["repo_id"] == "tests/tiny-export"


def test_repository_without_a_usable_model_is_refused(tmp_path: Path, models_home: Path) -> None:
    (tmp_path / "repo").mkdir()
    (tmp_path / "repo" / "pytorch_model.bin").write_bytes(b"\0" * 100)
    (tmp_path / "repo" / "config.json").write_text("{}")
    with HubServer(tmp_path / "repo", "tests/pickle") as hub, pytest.raises(
            ModelDownloadError, match="has neither a safetensors checkpoint .* nor an ONNX export"):
        pull("tests/pickle", endpoint=hub.endpoint)


def test_the_server_is_hub_shaped_for_huggingface_hubs_own_download(qa_checkpoint: Path, tmp_path: Path) -> None:
    from huggingface_hub import hf_hub_download

    with HubServer(qa_checkpoint, REPO) as hub:
        path = hf_hub_download(REPO, WEIGHTS, endpoint=hub.endpoint, cache_dir=tmp_path / "cache")
    assert Path(path).read_bytes() == (qa_checkpoint / WEIGHTS).read_bytes()
    assert any(r.method == "HEAD" for r in hub.requests)


def test_offline_mode_is_named(qa_checkpoint: Path, models_home: Path) -> None:
    from huggingface_hub import constants
    from huggingface_hub.utils import reset_sessions

    constants.HF_HUB_OFFLINE = True
    reset_sessions()
    with HubServer(qa_checkpoint, REPO) as hub, pytest.raises(ModelDownloadError,
                                                              match=r"\(HF_HUB_OFFLINE is set\)") as info:
        pull(REPO, endpoint=hub.endpoint)
    assert is_offline_error(info.value) and not hub.requests


def test_pull_works_without_a_readable_catalogue(qa_checkpoint: Path, models_home: Path, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    from bertdesk.core.models import catalog

    monkeypatch.setattr(catalog, "CATALOG_PATH", tmp_path / "missing.toml")
    with HubServer(qa_checkpoint, REPO) as hub:
        assert pull(REPO, endpoint=hub.endpoint).name == "tiny-qa"


def _catalogue(path: Path, *entries: str) -> Path:
    path.write_text("\n".join(entries), encoding="utf-8")
    return path


def test_catalogue_entry_sets_name_files_and_known_checksums(
        qa_checkpoint: Path, onnx_export: Path, tmp_path: Path, models_home: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    import hashlib

    from bertdesk.core.models import catalog

    config_sha = hashlib.sha256((qa_checkpoint / "config.json").read_bytes()).hexdigest()
    entry = """[[model]]
name = "{name}"
repo_id = "{repo}"
revision = "main"
task = "question-answering"
layout = "{layout}"
licence = "MIT"
size_mb = 1
purpose = "A test."
files = {files}
sha256 = {{ "config.json" = "{sha}" }}
"""
    good = entry.format(name="catalogued", repo=REPO, layout="checkpoint",
                        files='["config.json", "model.safetensors", "tokenizer.json"]', sha=config_sha)
    monkeypatch.setattr(catalog, "CATALOG_PATH", _catalogue(tmp_path / "good.toml", good))
    with HubServer(qa_checkpoint, REPO) as hub:
        assert pull(REPO, endpoint=hub.endpoint) == models_home / "catalogued"
    assert sorted(r.path.rsplit("/", 1)[1] for r in hub.requests if "/resolve/" in r.path) == \
        ["config.json", WEIGHTS, "tokenizer.json", "vocab.txt"]  # the catalogue's files and the tokenizer's side file

    wrong = entry.format(name="wrong", repo=REPO, layout="checkpoint", files='["config.json"]', sha="0" * 64)
    monkeypatch.setattr(catalog, "CATALOG_PATH", _catalogue(tmp_path / "wrong.toml", wrong))
    with HubServer(qa_checkpoint, REPO) as hub, pytest.raises(
            ModelDownloadError, match="config.json does not match the catalogue's sha256 after a second download"):
        pull(REPO, endpoint=hub.endpoint)
    assert len(hub.gets("config.json")) == 2 and not (models_home / "wrong").exists()

    missing = entry.format(name="export", repo="tests/tiny-export", layout="onnx",
                           files='["config.json", "tokenizer.json", "onnx/model_quantized.onnx"]', sha=config_sha)
    monkeypatch.setattr(catalog, "CATALOG_PATH", _catalogue(tmp_path / "missing.toml", missing))
    with HubServer(onnx_export, "tests/tiny-export") as hub, pytest.raises(
            ModelDownloadError, match="tests/tiny-export has no onnx/model_quantized.onnx, which bertdesk needs"):
        pull("tests/tiny-export", endpoint=hub.endpoint)
    assert not hub.gets("config.json")


def test_listed_path_that_would_escape_the_download_folder_is_refused(qa_checkpoint: Path, models_home: Path,
                                                                      tmp_path: Path) -> None:
    with HubServer(qa_checkpoint, REPO) as hub:
        weights = hub.files.pop(WEIGHTS)
        hub.files["model.safetensors.index.json"] = b'{"weight_map": {}}'
        hub.files["model-../../../escape.safetensors"] = weights
        with pytest.raises(ModelDownloadError, match="lists a file path that would be written outside its folder"):
            pull(REPO, endpoint=hub.endpoint)
    assert not hub.gets("model.safetensors.index.json")
    assert not list(tmp_path.rglob("escape.safetensors"))


def test_a_refused_file_transfer_is_not_called_a_name_that_cannot_be_resolved() -> None:
    import socket

    import requests

    from bertdesk.core.models.hub import _reason

    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(requests.ConnectionError) as caught:
        requests.get(f"http://127.0.0.1:{port}/org/model/resolve/main/config.json", timeout=5)
    assert _reason(caught.value) == "connection refused"
