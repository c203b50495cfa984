"""One readable line for an error that is not a user error, for the window and the log."""

from __future__ import annotations


def describe_unexpected(exc: BaseException, description: str = "") -> str:
    """One readable line for an exception that is not a `BertdeskError` (the traceback goes to the log)."""
    detail = str(exc).strip().splitlines()
    summary = f"{type(exc).__name__}: {detail[0]}" if detail else type(exc).__name__
    if len(summary) > 200:
        summary = summary[:197] + "..."
    where = f" while running {description!r}" if description else ""
    return f"Unexpected error{where}: {summary} (details in the log file)"
