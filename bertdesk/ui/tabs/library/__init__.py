"""The Library tab: import your own documents and ask questions of them, answers with document and page."""

from bertdesk.ui.tabs.library.tab import LibraryTab as Tab

__all__ = ["Tab"]
