"""The command line's argument parsing: the parser that reports a usage error in one line, the argument types
(each refuses a bad value in one line), text arguments and standard input, and the model the arguments name."""

from __future__ import annotations

import argparse
import functools
import sys
from collections.abc import Callable
from pathlib import Path
from typing import NoReturn

from bertdesk.cli.output import one_line, stderr_progress
from bertdesk.core.errors import BertdeskError, StorageError

EXIT_USER_ERROR = 2  # a usage error is a user error like any other (see bertdesk.cli.program)


class ArgumentParser(argparse.ArgumentParser):
    """argparse that reports a usage error in one line (no usage block) and exits with code 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USER_ERROR, f"bertdesk: error: {one_line(message)} (see `{self.prog} --help`)\n")

    def _get_values(self, action: argparse.Action, arg_strings: list[str]) -> object:
        # argparse before 3.13 drops a `--` given as an option's value (`--pair=--`) and passes [] instead.
        if action.option_strings and action.nargs is None and arg_strings == ["--"]:
            value = self._get_value(action, "--")
            self._check_value(action, value)
            return value
        return super()._get_values(action, arg_strings)


def argument(value: str, what: str) -> str:
    """A text argument as typed; `-` reads standard input. Undecodable bytes in argv are a user error."""
    if value == "-":
        return stdin_text()
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        bad = ord(value[exc.start])
        detail = f"byte 0x{bad - 0xDC00:02x}" if 0xDC80 <= bad <= 0xDCFF else f"U+{bad:04X}"
        raise BertdeskError(
            f"{what} is not valid UTF-8 ({detail} at character {exc.start + 1}); pass UTF-8 text, or pipe the text "
            "in with - to have its encoding detected"
        ) from None
    return value


@functools.cache
def stdin_text() -> str:
    """Standard input as text, read once (every `-` argument gets the same text), its encoding detected."""
    stream = sys.stdin.buffer if sys.stdin is not None and hasattr(sys.stdin, "buffer") else None
    data = stream.read() if stream is not None else b""
    from bertdesk.core.files import decode_text

    text, encoding = decode_text(data, "standard input")
    if encoding != "UTF-8":
        print(f"bertdesk: note: standard input is not UTF-8; read it as {encoding}", file=sys.stderr)
    return text



def open_bundle(args: argparse.Namespace):
    """The model of --model (and --precision); the default model, installed with progress on stderr, without it."""
    from bertdesk.core.models import open_model_or_default

    return open_model_or_default(args.model, precision=getattr(args, "precision", None),
                                 handle=stderr_progress() if args.model is None else None)


def check_output_file(path: Path) -> None:
    """Refuse, before a slow render, a PNG path that can never be written."""
    if path.is_dir():
        raise StorageError(f"{path} is a folder; give the name of the PNG file to write")
    if path.suffix.lower() != ".png":
        raise StorageError(f"{path}: the image is written as PNG; give a file name ending in .png")
    folder = path.absolute().parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    if not folder.is_dir():
        raise StorageError(f"{path} cannot be written: {folder} is a file, not a folder")


def model_name(value: str) -> str:
    """An argparse type: a bundle folder or an installed bundle's name, not empty."""
    if not value.strip():  # Path("") is the current folder: "." has no config.json would puzzle
        raise argparse.ArgumentTypeError("give a bundle folder or an installed bundle's name, not an empty string")
    return value


def whole_number(low: int, high: int | None = None, unit: str = "") -> Callable[[str], int]:
    """An argparse type: a whole number in low..high, refused in one line otherwise."""
    def parse(value: str) -> int:
        try:
            number = int(value)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{value!r} is not a whole number") from None
        if number < low or (high is not None and number > high):
            limit = f"between {low} and {high}{unit}" if high is not None else f"at least {low}"
            raise argparse.ArgumentTypeError(f"{value} is not {limit}")
        return number

    return parse


count = whole_number(1)
count_or_zero = whole_number(0)


def finite(value: str) -> float:
    """An argparse type: a finite number (no NaN, no infinity)."""
    try:
        number = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a number") from None
    if number != number or number in (float("inf"), float("-inf")):
        raise argparse.ArgumentTypeError(f"{value} is not a finite number")
    return number


def precision_option(sub: argparse.ArgumentParser) -> None:
    """Add --precision (fp32 or int8) to `sub`."""
    sub.add_argument("--precision", choices=["fp32", "int8"],
                     help="the model's fp32 graph (default) or its int8 variant (see `bertdesk quantize`)")
