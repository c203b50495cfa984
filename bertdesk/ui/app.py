"""The `bertdesk` command: the desktop window, or (un)installing its menu entry."""

from __future__ import annotations

import argparse
import logging
import sys
import time
from collections.abc import Callable
from importlib.resources import files
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication, QWidget

from bertdesk import __version__
from bertdesk.core.errors import BertdeskError, describe_unexpected
from bertdesk.ui.error_text import error_text

if TYPE_CHECKING:
    from bertdesk.ui.crash_guard import CrashGuard
    from bertdesk.ui.main_window import MainWindow

#: The smallest default font size, in points; some platforms (and Qt's offscreen one) start smaller.
MIN_POINT_SIZE = 10


def make_application(argv: list[str] | None = None) -> QApplication:
    """The QApplication with bertdesk's name, icon and a readable font size (or the existing one, so set up)."""
    app = QApplication.instance()
    if app is None:
        app = QApplication([sys.argv[0], *(argv or [])])
    app.setApplicationName("bertdesk")
    app.setApplicationDisplayName("bertdesk")
    app.setApplicationVersion(__version__)
    app.setDesktopFileName("bertdesk")
    icons = files("bertdesk.resources")
    icon = QIcon()
    for name in ("bertdesk.svg", "bertdesk.png"):
        icon.addFile(str(icons / name))
    app.setWindowIcon(icon)
    font = app.font()
    if font.pointSizeF() < MIN_POINT_SIZE:
        font.setPointSizeF(MIN_POINT_SIZE)
        app.setFont(font)
    return app


def _report_uncaught(
    window: MainWindow,
) -> Callable[[type[BaseException], BaseException, TracebackType | None], None]:
    def hook(kind: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
        logging.getLogger("bertdesk").error("Uncaught exception", exc_info=(kind, exc, tb))
        window.messages.show_error(describe_unexpected(exc), offer_log=True)

    return hook


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="bertdesk", description="Look inside a BERT model, fully offline.")
    parser.add_argument("--model", help="a bundle name or folder to open instead of the last one used")
    parser.add_argument(
        "--install-desktop", action="store_true", help="add bertdesk to the desktop's application menu and exit"
    )
    parser.add_argument(
        "--uninstall-desktop", action="store_true", help="remove bertdesk from the application menu and exit"
    )
    parser.add_argument("--version", action="version", version=f"bertdesk {__version__}")
    # For smoke tests on a display: open the window, quit after this many milliseconds.
    parser.add_argument("--quit-after", type=int, metavar="MS", help=argparse.SUPPRESS)
    # For the start-up benchmark: print "first-paint <epoch seconds>" once the window has painted, then quit.
    parser.add_argument("--report-first-paint", action="store_true", help=argparse.SUPPRESS)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the desktop window (the `bertdesk` gui-script), or install/uninstall its desktop entry."""
    args, qt_args = _parser().parse_known_args(argv)
    if args.install_desktop or args.uninstall_desktop:
        from bertdesk.ui import desktop_entry

        if args.install_desktop:
            for path in desktop_entry.install():
                print(f"wrote {path}")
        else:
            removed = desktop_entry.uninstall()
            for path in removed:
                print(f"removed {path}")
            if not removed:
                print("nothing to remove")
        return 0

    app = make_application(qt_args)
    window, guard = open_main_window(args.model)
    # An exception escaping a slot on the GUI thread is logged and shown instead of only printed to stderr.
    sys.excepthook = _report_uncaught(window)
    if args.report_first_paint:
        _report_first_paint(app, window)
    window.show()
    if args.quit_after is not None:
        QTimer.singleShot(args.quit_after, window.close)
    code = app.exec()
    if guard is not None:
        guard.close()
    return code


class _FirstPaint(QObject):
    """Prints the wall time of the window's first paint event, then closes the window once that frame is done."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self._window = window

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt's name)
        if event.type() == QEvent.Type.Paint and isinstance(watched, QWidget) and watched.window() is self._window:
            painted = time.time()
            QApplication.instance().removeEventFilter(self)
            print(f"first-paint {painted:.6f}", flush=True)
            QTimer.singleShot(0, self._window.close)
        return False


def _report_first_paint(app: QApplication, window: MainWindow) -> None:
    app.installEventFilter(_FirstPaint(window))


def open_main_window(model: str | None = None) -> tuple[MainWindow, CrashGuard | None]:
    """The main window with the log, the crash guard and the saved settings in the data folder.

    A data folder that cannot be used does not stop the window: it opens without saved settings or a log file and
    says why. A crash of the previous run is reported in the window's message bar.
    """
    from bertdesk.core.files import data_dir
    from bertdesk.ui.crash_guard import CrashGuard
    from bertdesk.ui.error_log import setup_logging
    from bertdesk.ui.main_window import MainWindow
    from bertdesk.ui.settings_store import SETTINGS_NAME, SettingsStore

    problem = ""
    try:
        folder: Path | None = data_dir()
    except (BertdeskError, OSError) as exc:
        folder = None
        problem = error_text(exc) if isinstance(exc, BertdeskError) else f"The data folder cannot be used: {exc}."
    guard = None
    store = None
    if folder is not None:
        setup_logging()
        guard = CrashGuard(folder)
        store = SettingsStore(folder / SETTINGS_NAME)
    window = MainWindow(store, model=model)
    if folder is None:
        window.messages.show_error(f"{problem} Settings and the log are not kept this session.")
    elif guard is not None and guard.previous_crash:
        window.messages.show_error(guard.previous_crash, offer_log=True)
    return window, guard


if __name__ == "__main__":
    sys.exit(main())
