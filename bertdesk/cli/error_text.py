"""A core error as the command line says it: its message, then each remedy phrased with the CLI's flags."""

from __future__ import annotations

from bertdesk.core import errors

#: What to do for each remedy that carries no detail.
_FIXED: dict[type[errors.Remedy], str] = {
    errors.ReplaceExisting: "pass --force to replace it",
    errors.ChooseAnotherLibrary: "give another --db file",
    errors.AddDocuments: "add files with `bertdesk library add PATH`",
    errors.ProvideWheel: "pass the wheel with --wheel",
    errors.ChooseAnotherName: "choose another name with --name",
    errors.ImportFolder: "download the model folder on another computer, then use `bertdesk models import DIR`",
    errors.ListDocuments: "see `bertdesk library list` for the ids",
}


def remedy_text(remedy: errors.Remedy) -> str:
    """What to do, in terms of bertdesk's commands and flags."""
    if type(remedy) in _FIXED:
        return _FIXED[type(remedy)]
    match remedy:
        case errors.ReindexLibrary(model=None):
            return "re-index it with `bertdesk library reindex`"
        case errors.ReindexLibrary(model=model):
            return f"re-index every document with `bertdesk library reindex --model {model}`"
        case errors.UseModel(model=model):
            return f"use --model {model}"
        case errors.RemoveModel(name=name):
            return f"remove it first with `bertdesk models remove {name}`"
        case errors.DownloadAgain(resume=resume):
            return "run the same download again to resume it" if resume else "try again later"
        case errors.MakeInt8Variant(folder=folder):
            return f"make one with `python -m bertdesk quantize {folder}`"
    raise AssertionError(f"no CLI phrasing for {remedy!r}")


def error_text(exc: errors.BertdeskError) -> str:
    """The one line the CLI prints for `exc`: the message, then its remedies ("…: use --model X, or …")."""
    return exc.describe(remedy_text)
