"""A bundle's onnxruntime runs hold as many tokens of the thread budget as they use threads: one for a run of the
lean or [CLS]-only session (jobs run several at once, `Bundle.lanes`), the bundle's thread count for the full one."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np

from bertdesk.core.bundles.bundle import Bundle
from bertdesk.core.engine.embed import embed_texts
from bertdesk.core.jobs import JobHandle, ThreadBudget


def test_a_lean_run_takes_one_token_and_a_run_with_internals_the_bundles_threads(tiny_bundle: Path) -> None:
    bundle = Bundle(tiny_bundle, threads=3)
    assert bundle.lanes == 3
    lean = ThreadBudget(total=4)
    bundle.run(np.array([[2, 5, 6, 3]]), handle=JobHandle(budget=lean))
    assert lean.peak == 1
    full = ThreadBudget(total=4)
    bundle.run(np.array([[2, 5, 6, 3]]), internals=True, handle=JobHandle(budget=full))
    assert full.peak == 3


def test_two_runs_with_internals_at_once_never_exceed_the_budget(tiny_bundle: Path) -> None:
    budget = ThreadBudget(total=3)
    bundle = Bundle(tiny_bundle, threads=2)
    ids = np.tile(np.arange(2, 60), (16, 1))

    def work() -> None:
        for _ in range(20):
            bundle.run(ids, internals=True, handle=JobHandle(budget=budget))

    threads = [threading.Thread(target=work) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert budget.peak == 2, "two 2-thread runs overlapped inside a 3-thread budget"
    assert budget.waits > 0


def test_a_job_in_lanes_stays_inside_a_smaller_budget(tiny_bundle: Path) -> None:
    budget = ThreadBudget(total=2)
    bundle = Bundle(tiny_bundle, threads=4)
    texts = [f"text number {i} " * (1 + i % 7) for i in range(300)]
    vectors = embed_texts(bundle, texts, handle=JobHandle(budget=budget))
    assert budget.peak <= 2 and budget.in_use == 0
    np.testing.assert_allclose(vectors, embed_texts(Bundle(tiny_bundle, threads=1), texts), atol=1e-6)
