"""Start-up time: from launching `python -m bertdesk.ui.app` to the window's first painted frame (offscreen Qt), next
to the floor — a bare PySide6 QMainWindow shown the same way.

    python bench/startup.py [--runs 5]

Each run starts a fresh process; the app prints the wall time of its first paint (`--report-first-paint`) and
quits. One warm-up run (page cache, the first launch's settings file) comes first; the median of the rest is printed.
The data folder is a temporary one, so the user's settings are never read or written.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

FLOOR = """
import sys, time
from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QApplication, QMainWindow

class FirstPaint(QObject):
    def eventFilter(self, watched, event):
        if event.type() == QEvent.Type.Paint:
            print(f"first-paint {time.time():.6f}", flush=True)
            app.removeEventFilter(self)
            QTimer.singleShot(0, window.close)
        return False

app = QApplication(sys.argv)
window = QMainWindow()
window.resize(1200, 780)
probe = FirstPaint()
app.installEventFilter(probe)
window.show()
app.exec()
"""


def time_to_first_paint(command: list[str], env: dict[str, str]) -> float:
    """Seconds from starting `command` to the first-paint time it prints."""
    started = time.time()
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120, check=False)
    # Both streams: while the tokenizer loads (on a worker thread) descriptor 1 points at stderr for a moment.
    found = re.search(r"first-paint (\d+\.\d{6})", done.stdout + "\n" + done.stderr)
    if found:
        return float(found.group(1)) - started
    raise RuntimeError(f"no first paint reported (exit {done.returncode}):\n{done.stderr[-2000:]}")


def median_of(command: list[str], env: dict[str, str], runs: int) -> tuple[float, list[float]]:
    """The median over `runs` launches after one warm-up launch, and every launch's time."""
    time_to_first_paint(command, env)
    times = [time_to_first_paint(command, env) for _ in range(runs)]
    return statistics.median(times), times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bertdesk-startup-") as data:
        env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "BERTDESK_DATA": data}
        app, app_times = median_of([sys.executable, "-m", "bertdesk.ui.app", "--report-first-paint"], env, args.runs)
        floor, floor_times = median_of([sys.executable, "-c", FLOOR], env, args.runs)
    load = os.getloadavg()[0]
    print(f"bertdesk window: median {app:.3f} s  ({', '.join(f'{t:.3f}' for t in app_times)})")
    print(f"bare QMainWindow (floor): median {floor:.3f} s  ({', '.join(f'{t:.3f}' for t in floor_times)})")
    print(f"bertdesk - floor: {app - floor:.3f} s; load average {load:.2f}")


if __name__ == "__main__":
    main()
