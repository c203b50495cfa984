"""What the Library tab runs off the GUI thread: library operations that end with a snapshot of the library, the
embedder's opening, asking, and rendering an answer's page. Each opens its own LibraryStore (one per thread)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bertdesk.core.bundles import Bundle, open_model
from bertdesk.core.jobs import JobHandle
from bertdesk.core.library import (
    DocumentInfo,
    ImportFailure,
    LibraryResult,
    LibraryStats,
    LibraryStore,
    SourceInfo,
    ask_library,
    open_library_embedder,
    read_only_reason,
)

#: Pixels across an answer's PDF page is rendered at (the viewer scales it to its width).
PAGE_WIDTH_PX = 1400


@dataclass(frozen=True)
class Snapshot:
    """The library as the tab lists it."""

    sources: tuple[SourceInfo, ...]
    documents: tuple[DocumentInfo, ...]
    failures: tuple[ImportFailure, ...]
    queued: int
    stats: LibraryStats


@dataclass(frozen=True)
class OpOutcome:
    """What a library operation returned, and the library after it."""

    value: object
    snapshot: Snapshot


def snapshot(store: LibraryStore) -> Snapshot:
    """The library's sources, documents, failures and queue length."""
    return Snapshot(
        sources=tuple(store.sources()),
        documents=tuple(store.documents()),
        failures=tuple(store.failures()),
        queued=len(store.queued()),
        stats=store.stats(),
    )


StoreOp = Callable[[LibraryStore, JobHandle], object]


def run_op(db_path: Path, op: StoreOp, handle: JobHandle, *, writes: bool | None = True) -> OpOutcome:
    """Run `op(store, handle)` on a store of its own, then take the snapshot the tab lists. `writes=False`: `op`
    only reads, and an existing library is opened read-only (a read-only file or folder is listed too); None: only
    where the library can be written (`op` looks at `store.read_only`)."""
    exists = db_path.exists()
    read_only = exists and (writes is False or (writes is None and bool(read_only_reason(db_path))))
    with LibraryStore(db_path, read_only=read_only) as store:
        value = op(store, handle)
        handle.check()
        return OpOutcome(value, snapshot(store))


def rescan_unless_read_only(store: LibraryStore, handle: JobHandle) -> int:
    """The start-up rescan (files changed while the app was closed); a read-only library is only listed."""
    return 0 if store.read_only else store.rescan()


def open_embedder(db_path: Path, location: str | Path | None, handle: JobHandle) -> Bundle:
    """The embedding model `open_library_embedder` chooses for the library at `db_path` and the model folder the
    tab was given (`location`, None: the library's own, else the default model)."""
    return open_library_embedder(db_path, location, handle=handle)


@dataclass(frozen=True)
class AskOutcome:
    """An answered question, with the text of each answer's page (for the viewer)."""

    result: LibraryResult
    page_texts: dict[int, str]  # by passage id


def ask_job(
    handle: JobHandle,
    db_path: Path,
    question: str,
    embedder: Bundle,
    reader: Bundle | str | None,
    document_ids: list[int] | None,
    folder: Path | None,
) -> AskOutcome:
    """Ask the library `question`; `reader` is a QA bundle, an installed one's folder to open, or None."""
    if isinstance(reader, str):
        reader = open_model(reader, handle=handle)
    with LibraryStore(db_path, read_only=True) as store:
        result = ask_library(
            store, question, embedder, reader, document_ids=document_ids, folder=folder, handle=handle
        )
        page_texts = {}
        for answer in result.answers:
            if answer.passage_id not in page_texts:
                page_texts[answer.passage_id] = store.passage(answer.passage_id).page_text
    return AskOutcome(result, page_texts)


@dataclass(frozen=True)
class RenderedPage:
    """A PDF page rendered, with the answer's boxes in its pixels."""

    path: Path
    page: int
    rgba: np.ndarray
    boxes: list[tuple[float, float, float, float]]


def render_job(handle: JobHandle, path: Path, page: int, start: int, end: int) -> RenderedPage:
    """Render `page` of the PDF `path` and find the boxes of the page text's characters `start`..`end`."""
    from bertdesk.core.library import render_page, text_boxes

    rgba = render_page(path, page, width_px=PAGE_WIDTH_PX)
    handle.check()
    boxes = text_boxes(path, page, start, end, width_px=PAGE_WIDTH_PX) if end > start else []
    return RenderedPage(path, page, rgba, boxes)
