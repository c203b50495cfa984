"""A core error as the command line says it: its message, then each remedy phrased with the CLI's flags."""

from __future__ import annotations

from bertdesk.core import errors


def remedy_text(remedy: errors.Remedy) -> str:
    """What to do, in terms of bertdesk's commands and flags."""
    match remedy:
        case errors.ReplaceExisting():
            return "pass --force to replace it"
        case errors.ChooseAnotherLibrary():
            return "give another --db file"
        case errors.AddDocuments():
            return "add files with `bertdesk library add PATH`"
        case errors.ReindexLibrary(model=None):
            return "re-index it with `bertdesk library reindex`"
        case errors.ReindexLibrary(model=model):
            return f"re-index every document with `bertdesk library reindex --model {model}`"
        case errors.UseModel(model=model):
            return f"use --model {model}"
        case errors.ProvideWheel():
            return "pass the wheel with --wheel"
    raise AssertionError(f"no CLI phrasing for {remedy!r}")


def error_text(exc: errors.BertdeskError) -> str:
    """The one line the CLI prints for `exc`: the message, then its remedies ("…: use --model X, or …")."""
    return exc.describe(remedy_text)
