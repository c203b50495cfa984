"""Start-up time: from launching `python -m bertdesk.ui.app` to the window's first painted frame (offscreen Qt), next
to the floor — a bare PySide6 QMainWindow shown the same way.

    python bench/startup.py [--runs 7]

Each run starts a fresh process; the app prints the wall time of its first paint (`--report-first-paint`) and
quits. One warm-up launch of each (page cache, the first launch's settings file) comes first; then the app and the
floor are launched in turn, so that other work on the machine weighs on both alike, and the medians are printed
with the load average before and after. The data folder is a temporary one, so the user's settings are never read
or written.

Python's compiled bytecode is kept (in a temporary PYTHONPYCACHEPREFIX folder, written by the warm-up launch) even
where PYTHONDONTWRITEBYTECODE is set, as an installed app has it; `--compile-each-launch` measures the launches
without it, every module compiled from source each time.
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


def launch_times(commands: list[list[str]], env: dict[str, str], runs: int) -> list[list[float]]:
    """Every launch's time of each command: one warm-up launch each, then `runs` rounds launching each in turn."""
    for command in commands:
        time_to_first_paint(command, env)
    times: list[list[float]] = [[] for _ in commands]
    for _ in range(runs):
        for command, taken in zip(commands, times, strict=True):
            taken.append(time_to_first_paint(command, env))
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--compile-each-launch", action="store_true", help="keep no compiled bytecode between launches")
    args = parser.parse_args()
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="bertdesk-startup-") as data:
        env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "BERTDESK_DATA": data}
        if args.compile_each_launch:
            env["PYTHONDONTWRITEBYTECODE"] = "1"
        else:
            env.pop("PYTHONDONTWRITEBYTECODE", None)
            env["PYTHONPYCACHEPREFIX"] = os.path.join(data, "pycache")
        app_times, floor_times = launch_times(
            [[sys.executable, "-m", "bertdesk.ui.app", "--report-first-paint"], [sys.executable, "-c", FLOOR]],
            env, args.runs,
        )
    app, floor = statistics.median(app_times), statistics.median(floor_times)
    print(f"bertdesk window: median {app:.3f} s  ({', '.join(f'{t:.3f}' for t in app_times)})")
    print(f"bare QMainWindow (floor): median {floor:.3f} s  ({', '.join(f'{t:.3f}' for t in floor_times)})")
    load_after = os.getloadavg()[0]
    print(f"bertdesk - floor: {app - floor:.3f} s; load average {load_before:.2f} before, {load_after:.2f} after"
          f"{'; every module compiled at each launch' if args.compile_each_launch else ''}")


if __name__ == "__main__":
    main()
