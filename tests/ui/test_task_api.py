"""The task API of the tabs: hooks, partial results, stale marking, unfit models, and the app-wide thread budget
shared by two tabs running real models at once."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from bertdesk.core.bundles.bundle import open_model
from bertdesk.core.bundles.config import TASK_QA
from bertdesk.core.engine.embed import embed_long_text
from bertdesk.core.jobs import JobHandle, ThreadBudget, set_thread_budget
from bertdesk.ui.tabs.base import AnalysisTab
from tests.ui.conftest import UntilCancelled


class EmbedTab(AnalysisTab):
    """A minimal tab on the task API: embeds its text, yielding each window's progress as a partial result."""

    key = "embed-test"
    title = "Embed"
    running_text = "embedding"

    def __init__(self) -> None:
        super().__init__()
        self.text = ""
        self.events: list[tuple] = []

    def run_analysis(self) -> None:
        bundle, text = self.bundle, self.text
        assert bundle is not None

        def job(handle: JobHandle):
            yield "started"
            return embed_long_text(bundle, text, handle=handle).vector

        self.submit(job, "embed")

    def on_started(self) -> None:
        self.events.append(("started",))

    def on_partial(self, value: object) -> None:
        self.events.append(("partial", value))

    def on_result(self, result: object) -> None:
        self.events.append(("result", result))

    def on_error(self, message: str) -> None:
        self.events.append(("error", message))

    def on_cancelled(self) -> None:
        self.events.append(("cancelled",))


@pytest.fixture
def budget() -> Iterator[ThreadBudget]:
    # One thread: the runs the model makes (one thread each, until sessions pass their own count) must take turns.
    budget = ThreadBudget(1)
    set_thread_budget(budget)
    yield budget
    set_thread_budget(None)


@pytest.fixture
def tabs(qtbot) -> Iterator[list[EmbedTab]]:
    made = [EmbedTab(), EmbedTab()]
    for tab in made:
        qtbot.addWidget(tab)
    yield made
    for tab in made:
        tab.shutdown()


def results(tab: EmbedTab) -> list:
    return [event[1] for event in tab.events if event[0] == "result"]


def test_two_tabs_running_at_once_stay_within_the_thread_budget(qtbot, tabs, budget, default_bundle_dir: Path):
    bundle = open_model(str(default_bundle_dir))
    text = "The quick brown fox jumps over the lazy dog. " * 300  # several 512-token windows each
    for tab in tabs:
        tab.text = text
        tab.set_bundle(bundle)
    qtbot.waitUntil(lambda: all(results(tab) for tab in tabs), timeout=120_000)
    assert budget.peak <= budget.total
    assert budget.waits > 0  # the two tabs did contend for the threads
    expected = embed_long_text(bundle, text).vector
    for tab in tabs:
        assert tab.events[0] == ("started",)
        assert ("partial", "started") in tab.events
        np.testing.assert_allclose(results(tab)[0], expected, atol=1e-5)


def test_a_new_run_marks_the_shown_result_stale_until_it_arrives(qtbot, tabs, budget, tiny_bundle: Path):
    tab = tabs[0]
    tab.text = "first"
    tab.set_bundle(open_model(str(tiny_bundle)))
    qtbot.waitUntil(lambda: len(results(tab)) == 1, timeout=30_000)
    assert tab.stale_reason() == "" and tab.stale_label.isHidden()
    tab.text = "second"
    tab.input_changed()
    assert tab.stale_reason() == "the input changed" and not tab.stale_label.isHidden()
    qtbot.waitUntil(lambda: len(results(tab)) == 2, timeout=30_000)
    assert tab.events.count(("started",)) == 2
    assert tab.stale_reason() == "" and tab.is_current()


def test_a_cancelled_run_leaves_the_result_marked_stale(qtbot, tabs, budget, tiny_bundle: Path):
    tab = tabs[0]
    tab.text = "first"
    tab.set_bundle(open_model(str(tiny_bundle)))
    qtbot.waitUntil(lambda: len(results(tab)) == 1, timeout=30_000)
    release = threading.Event()

    def slow(handle: JobHandle) -> None:
        while not release.wait(0.01):
            handle.check()

    tab.submit(slow, "slow")
    assert tab.stale_reason() == "embedding again…"
    assert tab.cancel()
    assert ("cancelled",) in tab.events
    assert "cancelled" in tab.stale_reason()
    release.set()


def test_a_model_the_tab_does_not_serve_runs_the_fallback(qtbot, tabs, budget, tiny_bundle: Path):
    class AskOnly(EmbedTab):
        serves = frozenset({TASK_QA})

    tab = AskOnly()
    qtbot.addWidget(tab)
    tab.set_bundle(open_model(str(tiny_bundle)))
    qtbot.waitUntil(lambda: bool(tab.events), timeout=5000)
    assert tab.events[0][0] == "error"
    assert "needs a question-answering model" in tab.events[0][1] and "encoder model" in tab.events[0][1]
    assert not tab.runner.is_running()


def test_the_registry_makes_every_tab_in_order(qtbot):
    from bertdesk.ui.tabs import registry
    from bertdesk.ui.tabs.tokens import TokensTab

    built: list[int] = []
    tabs = registry.LazyTabs(lambda index, _tab: built.append(index))
    assert tabs.built_tabs() == [] and tabs.built(1) is None
    made = list(tabs)
    for tab in made:
        qtbot.addWidget(tab)
    keys = ["tokens", "similarity", "classify", "ask", "library"]
    assert [tab.key for tab in made] == list(registry.TAB_KEYS) == keys
    assert [tab.title for tab in made] == [spec.title for spec in registry.TABS]
    assert built == list(range(len(keys))) and tabs[1] is made[1] and tabs.built_tabs() == made
    assert registry.tab_class("tokens") is TokensTab
    with pytest.raises(KeyError):
        registry.tab_class("nothing")


def test_a_tabs_added_runners_and_timers_count_in_busy_cancel_stop_and_shutdown(qtbot, tabs):
    from bertdesk.ui.workers import JobRunner

    tab = tabs[0]
    extra: JobRunner[str, None] = JobRunner(tab)
    tab.add_runner(extra)
    fired: list[str] = []
    timer = tab.add_timer(60_000, lambda: fired.append("timer"))
    slow = UntilCancelled()
    assert not tab.is_busy()
    extra.submit(slow, "extra")
    assert slow.started.wait(5) and tab.is_busy()
    with qtbot.waitSignal(extra.cancelled, timeout=5000):
        assert tab.cancel()  # Esc reaches the added runner when the analysis has no job
    assert not tab.cancel() and not tab.is_busy()
    qtbot.waitUntil(slow.stopped.is_set, timeout=5000)

    timer.start()
    assert tab.is_busy()
    tab.stop()
    assert not timer.isActive() and not tab.is_busy() and fired == []

    slow = UntilCancelled()
    extra.submit(slow, "extra")
    assert slow.started.wait(5)
    tab.shutdown()  # cancels the added runner's job and waits for it
    assert slow.stopped.is_set() and not extra.is_running()


def test_a_tab_asks_for_the_model_manager_only_when_a_window_listens(qtbot, tabs):
    tab = tabs[0]
    assert not tab.request_model_manager(TASK_QA)
    asked: list[str] = []
    tab.open_model_manager.connect(asked.append)
    assert tab.request_model_manager(TASK_QA) and asked == [TASK_QA]
