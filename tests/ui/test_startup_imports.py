"""Start-up order: the window paints before the tabs it does not show, the job machinery and the model load are
imported or started; the picker says the model is loading meanwhile, and the load starts once the window has
painted (or, with no paint, soon after it was shown). No timings are asserted: bench/startup.py measures them."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from PySide6.QtCore import QEvent, QObject

from bertdesk.ui.main_window import FIRST_PAINT_WAIT_MS, MainWindow
from bertdesk.ui.settings_store import SettingsStore

#: Modules the window must not import before its first paint: the other tabs (pyqtgraph comes with the plots),
#: the job machinery (superqt, with qtpy and pygments) that the first job brings, charset_normalizer (opened
#: files), the About box's version lookups and the token exporter.
LATE_MODULES = (
    "bertdesk.ui.tabs.similarity",
    "bertdesk.ui.tabs.classify",
    "bertdesk.ui.tabs.ask",
    "bertdesk.ui.tabs.library",
    "pyqtgraph",
    "superqt",
    "charset_normalizer",
    "bertdesk.ui.about",
    "bertdesk.core.files.export",
    "bertdesk.core.bundles.bundle",
    "numpy",
    "onnx",
    "onnxruntime",
)

# Opens the window as `bertdesk` does, notes what is imported and started when its first paint event comes, waits
# for the model, and prints both as JSON.
FIRST_PAINT_PROBE = r"""
import json, sys
from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QWidget
from bertdesk.ui.app import make_application, open_main_window

late = json.loads(sys.argv[2])
app = make_application([])
window, guard = open_main_window(sys.argv[1])
report = {}


class FirstPaint(QObject):
    def eventFilter(self, watched, event):
        if event.type() == QEvent.Type.Paint and isinstance(watched, QWidget) and watched.window() is window:
            app.removeEventFilter(self)
            report["imported"] = sorted(name for name in late if name in sys.modules)
            report["load_started"] = window.models.runner.is_running()
            report["busy"] = window.is_busy()
            picker = window.model_picker
            items = [picker.itemText(i) for i in range(picker.count())]
            report["picker"] = [items, picker.isEnabled(), picker.currentText()]
        return False


def finish_when_loaded():
    if report and window.bundle is not None and not window.is_busy():
        report["loaded"] = window.bundle.info.name
        window.close()


probe = FirstPaint()
app.installEventFilter(probe)
poll = QTimer()
poll.timeout.connect(finish_when_loaded)
poll.start(20)
QTimer.singleShot(60_000, window.close)
window.show()
app.exec()
guard.close()
print(json.dumps(report))
"""


class PaintCounter(QObject):
    """Counts the paint events of the widget it filters."""

    def __init__(self) -> None:
        super().__init__()
        self.count = 0

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt's name)
        self.count += event.type() == QEvent.Type.Paint
        return False


def test_the_window_paints_before_the_late_modules_and_the_model_load(tiny_bundle, tmp_path):
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "BERTDESK_DATA": str(tmp_path / "data"),
           "BERTDESK_MODELS": str(tmp_path / "models")}
    done = subprocess.run(
        [sys.executable, "-c", FIRST_PAINT_PROBE, str(tiny_bundle), json.dumps(LATE_MODULES)],
        env=env, capture_output=True, text=True, timeout=180, check=False,
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout.splitlines()[-1])
    assert report["imported"] == [], "imported before the first paint"
    assert not report["load_started"], "the model load started before the first paint"
    # the window says it is loading
    assert report["busy"] and report["picker"] == [["Loading model…"], False, "Loading model…"]
    assert report["loaded"] == tiny_bundle.name  # and loads once it has painted


def test_a_window_shown_without_a_paint_still_loads_its_model(qtbot, tiny_bundle):
    window = MainWindow(SettingsStore(), model=str(tiny_bundle))
    qtbot.addWidget(window)
    paints = PaintCounter()
    window.installEventFilter(paints)
    window.setUpdatesEnabled(False)  # shown, but not painted
    window.show()
    assert window.is_busy() and window.bundle is None
    qtbot.waitUntil(lambda: window.bundle is not None and not window.is_busy(), timeout=30_000)
    assert window.bundle.info.name == tiny_bundle.name and paints.count == 0
    window.setUpdatesEnabled(True)
    window.close()


def test_a_window_closed_before_its_first_paint_loads_nothing(qtbot, tiny_bundle):
    window = MainWindow(SettingsStore(), model=str(tiny_bundle))
    qtbot.addWidget(window)
    window.show()
    window.close()  # before the event loop ran: no paint yet
    qtbot.wait(FIRST_PAINT_WAIT_MS + 200)
    assert not window.models.runner.is_running() and window.bundle is None
    assert not window.is_busy()


def test_esc_before_the_first_paint_drops_the_load_and_offers_the_models(qtbot, tiny_bundle):
    window = MainWindow(SettingsStore(), model=str(tiny_bundle))
    qtbot.addWidget(window)
    window.show()
    window.cancel_job()  # the status bar's Cancel (Esc) before the load started
    qtbot.waitUntil(lambda: window.model_picker.isEnabled() and not window.is_busy(), timeout=30_000)
    qtbot.wait(FIRST_PAINT_WAIT_MS + 200)  # painted since, and past the no-paint wait: the dropped load stays dropped
    assert window.bundle is None and not window.is_busy()
    assert "choose one" in window.statusBar().currentMessage()
    window.close()
