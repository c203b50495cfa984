"""The `bertdesk` command: the desktop window, or (un)installing its menu entry."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable
from importlib.resources import files
from types import TracebackType
from typing import TYPE_CHECKING

from PySide6.QtCore import QTimer
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication

from bertdesk import __version__
from bertdesk.ui.workers import describe_unexpected

if TYPE_CHECKING:
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

    from bertdesk.ui.error_log import setup_logging
    from bertdesk.ui.main_window import MainWindow
    from bertdesk.ui.settings import SettingsStore

    app = make_application(qt_args)
    setup_logging()
    window = MainWindow(SettingsStore(), model=args.model)
    # An exception escaping a slot on the GUI thread is logged and shown instead of only printed to stderr.
    sys.excepthook = _report_uncaught(window)
    window.show()
    if args.quit_after is not None:
        QTimer.singleShot(args.quit_after, window.close)
    return app.exec()


if __name__ == "__main__":
    sys.exit(main())
