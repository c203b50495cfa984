"""A bundle's onnxruntime runs hold as many tokens of the thread budget as their session has intra-op threads."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np

from bertdesk.core.bundle import Bundle
from bertdesk.core.jobs import JobHandle, ThreadBudget


def test_runs_take_their_sessions_thread_count_from_the_budget(tiny_bundle: Path) -> None:
    budget = ThreadBudget(total=4)
    bundle = Bundle(tiny_bundle, threads=3)
    bundle.run(np.array([[2, 5, 6, 3]]), handle=JobHandle(budget=budget))
    assert budget.peak == 3


def test_two_runs_at_once_never_exceed_the_budget(tiny_bundle: Path) -> None:
    budget = ThreadBudget(total=3)
    bundle = Bundle(tiny_bundle, threads=2)
    ids = np.tile(np.arange(2, 60), (16, 1))

    def work() -> None:
        for _ in range(20):
            bundle.run(ids, handle=JobHandle(budget=budget))

    threads = [threading.Thread(target=work) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert budget.peak == 2, "two 2-thread runs overlapped inside a 3-thread budget"
    assert budget.waits > 0
