"""Start-up: only the tab on show is built before the window paints; the others are built when first shown and then
get the model, their saved inputs and the window's connections; a tab never built keeps its saved inputs. The
`--report-first-paint` hook the start-up benchmark (bench/startup.py) times works."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

from bertdesk.ui.main_window import MainWindow
from bertdesk.ui.tabs.registry import TAB_KEYS


def built_keys(window: MainWindow) -> list[str]:
    return [tab.key for tab in window.tabs.built_tabs()]


def test_only_the_tab_on_show_is_built_until_another_is_shown(qtbot, open_window, tiny_bundle):
    window = open_window(tiny_bundle)
    assert built_keys(window) == ["tokens"]
    window.select_tab("ask")
    assert built_keys(window) == ["tokens", "ask"]
    ask = window.current_tab()
    assert ask.key == "ask" and ask.isVisible() and ask.bundle is window.bundle
    assert window.tabs[TAB_KEYS.index("ask")] is ask  # built once


def test_a_tab_built_later_runs_like_one_built_at_once(qtbot, open_window, tiny_bundle):
    window = open_window(tiny_bundle)
    similarity = window.select_tab("similarity")
    qtbot.waitUntil(lambda: not window.is_busy(), timeout=30_000)
    similarity.state_changed.emit()
    assert window.window_state.timer.isActive()  # its changes are saved
    similarity.status_message.emit("hello from a late tab")
    assert window.statusBar().currentMessage() == "hello from a late tab"
    assert window.job_status._names[similarity.runner] == "Similarity"  # its jobs show in the status bar


def test_a_tab_never_built_keeps_its_saved_inputs(qtbot, open_window, tiny_bundle, user_folders):
    first = open_window(tiny_bundle)
    first.select_tab("classify").set_input_text("a good movie in paris")
    first.select_tab("tokens")
    first.save_settings()
    saved = json.loads((user_folders / "settings.json").read_text(encoding="utf-8"))["tabs"]["classify"]
    first.close()

    second = open_window(tiny_bundle)
    assert "classify" not in built_keys(second)
    second.save_settings()  # the Classify tab was never built: its inputs are written back as they were
    assert json.loads((user_folders / "settings.json").read_text(encoding="utf-8"))["tabs"]["classify"] == saved
    assert second.select_tab("classify").save_state() == saved  # and it gets them once built


def test_the_first_paint_hook_reports_and_quits(tiny_bundle, tmp_path):
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "BERTDESK_DATA": str(tmp_path / "data"),
           "BERTDESK_MODELS": str(tmp_path / "models")}
    done = subprocess.run(
        [sys.executable, "-m", "bertdesk.ui.app", "--model", str(tiny_bundle), "--report-first-paint"],
        env=env, capture_output=True, text=True, timeout=120, check=False,
    )
    assert done.returncode == 0, done.stderr
    assert re.search(r"first-paint \d+\.\d{6}", done.stdout + done.stderr)
