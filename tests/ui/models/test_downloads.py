"""Downloads from the model manager's catalogue through huggingface_hub, from a real HTTP server on 127.0.0.1 that
answers like the Hub (tests/hub_server.py): progress with bytes, the model in the picker, Cancel, offline."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import pytest

from bertdesk.core.models.catalog import CatalogEntry
from bertdesk.core.models.hub import DOWNLOADS, PARTIAL_SUFFIX
from bertdesk.ui.models import manager_dialog
from bertdesk.ui.models.manager_dialog import ModelManagerDialog
from bertdesk.ui.models.menu import open_manager
from tests.hub_server import HubServer
from tests.ui.models.conftest import wait_for_job

REPO = "tests/tiny-encoder"
#: How a throttled server sends large files: this many bytes, then a pause.
THROTTLE_BYTES, THROTTLE_PAUSE_S = 2048, 0.01


def tiny_entry() -> CatalogEntry:
    return CatalogEntry(name="tiny-from-hub", repo_id=REPO, revision="main", task="encoder", layout="onnx",
                        licence="MIT", size_mb=1, purpose="A tiny random encoder served by the test's own Hub.",
                        files=("config.json", "tokenizer.json", "model.onnx"))


@pytest.fixture
def hub(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """huggingface_hub allowed online (the suite sets HF_HUB_OFFLINE), its sessions rebuilt on the way in and out,
    and the catalogue holding the tiny entry."""
    from huggingface_hub import constants
    from huggingface_hub.utils import reset_sessions

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(manager_dialog, "catalog_entries", lambda: [tiny_entry()])
    reset_sessions()
    yield
    reset_sessions()


def point_at(monkeypatch: pytest.MonkeyPatch, endpoint: str) -> None:
    """Point the app's downloads at `endpoint`, as a user does with HF_ENDPOINT."""
    monkeypatch.setenv("HF_ENDPOINT", endpoint)


def download_button(dialog: ModelManagerDialog):
    return dialog.catalogue.buttons["tiny-from-hub"]


@pytest.fixture
def dialog(qtbot, hub, window) -> Iterator[ModelManagerDialog]:
    manager = open_manager(window, task="")
    qtbot.waitUntil(lambda: not window.is_busy(), timeout=30_000)
    yield manager
    manager.shutdown()


class ThrottledHub(HubServer):
    """The test Hub, sending large files slowly enough for a Cancel to land mid-file."""

    def _handler(self):
        base = super()._handler()

        class Slow(base):
            def setup(self) -> None:
                super().setup()
                self.wfile = _Throttled(self.wfile)

        return Slow


class _Throttled:
    def __init__(self, out) -> None:
        self._out = out

    def write(self, data: bytes) -> int:
        if len(data) <= THROTTLE_BYTES:
            return self._out.write(data)
        for start in range(0, len(data), THROTTLE_BYTES):
            self._out.write(data[start:start + THROTTLE_BYTES])
            self._out.flush()
            time.sleep(THROTTLE_PAUSE_S)
        return len(data)

    def __getattr__(self, name: str):
        return getattr(self._out, name)


def test_a_download_completes_with_progress_and_the_model_is_in_the_picker(qtbot, dialog, window, models,
                                                                           tiny_bundle, monkeypatch):
    reports: list[tuple[float, str]] = []
    dialog.runner.progress.connect(lambda fraction, text: reports.append((fraction, text)))
    with ThrottledHub(tiny_bundle, REPO) as server:  # slow enough for progress reports to pass the 50 ms throttle
        point_at(monkeypatch, server.endpoint)
        assert dialog.tabs.currentWidget() is dialog.catalogue
        download_button(dialog).click()
        assert dialog.progress.isVisible() and dialog.cancel_button.isVisible()
        assert not download_button(dialog).isEnabled()  # one job at a time
        wait_for_job(qtbot, dialog)
    assert not dialog.error.isVisible(), dialog.error.text()
    assert dialog.status.text() == "tiny-from-hub downloaded and installed."
    assert (models / "tiny-from-hub" / "model.onnx").read_bytes() == (tiny_bundle / "model.onnx").read_bytes()
    assert server.gets("model.onnx")
    assert any("downloading model.onnx (" in text and " MB)" in text for _, text in reports)
    fractions = [f for f, _ in reports]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    qtbot.waitUntil(lambda: any(window.model_picker.itemText(i).startswith("tiny-from-hub — ")
                                for i in range(window.model_picker.count())), timeout=10_000)
    assert "tiny-from-hub" not in dialog.catalogue.buttons  # listed as installed now
    assert dialog.table.selected_info().name == "tiny-from-hub"


def test_cancel_stops_a_download_and_keeps_the_partial_file_to_resume(qtbot, dialog, models, tiny_bundle,
                                                                      monkeypatch):
    with ThrottledHub(tiny_bundle, REPO) as server:
        point_at(monkeypatch, server.endpoint)
        dialog.runner.progress.connect(lambda _f, text: "model.onnx" in text and dialog.cancel_button.click())
        download_button(dialog).click()
        qtbot.waitUntil(lambda: dialog.status.text() == "Cancelled.", timeout=30_000)
        assert not dialog.progress.isVisible() and not dialog.cancel_button.isVisible()
        assert download_button(dialog).isEnabled()
        dialog.shutdown()  # the job has wound down before the server goes
    assert not (models / "tiny-from-hub").exists()
    partial = list((models / DOWNLOADS).rglob("model.onnx" + PARTIAL_SUFFIX))
    assert partial and 0 < partial[0].stat().st_size < (tiny_bundle / "model.onnx").stat().st_size


def test_offline_the_dialog_says_so_in_one_line_at_once(qtbot, dialog, models, monkeypatch):
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        endpoint = f"http://127.0.0.1:{probe.getsockname()[1]}"
    point_at(monkeypatch, endpoint)
    download_button(dialog).click()
    qtbot.waitUntil(dialog.error.isVisible, timeout=10_000)  # no hang: the connection is refused at once
    message = dialog.error.text()
    assert "\n" not in message and message.startswith(f"cannot reach the Hugging Face Hub at {endpoint}")
    assert "Import folder…" in message
    assert not dialog.progress.isVisible() and download_button(dialog).isEnabled()
    assert not (models / "tiny-from-hub").exists()


def test_a_download_button_is_one_per_entry_not_yet_installed(dialog):
    assert list(dialog.catalogue.buttons) == ["tiny-from-hub"]
    assert dialog.catalogue.table.item(0, 1).text() == tiny_entry().purpose
    assert REPO in dialog.catalogue.buttons["tiny-from-hub"].toolTip()
