"""Which embedding model a library is indexed and asked with, and at which precision: the one policy behind the
CLI's `library` commands, the window's Library tab and `library ask`."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from bertdesk.core.bundles.bundle import Bundle, precision_variant, resolve_bundle
from bertdesk.core.errors import BundleError, LibraryError
from bertdesk.core.jobs import JobHandle
from bertdesk.core.library.records import read_meta
from bertdesk.core.library.retrieval_vectors import reading
from bertdesk.core.models.default_model import default_model_path, ensure_default_model
from bertdesk.core.models.opening import open_model_or_default

#: A new library's precision when its model has that graph: indexing is 3–4× faster than at fp32, and the int8 and
#: fp32 vectors of one model may be mixed in a library (see `indexer.check_embedder`).
NEW_LIBRARY_PRECISION = "int8"


def open_library_embedder(db_path: Path, model: str | Path | None = None, precision: str | None = None,
                          handle: JobHandle | None = None) -> Bundle:
    """The embedder for the library at `db_path`.

    `model` (a folder or an installed name) if given, else the one the library was indexed with (the very folder
    it recorded if that is still there, else the installed bundle of its name), else the default model (installed
    on first use). The precision: `precision` if given; else for a library with a recorded embedder its recorded
    precision where the model has that graph; else (a new library) int8 where the model has an int8 graph, else
    the model's own (fp32)."""
    recorded = _recorded(db_path)
    name: str | Path | None = model
    if model is None and recorded.get("embedder"):
        folder = recorded.get("embedder_path")
        name = folder if folder and Path(folder).is_dir() else recorded["embedder"]
    if isinstance(name, str) and name == default_model_path().name:
        name = None  # the default model: installed again if it went missing
    if precision is None:
        wanted = recorded.get("embedder_precision") if recorded.get("embedder") else NEW_LIBRARY_PRECISION
        precision = _if_present(name, wanted, handle)
    return open_model_or_default(name, precision=precision, handle=handle)


def _recorded(db_path: Path) -> dict[str, str]:
    """The library's recorded settings; none for a library not made yet (or not readable: opening it says why)."""
    try:
        with reading(db_path) as (connection, _):
            return read_meta(connection)
    except (LibraryError, sqlite3.Error):
        return {}


def _if_present(name: str | Path | None, precision: str | None, handle: JobHandle | None) -> str | None:
    """`precision` if the model `name` (None: the default model, installed on first use) has that graph, else None
    (its own graph). A model that cannot be found raises here as opening it would."""
    if precision is None:
        return None
    folder = ensure_default_model(handle=handle) if name is None else resolve_bundle(name)
    try:
        precision_variant(folder, precision)
    except BundleError:
        return None
    return precision
