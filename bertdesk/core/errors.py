"""Errors a user can act on: the CLI prints them as one line (exit code 2), the window shows them."""


class BertdeskError(Exception):
    """A problem with the user's input, model or files, explained in one readable sentence."""


class BundleError(BertdeskError):
    """A model bundle folder is missing a file, is corrupt, or cannot be run."""


class CheckpointError(BertdeskError):
    """A Hugging Face checkpoint folder cannot be converted."""


class IntrospectionError(BertdeskError):
    """An ONNX graph's internals (per-layer hidden states, attentions) cannot be exposed."""


class StorageError(BertdeskError):
    """A user path (models or data folder, output file, input file) cannot be read, created or written."""


class JobCancelled(Exception):
    """A job stopped because it was cancelled; not an error to show to the user."""


class LibraryError(BertdeskError):
    """The library database cannot be opened, read or written, or an import or question cannot be done."""


def describe_unexpected(exc: BaseException, description: str = "") -> str:
    """One readable line for an exception that is not a `BertdeskError` (the traceback goes to the log)."""
    detail = str(exc).strip().splitlines()
    summary = f"{type(exc).__name__}: {detail[0]}" if detail else type(exc).__name__
    if len(summary) > 200:
        summary = summary[:197] + "..."
    where = f" while running {description!r}" if description else ""
    return f"Unexpected error{where}: {summary} (details in the log file)"
