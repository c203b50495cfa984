"""The Ask tab: extractive question answering over pasted or loaded text, explained window by window."""

from bertdesk.ui.tabs.ask.tab import AskTab

Tab = AskTab

__all__ = ["AskTab", "Tab"]
