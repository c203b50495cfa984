"""A core error as the command line says it: its message, then each remedy phrased with the CLI's flags."""

from __future__ import annotations

from bertdesk.core.errors import (
    AddDocuments,
    BertdeskError,
    ChooseAnotherLibrary,
    ProvideWheel,
    ReindexLibrary,
    Remedy,
    ReplaceExisting,
    UseModel,
)


def remedy_text(remedy: Remedy) -> str:
    """What to do, in terms of bertdesk's commands and flags."""
    match remedy:
        case ReplaceExisting():
            return "pass --force to replace it"
        case ChooseAnotherLibrary():
            return "give another --db file"
        case AddDocuments():
            return "add files with `bertdesk library add PATH`"
        case ReindexLibrary(model=None):
            return "re-index it with `bertdesk library reindex`"
        case ReindexLibrary(model=model):
            return f"re-index every document with `bertdesk library reindex --model {model}`"
        case UseModel(model=model):
            return f"use --model {model}"
        case ProvideWheel():
            return "pass the wheel with --wheel"
    raise AssertionError(f"no CLI phrasing for {remedy!r}")


def error_text(exc: BertdeskError) -> str:
    """The one line the CLI prints for `exc`: the message, then its remedies ("…: use --model X, or …")."""
    message = str(exc)
    if not exc.remedies:
        return message
    return f"{message}: " + ", or ".join(remedy_text(remedy) for remedy in exc.remedies)
