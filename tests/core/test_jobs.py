"""Cancellation really stops an onnxruntime run under way; progress is reported in order; the thread budget holds."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import numpy as np
import pytest

from bertdesk.core.bundles.bundle import Bundle
from bertdesk.core.engine.embed import embed_long_text
from bertdesk.core.errors import JobCancelled
from bertdesk.core.jobs import JobHandle, ThreadBudget, default_budget_size


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


def test_budget_caps_the_threads_of_concurrent_runs() -> None:
    budget = ThreadBudget(3)
    cancelled = threading.Event()
    errors: list[BaseException] = []

    def take(threads: int) -> None:
        try:
            for _ in range(50):
                taken = budget.acquire(threads, cancelled)
                time.sleep(0.001)
                budget.release(taken)
        except BaseException as exc:  # reported below
            errors.append(exc)

    workers = [threading.Thread(target=take, args=(threads,)) for threads in (1, 2, 2, 3, 5)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(30)
    assert not errors
    assert budget.peak == 3 and budget.in_use == 0  # 5 threads asked for are clipped to the 3 there are
    assert budget.waits > 0


def test_a_cancelled_job_waiting_for_threads_stops_at_once() -> None:
    budget = ThreadBudget(1)
    holder, waiter = JobHandle(budget=budget), JobHandle(budget=budget)
    outcome: list[str] = []
    waiting = threading.Event()

    def wait_for_threads() -> None:
        waiting.set()
        try:
            with waiter.run_options():
                outcome.append("ran")
        except JobCancelled:
            outcome.append("cancelled")

    with holder.run_options():
        thread = threading.Thread(target=wait_for_threads)
        thread.start()
        assert waiting.wait(5)
        deadline = time.monotonic() + 5
        while budget.waits == 0 and time.monotonic() < deadline:
            time.sleep(0.001)
        started = time.monotonic()
        waiter.cancel()
        thread.join(5)
        stopped_after = time.monotonic() - started
        assert outcome == ["cancelled"]
        assert stopped_after < 0.5  # woken by cancel(), not by the holder's release
        assert budget.in_use == 1
    assert budget.in_use == 0


def test_a_terminated_run_gives_its_threads_back(default_bundle_dir: Path) -> None:
    budget = ThreadBudget(1)
    bundle = Bundle(default_bundle_dir)
    ids = np.full((48, 512), 2000, np.int64)
    handle = JobHandle(budget=budget)
    watcher = _cancel_once_running(handle)
    with pytest.raises(JobCancelled):
        bundle.run(ids, handle=handle)
    watcher.join()
    assert budget.in_use == 0 and budget.peak == 1
    replacement = JobHandle(budget=budget)
    assert bundle.run(ids[:1, :8], handle=replacement)["last_hidden_state"].shape == (1, 8, 384)


def test_the_budget_leaves_a_core_for_the_window(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BERTDESK_THREADS", raising=False)
    monkeypatch.setattr("os.cpu_count", lambda: 1)
    assert default_budget_size() == 1
    monkeypatch.setattr("os.cpu_count", lambda: 8)
    assert default_budget_size() == 7
    monkeypatch.setenv("BERTDESK_THREADS", "3")
    assert default_budget_size() == 3
    monkeypatch.setenv("BERTDESK_THREADS", "zero")
    assert default_budget_size() == 7
