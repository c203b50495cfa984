"""Cancellation really stops an onnxruntime run under way; progress is reported in order."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import numpy as np
import pytest

from bertdesk.core.bundle import Bundle
from bertdesk.core.embed import embed_long_text
from bertdesk.core.errors import JobCancelled
from bertdesk.core.jobs import JobHandle


def _cancel_once_running(handle: JobHandle) -> threading.Thread:
    """Cancel from another thread as soon as an onnxruntime run is under way."""

    def watch() -> None:
        deadline = time.monotonic() + 60
        while not handle._active and time.monotonic() < deadline:
            time.sleep(0.001)
        handle.cancel()

    thread = threading.Thread(target=watch)
    thread.start()
    return thread


def test_cancel_terminates_a_running_inference(default_bundle_dir: Path) -> None:
    bundle = Bundle(default_bundle_dir)
    ids = np.full((48, 512), 2000, np.int64)
    handle = JobHandle()
    watcher = _cancel_once_running(handle)
    with pytest.raises(JobCancelled):
        bundle.run(ids, handle=handle)  # only the terminate flag can stop this single run early
    watcher.join()
    # The session still works after a terminated run.
    assert bundle.run(ids[:1, :8])["last_hidden_state"].shape == (1, 8, 384)


def test_cancelled_handle_refuses_to_start() -> None:
    handle = JobHandle()
    handle.cancel()
    with pytest.raises(JobCancelled), handle.run_options():
        pass


def test_long_text_progress_and_cancel(default_bundle_dir: Path) -> None:
    bundle = Bundle(default_bundle_dir)
    text = "The quick brown fox jumps over the lazy dog. " * 400
    seen: list[float] = []
    result = embed_long_text(bundle, text, handle=JobHandle(lambda f, _t: seen.append(f)))
    assert result.num_windows == -(-result.num_tokens // 510)
    assert seen == sorted(seen) and seen[-1] == 1.0
    assert result.vector.shape == (384,)

    handle = JobHandle()
    sub = handle.sub(0.0, 0.5)
    watcher = _cancel_once_running(handle)
    with pytest.raises(JobCancelled):
        embed_long_text(bundle, text * 10, handle=sub)
    watcher.join()
