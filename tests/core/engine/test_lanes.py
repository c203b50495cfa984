"""Batches run in lanes: really at once, results in batch order, errors and cancels stop every lane, no thread
left behind (the autouse `no_leftover_threads` fixture checks the last), and the same numbers as one lane."""

from __future__ import annotations

import random
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bertdesk.core.bundles.bundle import Bundle
from bertdesk.core.engine.batching import plan_batches
from bertdesk.core.engine.embed import embed_long_text, embed_texts
from bertdesk.core.engine.lanes import in_lanes
from bertdesk.core.errors import JobCancelled
from bertdesk.core.jobs import JobHandle, ThreadBudget


@pytest.mark.parametrize("lanes", [1, 2, 3, 5])
def test_results_come_back_in_item_order(lanes: int) -> None:
    pauses = random.Random(lanes).choices([0.0, 0.001, 0.005], k=40)

    def run(i: int) -> int:
        time.sleep(pauses[i])
        return i * i

    assert list(in_lanes(range(40), run, lanes)) == [(i, i * i) for i in range(40)]


def test_lanes_run_at_once() -> None:
    barrier = threading.Barrier(3, timeout=10)  # breaks (and fails the run) unless three runs wait together

    def run(i: int) -> int:
        barrier.wait()
        return i

    assert [i for i, _ in in_lanes(range(9), run, 3)] == list(range(9))


def test_one_lane_runs_on_the_callers_thread() -> None:
    here = threading.get_ident()
    assert {ident for _, ident in in_lanes(range(5), lambda _: threading.get_ident(), 1)} == {here}


def test_an_error_is_raised_in_item_order_and_later_items_are_dropped() -> None:
    started: list[int] = []

    def run(i: int) -> int:
        started.append(i)
        if i == 3:
            raise ValueError("three")
        return i

    seen = []
    with pytest.raises(ValueError, match="three"):
        for i, _ in in_lanes(range(1000), run, 2):
            seen.append(i)
    assert seen == [0, 1, 2]
    assert max(started) < 3 + 2 * 2 + 1, "runs went on far past the error"


def test_closing_early_leaves_no_run_going() -> None:
    running = threading.Event()

    def run(i: int) -> int:
        running.set()
        time.sleep(0.01)
        return i

    results = in_lanes(range(1000), run, 3)
    assert next(results) == (0, 0)
    results.close()
    assert running.is_set()


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(1, 600), max_size=80), st.integers(1, 2048), st.integers(1, 40), st.integers(1, 6))
def test_planned_batches_are_spread_over_the_lanes(lengths: list[int], budget: int, rows: int, lanes: int) -> None:
    batches = plan_batches(lengths, budget, rows, lanes)
    assert sorted(i for b in batches for i in b) == list(range(len(lengths)))
    assert all(b for b in batches)
    assert len(batches) >= min(lanes, len(lengths))
    one_lane = plan_batches(lengths, budget, rows)
    # halving only cuts batches: each batch lies inside one of the single-lane plan, in its order
    owners = {i: n for n, b in enumerate(one_lane) for i in b}
    for batch in batches:
        assert len({owners[i] for i in batch}) == 1
        original = one_lane[owners[batch[0]]]
        assert batch == original[original.index(batch[0]):original.index(batch[0]) + len(batch)]


def test_embedding_in_lanes_gives_the_same_vectors_as_one_lane(tiny_bundle: Path) -> None:
    texts = [f"lane test {i} " + "word " * (i % 23) for i in range(200)]
    one = embed_texts(Bundle(tiny_bundle, threads=1), texts)
    three = embed_texts(Bundle(tiny_bundle, threads=3), texts)
    np.testing.assert_allclose(three, one, atol=1e-6)
    long_one = embed_long_text(Bundle(tiny_bundle, threads=1), "a long text " * 900, batch_size=2)
    long_three = embed_long_text(Bundle(tiny_bundle, threads=3), "a long text " * 900, batch_size=2)
    np.testing.assert_allclose(long_three.window_vectors, long_one.window_vectors, atol=1e-6)


def test_cancel_stops_every_lane(default_bundle_dir: Path) -> None:
    bundle = Bundle(default_bundle_dir, threads=2)
    budget = ThreadBudget(total=2)
    texts = [f"sentence {i} " + "with many more words in it " * 12 for i in range(4000)]
    outcome: list[BaseException] = []
    progressed = threading.Event()
    handle = JobHandle(lambda fraction, _: progressed.set(), budget=budget)

    def work() -> None:
        try:
            embed_texts(bundle, texts, handle=handle)
        except BaseException as exc:  # the test inspects it
            outcome.append(exc)

    worker = threading.Thread(target=work)
    worker.start()
    assert progressed.wait(60)
    handle.cancel()
    worker.join(10)
    assert not worker.is_alive(), "cancel did not stop the lanes"
    assert len(outcome) == 1 and isinstance(outcome[0], JobCancelled)
    assert budget.in_use == 0
