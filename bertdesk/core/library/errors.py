"""Errors of the document library a user can act on (the CLI prints them as one line, exit code 2)."""

from bertdesk.core.errors import BertdeskError


class LibraryError(BertdeskError):
    """The library database cannot be opened, read or written, or an import or question cannot be done."""
