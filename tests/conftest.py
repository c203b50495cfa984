"""Fixtures shared by the core and UI tests: real bundles converted by our own converter."""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings

from tests.checkpoints import make_checkpoint

# Property-based tests: a bounded run in CI and the quick loop; `HYPOTHESIS_PROFILE=soak` for a long manual soak.
settings.register_profile("ci", max_examples=25, deadline=None, print_blob=True)
settings.register_profile("soak", max_examples=2000, deadline=None, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
#: How long a thread the test started may take to return after the test (napari allows pool work 20 ms).
THREAD_SETTLE_S = 0.02


def calling_place() -> str:
    """Where the caller of the caller was called from in the project (library frames skipped): "path:line"."""
    frame = sys._getframe(2)
    while frame is not None and not frame.f_code.co_filename.startswith(str(ROOT)):
        frame = frame.f_back
    if frame is None:
        return "outside the project"
    return f"{Path(frame.f_code.co_filename).relative_to(ROOT)}:{frame.f_lineno} in {frame.f_code.co_name}"


@pytest.fixture(autouse=True)
def no_leftover_threads(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Fail a test (core or UI) that leaves a Python thread it started running, naming where it was started."""
    started: dict[threading.Thread, str] = {}
    original_start = threading.Thread.start

    def recording_start(self: threading.Thread) -> None:
        started[self] = calling_place()
        original_start(self)

    monkeypatch.setattr(threading.Thread, "start", recording_start)
    yield
    leaks = []
    for thread, place in started.items():
        thread.join(THREAD_SETTLE_S)
        if thread.is_alive():
            leaks.append(f"thread {thread.name!r} started at {place}")
    assert not leaks, "the test left these threads running:\n" + "\n".join(leaks)


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """`../shared` beside the project root (fixtures and data); tests skip without it, .ci/run insists on it."""
    if not SHARED.is_dir():
        pytest.skip(f"{SHARED} is absent (it holds the fine-tuned fixtures and data sets)")
    return SHARED


@pytest.fixture(scope="session")
def default_bundle_dir() -> Path:
    """The real default model, all-MiniLM-L6-v2, installed by set-up (or here, once, if missing)."""
    from bertdesk.core.models.default_model import ensure_default_model

    return ensure_default_model()


@pytest.fixture(scope="session")
def tiny_bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small random-weight BERT encoder converted with per-layer outputs: fast to load and run."""
    from bertdesk.core.conversion.convert import convert_checkpoint

    root = tmp_path_factory.mktemp("tiny")
    checkpoint = make_checkpoint(root / "checkpoint", "bert", "encoder")
    return convert_checkpoint(checkpoint, root / "tiny-bert", internals=True)


@pytest.fixture(scope="session")
def tiny_classifier_bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small random-weight BERT sequence classifier with three labels."""
    from bertdesk.core.conversion.convert import convert_checkpoint

    root = tmp_path_factory.mktemp("tiny-cls")
    checkpoint = make_checkpoint(root / "checkpoint", "bert", "classification")
    return convert_checkpoint(checkpoint, root / "tiny-bert-classifier", internals=True)


def pytest_configure(config: pytest.Config) -> None:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
