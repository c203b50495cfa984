"""JobRunner: one job at a time, stale outcomes dropped, cancellation reaching into onnxruntime."""

from __future__ import annotations

import threading
import time
import warnings

import numpy as np
import pytest
from PySide6.QtWidgets import QApplication

from bertdesk.core.bundles.bundle import open_model
from bertdesk.core.errors import BertdeskError, JobCancelled
from bertdesk.core.jobs import JobHandle
from bertdesk.ui.error_log import log_path
from bertdesk.ui.workers import PARTIAL_INTERVAL_S, JobRunner


@pytest.fixture
def runner(qtbot):
    runner = JobRunner()
    yield runner
    runner.shutdown()


def record(runner: JobRunner) -> list[tuple]:
    events: list[tuple] = []
    runner.started.connect(lambda: events.append(("started",)))
    runner.progress.connect(lambda fraction, text: events.append(("progress", fraction, text)))
    runner.finished.connect(lambda value: events.append(("finished", value)))
    runner.errored.connect(lambda message: events.append(("errored", message)))
    runner.cancelled.connect(lambda: events.append(("cancelled",)))
    return events


def wait_until_cancelled(handle: JobHandle, limit_s: float = 10) -> str:
    deadline = time.monotonic() + limit_s
    while not handle.is_cancelled():
        if time.monotonic() > deadline:
            return "never cancelled"
        time.sleep(0.005)
    handle.check()
    return "unreachable"


def test_result_arrives_on_the_gui_thread(qtbot, runner):
    gui = threading.get_ident()
    seen = {}

    def job(handle: JobHandle) -> int:
        seen["worker"] = threading.get_ident()
        handle.progress(0.5, "half way")
        return 42

    runner.finished.connect(lambda value: seen.update(value=value, thread=threading.get_ident()))
    with qtbot.waitSignal(runner.finished, timeout=5000):
        runner.submit(job, "answer")
    assert seen["value"] == 42
    assert seen["thread"] == gui != seen["worker"]
    assert not runner.is_running()


def test_progress_is_throttled(qtbot, runner):
    events = record(runner)

    def job(handle: JobHandle) -> None:
        for i in range(10_000):
            handle.progress(i / 10_000, "busy")
        handle.progress(1.0, "done")

    with qtbot.waitSignal(runner.finished, timeout=5000):
        runner.submit(job)
    progress = [e for e in events if e[0] == "progress"]
    assert 1 <= len(progress) < 100
    assert progress[-1] == ("progress", 1.0, "done")


def test_new_submit_cancels_the_running_job(qtbot, runner):
    events = record(runner)
    first_handle: list[JobHandle] = []

    def first(handle: JobHandle) -> str:
        first_handle.append(handle)
        return wait_until_cancelled(handle)

    runner.submit(first, "first")
    qtbot.waitUntil(lambda: bool(first_handle), timeout=5000)
    with qtbot.waitSignal(runner.finished, timeout=5000) as blocker:
        runner.submit(lambda handle: "second", "second")
    assert blocker.args == ["second"]
    assert first_handle[0].is_cancelled()
    runner.shutdown()
    assert [e for e in events if e[0] in ("finished", "errored", "cancelled")] == [("finished", "second")]


def test_stale_results_and_errors_are_dropped(qtbot, runner):
    events = record(runner)
    inside = threading.Event()
    release = threading.Event()
    started_jobs: list[str] = []

    def stale_result(handle: JobHandle) -> str:
        started_jobs.append("stale result")
        inside.set()
        assert release.wait(10)
        return "stale"

    def stale_error(handle: JobHandle) -> None:
        started_jobs.append("stale error")
        raise BertdeskError("stale error")

    def fresh(handle: JobHandle) -> str:
        started_jobs.append("fresh")
        return "fresh"

    runner.submit(stale_result, "ignores cancellation")
    assert inside.wait(10)  # under way, past any check of its handle
    runner.submit(stale_error, "waits for the stale job")
    runner.submit(fresh, "fresh")
    release.set()
    qtbot.waitUntil(lambda: not runner.is_running(), timeout=10_000)
    runner.shutdown()  # every job has ended, so any outcome of theirs is queued for the GUI thread...
    QApplication.processEvents()  # ...and delivered here
    outcomes = [e for e in events if e[0] in ("finished", "errored", "cancelled")]
    assert outcomes == [("finished", "fresh")]
    # One job at a time: the job replaced while waiting for the stale one never ran, and the fresh one started
    # only after the stale one had ended.
    assert started_jobs == ["stale result", "fresh"]


def test_generator_jobs_deliver_partial_results_then_the_final_one(qtbot, runner):
    events = record(runner)
    shown = [threading.Event() for _ in range(3)]

    def job(handle: JobHandle):
        for row in range(3):
            yield {"row": row}
            assert shown[row].wait(10)  # one at a time: none is replaced by a later one
        return "all rows"

    seen = []
    runner.partial.connect(seen.append)
    runner.partial.connect(lambda value: shown[value["row"]].set())
    with qtbot.waitSignal(runner.finished, timeout=5000):
        runner.submit(job, "rows")
    assert seen == [{"row": 0}, {"row": 1}, {"row": 2}]
    assert [e for e in events if e[0] == "finished"] == [("finished", "all rows")]


def test_a_burst_of_partial_results_is_delivered_as_the_latest(qtbot, runner):
    burst = 2000

    def job(handle: JobHandle):
        yield from range(burst)
        return "done"

    events: list[object] = []
    runner.partial.connect(events.append)
    runner.finished.connect(events.append)
    started = time.monotonic()
    with qtbot.waitSignal(runner.finished, timeout=10_000):
        runner.submit(job, "burst")
    elapsed = time.monotonic() - started
    # The first at once, then at most one every PARTIAL_INTERVAL_S, and the latest one just before the result;
    # each delivered once.
    seen = events[:-1]
    assert events[-1] == "done" and seen[-1] == burst - 1 and seen == sorted(set(seen))
    assert len(seen) <= 2 + elapsed / PARTIAL_INTERVAL_S < burst / 10


def test_a_cancelled_generator_job_delivers_nothing_more(qtbot, runner):
    events = record(runner)
    seen = []
    runner.partial.connect(seen.append)
    first_shown = threading.Event()

    def job(handle: JobHandle):
        yield "first"
        assert first_shown.wait(10)
        yield "second"  # the handle is checked after each value: cancelled here
        return "never"

    runner.submit(job, "rows")
    qtbot.waitUntil(lambda: seen == ["first"], timeout=5000)
    runner.cancel()
    first_shown.set()
    runner.shutdown()
    QApplication.processEvents()
    assert seen == ["first"]
    assert [e[0] for e in events if e[0] in ("finished", "errored", "cancelled")] == ["cancelled"]


def test_a_generator_job_stopped_between_partials_is_closed_before_it_counts_as_done(qtbot, runner):
    closed = threading.Event()
    first_shown = threading.Event()

    def job(handle: JobHandle):
        try:
            yield "first"
            assert first_shown.wait(10)
            yield "second"  # cancelled here: the generator's own clean-up (a job's lanes, say) must run now
        finally:
            closed.set()

    runner.partial.connect(lambda _: first_shown.set())
    runner.submit(job, "rows")
    qtbot.waitUntil(first_shown.is_set, timeout=5000)
    runner.cancel()
    runner.shutdown()
    assert closed.is_set()


def test_user_errors_arrive_as_their_message(qtbot, runner):
    def job(handle: JobHandle) -> None:
        raise BertdeskError("The text is empty.")

    with qtbot.waitSignal(runner.errored, timeout=5000) as blocker:
        runner.submit(job, "tokenize")
    assert blocker.args == ["The text is empty."]
    assert not runner.is_running()


def test_unexpected_errors_are_summarised_and_logged(qtbot, runner):
    def job(handle: JobHandle) -> None:
        {}["missing key"]

    with qtbot.waitSignal(runner.errored, timeout=5000) as blocker:
        runner.submit(job, "tokenize")
    message = blocker.args[0]
    assert "KeyError" in message and "'tokenize'" in message and "log file" in message
    assert "\n" not in message
    log = log_path().read_text(encoding="utf-8")
    assert "Traceback" in log and "KeyError: 'missing key'" in log


def test_cancel_emits_cancelled_at_once(qtbot, runner):
    events = record(runner)
    runner.submit(wait_until_cancelled, "long")
    assert runner.is_running()
    with qtbot.waitSignal(runner.cancelled, timeout=1000):
        runner.cancel()
    assert not runner.is_running()
    runner.shutdown()
    qtbot.wait(50)
    assert [e for e in events if e[0] != "started"] == [("cancelled",)]


def test_a_job_that_raises_job_cancelled_is_reported_cancelled(qtbot, runner):
    def job(handle: JobHandle) -> None:
        raise JobCancelled()

    with qtbot.waitSignal(runner.cancelled, timeout=5000):
        runner.submit(job)


def test_shutdown_waits_for_the_thread(qtbot, runner):
    running, stopped = threading.Event(), threading.Event()

    def job(handle: JobHandle) -> None:
        running.set()
        try:
            wait_until_cancelled(handle)
        finally:
            time.sleep(0.2)  # slow to stop: shutdown must still wait for it
            stopped.set()

    runner.submit(job)
    assert running.wait(10)
    runner.shutdown()
    assert stopped.is_set()


@pytest.mark.slow
def test_cancel_stops_a_long_onnxruntime_run(qtbot, runner, default_bundle_dir):
    bundle = open_model(str(default_bundle_dir))
    rng = np.random.default_rng(0)
    ids = rng.integers(1000, 20000, size=(2, 512))
    bundle.run(ids[:, :8])  # creates the session, so that the timing below is the run's alone
    started = time.perf_counter()
    bundle.run(ids)
    per_row = (time.perf_counter() - started) / 2
    rows = 64
    expected_s = per_row * rows
    in_run = threading.Event()
    ended: list[str] = []

    def job(handle: JobHandle) -> None:
        in_run.set()
        try:
            bundle.run(rng.integers(1000, 20000, size=(rows, 512)), handle=handle)
            ended.append("completed")
        except JobCancelled:
            ended.append("terminated")
            raise

    runner.submit(job, "long batch")
    assert in_run.wait(5)
    time.sleep(min(0.2, expected_s / 10))  # well inside session.run
    cancelled_at = time.perf_counter()
    with qtbot.waitSignal(runner.finished, timeout=5000) as blocker:
        runner.submit(lambda handle: "next", "next")
    runner.shutdown()
    stopped_after = time.perf_counter() - cancelled_at
    print(f"\nlong run: expected {expected_s:.2f} s, stopped {stopped_after * 1000:.0f} ms after cancel")
    assert blocker.args == ["next"]
    assert ended == ["terminated"], "the single long onnxruntime run must end by termination, not by finishing"


def test_warnings_of_a_job_go_to_the_log(qtbot, runner):
    def job(handle: JobHandle) -> int:
        warnings.warn("numbers overflowed", RuntimeWarning, stacklevel=1)
        return 1

    with qtbot.waitSignal(runner.finished, timeout=5000):
        runner.submit(job)
    qtbot.waitUntil(lambda: log_path().is_file() and "numbers overflowed" in log_path().read_text(), timeout=2000)


def test_a_partial_result_waiting_when_the_job_is_replaced_is_never_delivered(qtbot, runner, monkeypatch):
    from bertdesk.ui import workers

    monkeypatch.setattr(workers, "PARTIAL_INTERVAL_S", 30.0)  # the stale job's second partial waits for its turn
    first_shown, offered, release = threading.Event(), threading.Event(), threading.Event()

    def stale(handle: JobHandle):
        yield "stale first"
        assert first_shown.wait(10)
        yield "stale second"
        offered.set()
        release.wait(10)
        return "stale"

    def fresh(handle: JobHandle):
        yield "fresh first"
        return "fresh"

    seen = []
    runner.partial.connect(seen.append)
    runner.partial.connect(lambda _: first_shown.set())
    runner.submit(stale, "stale")
    qtbot.waitUntil(lambda: seen == ["stale first"] and offered.is_set(), timeout=5000)
    QApplication.processEvents()  # the second one reaches the GUI thread and waits there
    with qtbot.waitSignal(runner.finished, timeout=5000) as blocker:
        runner.submit(fresh, "fresh")
        release.set()
    assert blocker.args == ["fresh"]
    assert seen == ["stale first", "fresh first"]  # a new job's first partial result comes at once
