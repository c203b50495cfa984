"""The window stays responsive while a long job runs: a heartbeat timer on the GUI thread measures the stalls."""

from __future__ import annotations

import time

import pytest
from PySide6.QtCore import QTimer

from bertdesk.core.engine.embed import embed_long_text
from bertdesk.ui.main_window import MainWindow
from bertdesk.ui.settings_store import SettingsStore

HEARTBEAT_MS = 10
#: The job is cancelled after this long if it has not finished (the whole text takes ~30 s on two cores).
BUDGET_S = 12
WORDS = 60_000


def long_text() -> str:
    base = (
        "Tokenizers split unfamiliar words into wordpieces, while everyday words like the and model stay whole. "
        "The quick brown fox jumps over the lazy dog near the riverbank in Paris; unbelievably, nobody noticed."
    ).split()
    return " ".join(base[i % len(base)] for i in range(WORDS))


@pytest.mark.slow
def test_gui_thread_keeps_beating_during_a_long_embedding(qtbot, default_bundle_dir):
    window = MainWindow(SettingsStore(), model=str(default_bundle_dir))
    qtbot.addWidget(window)
    window.show()
    qtbot.waitUntil(lambda: window.bundle is not None and not window.is_busy(), timeout=60_000)
    runner = window.tabs[0].runner
    bundle, text = window.bundle, long_text()
    beats: list[float] = []
    heartbeat = QTimer()
    heartbeat.setInterval(HEARTBEAT_MS)
    heartbeat.timeout.connect(lambda: beats.append(time.perf_counter()))
    outcome: list[object] = []
    runner.finished.connect(outcome.append)
    progress: list[float] = []
    runner.progress.connect(lambda fraction, _text: progress.append(fraction))

    heartbeat.start()
    started = time.perf_counter()
    runner.submit(lambda handle: embed_long_text(bundle, text, handle=handle), "embed a long text")
    qtbot.waitUntil(lambda: bool(outcome) or time.perf_counter() - started > BUDGET_S, timeout=(BUDGET_S + 30) * 1000)
    if not outcome:
        runner.cancel()
    runner.shutdown()
    elapsed = time.perf_counter() - started
    heartbeat.stop()
    window.close()

    gaps = [later - earlier for earlier, later in zip(beats, beats[1:], strict=False)]
    stall_ms = max(gaps) * 1000
    done = "finished" if outcome else f"cancelled at {progress[-1] if progress else 0:.0%}"
    print(
        f"\n{WORDS:,} words, default model: job {done} after {elapsed:.1f} s; {len(beats)} heartbeats, "
        f"longest GUI-thread gap {stall_ms:.0f} ms (timer every {HEARTBEAT_MS} ms)"
    )
    assert progress, "the job reported no progress"
    assert stall_ms < 1000
