"""The analysis tabs, in order: a key per tab, used by the window, the settings file and `bertdesk screenshot`.

Each tab lives in a package `bertdesk.ui.tabs.<key>` whose `__init__` exports `Tab`, an `AnalysisTab` subclass; a
new tab is added by creating its package and its line in `TABS`: the main window does not change. Importing this
module does not import Qt.

The window builds its tabs lazily (`LazyTabs`): a tab's package is imported and the tab made when it is first shown
or asked for, so that the window paints before the tabs it does not show exist.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, overload

if TYPE_CHECKING:
    from bertdesk.ui.tabs.base import AnalysisTab


@dataclass(frozen=True)
class TabSpec:
    """One tab: its key (settings, command line, package name) and its title."""

    key: str
    title: str


TABS: tuple[TabSpec, ...] = (
    TabSpec("tokens", "Tokens"),
    TabSpec("similarity", "Similarity"),
    TabSpec("classify", "Classify"),
    TabSpec("ask", "Ask"),
    TabSpec("library", "Library"),
)

#: The tab keys in order: "tokens", "similarity", "classify", "ask", "library".
TAB_KEYS: tuple[str, ...] = tuple(spec.key for spec in TABS)


def tab_spec(key: str) -> TabSpec:
    """The spec of the tab `key`; KeyError for an unknown key."""
    for spec in TABS:
        if spec.key == key:
            return spec
    raise KeyError(key)


def tab_class(key: str) -> type[AnalysisTab]:
    """The class of the tab `key`: its package's `Tab` (the package is imported); KeyError for an unknown key."""
    return importlib.import_module(f"{__package__}.{tab_spec(key).key}").Tab


class LazyTabs(Sequence["AnalysisTab"]):
    """The tabs of `TABS` in order, each made the first time it is asked for: `tabs[i]`, a slice or iterating
    builds the tabs read, `built(i)` and `built_tabs()` do not build anything.

    A tab is made by `make(key)` (by default `tab_class(key)()`; the window hands a tab what it shares with it) and
    then handed to `on_built(index, tab)`, after it is stored: code that `on_built` runs (a signal of the tab's, say)
    may read `tabs[index]` again and gets the same tab.
    """

    def __init__(
        self, on_built: Callable[[int, AnalysisTab], None], make: Callable[[str], AnalysisTab] | None = None
    ) -> None:
        self.specs: tuple[TabSpec, ...] = TABS
        self._on_built = on_built
        self._make = make if make is not None else lambda key: tab_class(key)()
        self._tabs: list[AnalysisTab | None] = [None] * len(TABS)

    def __len__(self) -> int:
        return len(self._tabs)

    @overload
    def __getitem__(self, index: int) -> AnalysisTab: ...

    @overload
    def __getitem__(self, index: slice) -> list[AnalysisTab]: ...

    def __getitem__(self, index: int | slice) -> AnalysisTab | list[AnalysisTab]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        index = range(len(self))[index]  # IndexError out of range; a negative index counts from the end
        tab = self._tabs[index]
        if tab is None:
            tab = self._tabs[index] = self._make(self.specs[index].key)
            self._on_built(index, tab)
        return tab

    def __iter__(self) -> Iterator[AnalysisTab]:
        return (self[index] for index in range(len(self)))

    def built(self, index: int) -> AnalysisTab | None:
        """The tab at `index` if it has been made, else None (nothing is built)."""
        return self._tabs[index]

    def built_tabs(self) -> list[AnalysisTab]:
        """The tabs made so far, in order."""
        return [tab for tab in self._tabs if tab is not None]

    def index_of(self, key: str) -> int:
        """The position of the tab `key`; KeyError for an unknown key."""
        for index, spec in enumerate(self.specs):
            if spec.key == key:
                return index
        raise KeyError(key)
