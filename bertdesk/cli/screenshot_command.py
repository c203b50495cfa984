"""The `screenshot` command: a tab rendered offscreen to a PNG. The only part of the command line that reaches the
window: the tab keys (Qt-free) when the parser is built, the window itself only when the command runs."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

from bertdesk.cli.arguments import check_output_file, whole_number
from bertdesk.cli.output import emit
from bertdesk.ui.tabs.registry import TAB_KEYS

SCREENSHOT_PIXELS = (100, 8192)  # the range of --width and --height

_pixels = whole_number(*SCREENSHOT_PIXELS, unit=" pixels")


def cmd_screenshot(args: argparse.Namespace) -> None:
    """Render a tab offscreen to a PNG."""
    from bertdesk.core.bundles import describe_bundle, resolve_bundle

    bundle_dir = None
    if args.model is not None:  # checked here: the window would fall back to the default model
        bundle_dir = resolve_bundle(args.model)
        describe_bundle(bundle_dir)
    check_output_file(args.out)
    from bertdesk.ui.screenshot import render_tab

    path = render_tab(args.tab, args.out, bundle_dir=bundle_dir, size=(args.width, args.height))
    emit(args, {"path": str(path)}, lambda: f"saved {path}")


def add_screenshot_command(command: Callable[..., argparse.ArgumentParser]) -> None:
    """Add `screenshot`; `command(name, func, help, model=...)` makes a subcommand (see program.build_parser)."""
    sub = command("screenshot", cmd_screenshot, "render a tab offscreen to a PNG with sample input")
    sub.add_argument("--tab", required=True, choices=list(TAB_KEYS))
    sub.add_argument("out", type=Path, help="PNG file to write")
    sub.add_argument("--width", type=_pixels, default=1280, help="window width in pixels (100 to 8192)")
    sub.add_argument("--height", type=_pixels, default=800, help="window height in pixels (100 to 8192)")
