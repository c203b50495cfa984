"""The analysis tabs, in order: a key per tab, used by the window, the settings file and `bertdesk screenshot`.

Each tab lives in a package `bertdesk.ui.tabs.<key>` whose `__init__` exports `Tab`, an `AnalysisTab` subclass. A
key whose package does not exist yet shows a placeholder saying what the tab will do, so a new tab is added by
creating its package: neither this file nor the main window changes. Importing this module does not import Qt.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bertdesk.ui.tabs.base import AnalysisTab


@dataclass(frozen=True)
class TabSpec:
    """One tab: its key (settings, command line, package name), its title, and what a placeholder says."""

    key: str
    title: str
    plan: str


TABS: tuple[TabSpec, ...] = (
    TabSpec("tokens", "Tokens", "It shows how the model's tokenizer splits a text into pieces."),
    TabSpec(
        "similarity", "Similarity",
        "It will embed several sentences and show how close each pair is in the model's space.",
    ),
    TabSpec(
        "classify", "Classify",
        "It will run a sequence-classification model on a text and show the score of every label.",
    ),
    TabSpec(
        "ask", "Ask",
        "It will answer a question from a passage with a question-answering model and highlight the answer.",
    ),
)

#: The tab keys in order: "tokens", "similarity", "classify", "ask".
TAB_KEYS: tuple[str, ...] = tuple(spec.key for spec in TABS)


def tab_spec(key: str) -> TabSpec:
    """The spec of the tab `key`; KeyError for an unknown key."""
    for spec in TABS:
        if spec.key == key:
            return spec
    raise KeyError(key)


def tab_class(key: str) -> type[AnalysisTab]:
    """The class of the tab `key`: its package's `Tab`, or a placeholder while the package does not exist.

    An import error inside an existing tab package is raised, never hidden behind a placeholder.
    """
    spec = tab_spec(key)
    module_name = f"{__package__}.{key}"
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name != module_name:
            raise
        from bertdesk.ui.tabs.placeholder import placeholder_class

        return placeholder_class(spec)
    return module.Tab


def make_tabs() -> list[AnalysisTab]:
    """One instance of every tab, in order."""
    return [tab_class(spec.key)() for spec in TABS]
