"""Working through the library's queue: each file extracted, split into passages, embedded and committed whole in one
transaction, so a kill or a cancel loses at most the file in progress and the next run resumes with the rest."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bertdesk.core.bundles.bundle import Bundle
from bertdesk.core.engine.batching import DEFAULT_TOKEN_BUDGET
from bertdesk.core.engine.embed import embed_texts
from bertdesk.core.errors import EmbedderMismatch, JobCancelled, LibraryError, ReindexLibrary
from bertdesk.core.files.hashing import sha256_file
from bertdesk.core.jobs import JobHandle, ensure_handle
from bertdesk.core.library.folder_scan import FileState, skip_reason
from bertdesk.core.library.formats import (
    MAX_FILE_BYTES,
    ExtractedDocument,
    ExtractionError,
    extract_document,
)
from bertdesk.core.library.passages import split_passages
from bertdesk.core.library.store import LibraryStore

log = logging.getLogger(__name__)

#: Runs that may begin a file and die before it is done (killed, out of memory) before the file is logged as failed.
MAX_ATTEMPTS = 3
#: Passages embedded between two progress reports while one large document is under way.
EMBED_CHUNK = 256


@dataclass(frozen=True)
class IndexProgress:
    """Where an indexing run stands. `passages_per_s` counts this run's committed and embedded passages over its
    wall time (extraction included); `seconds_left` extrapolates this run's bytes per second over the bytes still
    queued (None until there is a rate to go by)."""

    files_done: int
    files_total: int
    pages: int
    passages: int
    passages_per_s: float
    seconds_left: float | None
    current: str
    failures: int
    bytes_done: int = 0
    bytes_total: int = 0

    @property
    def fraction(self) -> float:
        """The share of the run done, by bytes (a large file weighs more than a small one), for a progress bar."""
        if self.bytes_total:
            return min(self.bytes_done / self.bytes_total, 1.0)
        return self.files_done / self.files_total if self.files_total else 1.0

    def summary(self) -> str:
        """One line for a status bar or a terminal."""
        left = f", {_duration(self.seconds_left)} left" if self.seconds_left is not None else ""
        failed = f", {self.failures} failed" if self.failures else ""
        current = f": {self.current}" if self.current else ""
        return (f"{self.files_done}/{self.files_total} files, {self.pages} pages, {self.passages} passages, "
                f"{self.passages_per_s:.1f} passages/s{left}{failed}{current}")


def _duration(seconds: float) -> str:
    seconds = round(seconds)
    return f"{seconds // 60} min {seconds % 60} s" if seconds >= 60 else f"{seconds} s"


def embedder_record(embedder: Bundle) -> dict[str, str]:
    """What the library records about the model its vectors come from (its folder too, for a bundle given by path
    rather than installed)."""
    return {"embedder": embedder.info.name, "embedder_precision": embedder.info.precision,
            "dim": str(embedder.info.hidden_size), "embedder_path": str(embedder.info.path)}


def check_embedder(store: LibraryStore, embedder: Bundle) -> None:
    """EmbedderMismatch if the library's passages were embedded with another model, LibraryError if with vectors of
    another size: its vectors and this model's cannot be compared. The int8 and fp32 graphs of one model may be
    mixed."""
    recorded = store.meta()
    name, dim = recorded.get("embedder"), recorded.get("dim")
    if not name or store.stats().passages == 0:
        return
    if name != embedder.info.name:
        raise EmbedderMismatch(name, embedder.info.name)
    if dim != str(embedder.info.hidden_size):
        raise LibraryError(f"this library's vectors have {dim} values but {name} makes {embedder.info.hidden_size}",
                           ReindexLibrary(name))


class _Run:
    """Counters of one indexing run and the progress they make."""

    def __init__(self, store: LibraryStore) -> None:
        self.store = store
        self.started = time.monotonic()
        self.files_done = self.pages = self.passages = self.failures = 0
        self.bytes_done = 0

    def progress(self, current: str, extra_bytes: float = 0.0, extra_passages: int = 0) -> IndexProgress:
        """The progress now; `extra_*` count the part of the current file already embedded."""
        queued_bytes = self.store.queued_bytes()
        done = self.bytes_done + extra_bytes
        total = self.bytes_done + queued_bytes
        elapsed = max(time.monotonic() - self.started, 1e-6)
        passages = self.passages + extra_passages
        rate = done / elapsed
        seconds_left = (total - done) / rate if done > 0 and elapsed > 0.5 else None
        return IndexProgress(self.files_done, self.files_done + self.store.stats().queued, self.pages,
                             passages, passages / elapsed, seconds_left, current, self.failures,
                             round(done), total)


def index_queue(db_path: Path, embedder: Bundle, handle: JobHandle | None = None, *,
                token_budget: int = DEFAULT_TOKEN_BUDGET) -> Iterator[IndexProgress]:
    """Index every queued file of the library at `db_path`, one transaction per file, yielding progress before each
    file, while a large one is embedded, and after the last. A bad file goes to the import log with its reason and
    the rest goes on; so does a file MAX_ATTEMPTS runs began and none finished (each run counts its attempt in the
    queue before reading the file, and files with attempts go last). Cancelling `handle` stops the onnxruntime run
    under way and raises JobCancelled; every file finished before stays committed. LibraryError if the library was
    indexed with another embedder."""
    handle = ensure_handle(handle)
    with LibraryStore(db_path) as store:
        check_embedder(store, embedder)
        run = _Run(store)
        while (item := store.next_queued()) is not None:
            handle.check()
            path, source_id, attempts = item
            if attempts >= MAX_ATTEMPTS:
                _give_up(run, path, source_id, attempts)
                continue
            store.begin_attempt(path)
            try:
                yield run.progress(path.name)
                yield from _index_file(run, path, source_id, embedder, handle, token_budget)
            except (JobCancelled, KeyboardInterrupt, GeneratorExit):
                with suppress(LibraryError):  # stopped on purpose: this file did not stop the run
                    store.begin_attempt(path, -1)
                raise
            run.files_done += 1
        yield run.progress("")


def _give_up(run: _Run, path: Path, source_id: int | None, attempts: int) -> None:
    """Log a queued file that `attempts` runs began and none finished: it killed the importer each time."""
    try:
        state: FileState | None = FileState.of(path)
    except OSError:
        state = None
    _fail(run, path, f"the import stopped while reading this file {attempts} times (it crashed or was killed): "
                     "skipped until it is retried", state, source_id)
    run.files_done += 1


def _index_file(run: _Run, path: Path, source_id: int | None, embedder: Bundle, handle: JobHandle,
                token_budget: int) -> Iterator[IndexProgress]:
    store = run.store
    try:
        state = FileState.of(path)
        # judged again here: a watched folder queues what appears in it, and a file may become a link or a pipe
        reason = skip_reason(path, _folder_of(store, source_id))
    except FileNotFoundError:
        store.drop_path(path)  # deleted while it waited: neither it nor an older version stays in the library
        return
    except OSError as exc:
        _fail(run, path, f"cannot read the file: {exc.strerror or exc}", None, source_id)
        return
    if reason is not None:
        _fail(run, path, reason, state, source_id)
        return
    if state.size > MAX_FILE_BYTES:  # refused by its size alone: never read, not even to hash it
        _extract_or_fail(run, path, state, source_id)
        return
    try:
        content_hash = sha256_file(path)
    except OSError as exc:
        _fail(run, path, f"cannot read the file: {exc.strerror or exc}", state, source_id)
        return
    if _settled_without_indexing(run, path, content_hash, state, source_id):
        run.bytes_done += state.size
        return
    document = _extract_or_fail(run, path, state, source_id, handle)
    if document is None:
        return
    spans = []
    for number, text in enumerate(document.pages, start=1):
        handle.check()
        headings = document.headings[number - 1] if number <= len(document.headings) else ()
        spans += [(number, span) for span in split_passages(text, headings=headings)]
    if not spans:
        _fail(run, path, "no text to index", state, source_id)
        run.bytes_done += state.size
        return
    texts = [document.pages[number - 1][span.start:span.end] for number, span in spans]
    parts = []
    for start in range(0, len(texts), EMBED_CHUNK):
        parts.append(embed_texts(embedder, texts[start:start + EMBED_CHUNK], normalize=True,
                                 token_budget=token_budget, handle=handle))
        embedded = start + len(parts[-1])
        if embedded < len(texts):
            yield run.progress(path.name, state.size * embedded / len(texts), embedded)
    vectors = np.concatenate(parts).astype(np.float32)
    handle.check()
    if store.write_document(path, source_id, state, content_hash, document, spans, vectors,
                            embedder_record(embedder)) is not None:
        run.pages += len(document.pages)
        run.passages += len(spans)
    run.bytes_done += state.size


def _folder_of(store: LibraryStore, source_id: int | None) -> Path | None:
    """The folder of a folder source (links in it must stay in it); None for a file added by name."""
    return next((s.path for s in store.sources() if s.id == source_id and s.is_folder), None)


def _extract_or_fail(run: _Run, path: Path, state: FileState, source_id: int | None,
                     handle: JobHandle | None = None) -> ExtractedDocument | None:
    """The file's pages, or None after logging why it cannot be imported."""
    try:
        return extract_document(path, handle)
    except ExtractionError as exc:
        reason = str(exc)
    except (JobCancelled, MemoryError, RecursionError):
        raise
    except Exception as exc:  # a reader library's bug on one odd file must not stop the import of the rest
        log.exception("extracting %s", path)
        reason = f"cannot be read ({type(exc).__name__}: {exc})"
    _fail(run, path, reason, state, source_id)
    run.bytes_done += state.size
    return None


def _settled_without_indexing(run: _Run, path: Path, content_hash: str, state: FileState,
                              source_id: int | None) -> bool:
    """Handle a queued file whose bytes the library already holds: unchanged (only its time moved), renamed (the
    document with its bytes lost its old path: it moves here), or a copy of a document still in place (logged, not
    indexed twice). True if the file needs no indexing."""
    store = run.store
    current = store.document_at(path)
    if current is not None and current.content_hash == content_hash:
        store.settle_unchanged(path, current.id, state, source_id)
        return True
    for twin in store.documents_with_hash(content_hash):
        if twin.path == path:
            continue
        try:
            twin_state = FileState.of(twin.path)
        except OSError:
            store.settle_unchanged(path, twin.id, state, source_id)  # renamed: the passages follow the file
            return True
        if (twin_state.size, twin_state.mtime) == (twin.size, twin.mtime):
            _fail(run, path, f"same content as {twin.path} (already in the library): not indexed twice", state,
                  source_id)
            return True
    return False


def _fail(run: _Run, path: Path, reason: str, state: FileState | None, source_id: int | None) -> None:
    run.store.record_failure(path, reason, state, source_id)
    run.failures += 1
