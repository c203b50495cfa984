"""The `library` command: the offline document library (add, index, list, remove, status, ask, reindex, retry)."""

from __future__ import annotations

import argparse
import sys
import threading
from collections.abc import Callable
from pathlib import Path

from bertdesk.cli.arguments import argument, count, model_name, precision_option
from bertdesk.cli.output import emit, stderr_progress
from bertdesk.core.errors import BertdeskError, JobCancelled


def add_library_commands(command: Callable[..., argparse.ArgumentParser]) -> None:
    """Add `library` to the parser; `command(name, func, help, model=...)` makes a subcommand (see
    program.build_parser)."""
    library = command("library", _no_action, "the offline document library: import files and folders, ask them "
                                             "questions (answers with document and page)", model=False)
    actions = library.add_subparsers(dest="library_command", required=True, metavar="ACTION")

    def action(name: str, func: Callable[[argparse.Namespace], None], help_text: str,
               model: bool = False) -> argparse.ArgumentParser:
        sub = actions.add_parser(name, help=help_text, description=help_text)
        sub.set_defaults(func=func)
        # SUPPRESS: `library --json list` and `library list --json` both work (the default is on `library`).
        sub.add_argument("--json", action="store_true", default=argparse.SUPPRESS, help="print JSON on stdout")
        sub.add_argument("--db", type=Path, help="the library database file (default: library.sqlite3 in the data "
                                                 "folder)")
        if model:
            sub.add_argument("--model", type=model_name,
                             help="the embedding model (default: the one the library was indexed with, else the "
                                  "default model)")
            precision_option(sub)
        return sub

    sub = action("add", cmd_add, "add files and folders (recursively) and index them now, with progress on stderr; "
                                 "Ctrl-C keeps every finished file and `library index` continues", model=True)
    sub.add_argument("paths", nargs="+", type=Path, metavar="PATH", help="a file or folder")
    sub.add_argument("--watch", action="store_true", help="keep the folders in sync: stay running and index new, "
                                                          "changed, renamed and deleted files as they happen")
    action("index", cmd_index, "rescan the sources (new, changed, renamed, deleted files) and index the queue: "
                               "resumes an interrupted import", model=True)
    action("list", cmd_list, "list the documents")
    sub = action("remove", cmd_remove, "remove a document (its file is never touched), or a source with --source")
    sub.add_argument("id", type=count, help="the document id (see `library list`)")
    sub.add_argument("--source", action="store_true", help="ID is a source: stop following that file or folder")
    action("status", cmd_status, "documents, passages, queued files, failures with their reasons, database size")
    sub = action("ask", cmd_ask, "ask the library a question: answers with document, page and passage", model=True)
    sub.add_argument("question", help="the question")
    sub.add_argument("--top-k", type=count, default=5, help="how many answers (default 5)")
    sub.add_argument("--reader", type=model_name, help="a question-answering bundle (default: the first installed "
                                                        "one, else the best passages, labelled as retrieval)")
    action("reindex", cmd_reindex, "embed every document again, with --model (after changing the embedding model)",
           model=True)
    sub = action("retry", cmd_retry, "try failed files again (all, or the one given)", model=True)
    sub.add_argument("path", nargs="?", type=Path, help="one failed file (default: all)")


def _no_action(args: argparse.Namespace) -> None:  # argparse requires an action, so this never runs
    raise BertdeskError("give an action: add, index, list, remove, status, ask, reindex or retry")


def _store(args: argparse.Namespace, *, read_only: bool = False, create: bool = False):
    """The library of --db: only `library add` creates one; reading commands open it read-only."""
    from bertdesk.core.library import LibraryStore

    return LibraryStore(args.db, read_only=read_only, create=create)


def _embedder(args: argparse.Namespace, store) -> object:
    """The embedder `open_library_embedder` chooses for --model / --precision and the library of --db."""
    from bertdesk.core.library import open_library_embedder

    return open_library_embedder(store.path, args.model, args.precision, handle=stderr_progress())


def _new_failures(store, before: set[Path]) -> list[dict]:
    return [{"path": str(f.path), "reason": f.reason} for f in store.failures() if f.path not in before]


def _run_index(args: argparse.Namespace, store, failures_before: set[Path] | None = None) -> dict:
    """Index the queue with progress on stderr; returns the run's counts and the failures logged since
    `failures_before` (default: since this call). Ctrl-C: what was committed stays."""
    from bertdesk.core.library import index_queue

    if failures_before is None:
        failures_before = {f.path for f in store.failures()}
    if not store.queued():  # nothing to do: no model to load (or install)
        return {"model": None, "precision": None, "files": 0, "pages": 0, "passages": 0, "passages_per_s": 0.0,
                "failures": _new_failures(store, failures_before)}
    embedder = _embedder(args, store)
    last = None
    try:
        for progress in index_queue(store.path, embedder):
            last = progress
            print(f"[{progress.fraction:4.0%}] {progress.summary()}", file=sys.stderr, flush=True)
    except KeyboardInterrupt:
        done = last.files_done if last is not None else 0
        print(f"bertdesk: interrupted after {done} files; every finished file is kept and `bertdesk library index` "
              "continues with the rest", file=sys.stderr)
        raise JobCancelled() from None  # exit 130, without the general "interrupted" line after this one
    return {
        "model": embedder.info.name,
        "precision": embedder.info.precision,
        "files": last.files_done if last else 0,
        "pages": last.pages if last else 0,
        "passages": last.passages if last else 0,
        "passages_per_s": round(last.passages_per_s, 2) if last else 0.0,
        "failures": _new_failures(store, failures_before),
    }


def _run_human(result: dict) -> str:
    lines = [f"indexed {result['files']} files: {result['pages']} pages, {result['passages']} passages "
             f"({result['passages_per_s']:.1f} passages/s" + (f", {result['model']} {result['precision']})"
                                                               if result["model"] else ")")]
    lines += [f"  failed: {f['path']}: {f['reason']}" for f in result["failures"]]
    return "\n".join(lines)


def cmd_add(args: argparse.Namespace) -> None:
    """Add sources, index what they queued, and with --watch keep following them."""
    from bertdesk.core.library import source_files

    listed = [(path, source_files(path, watch=args.watch)) for path in args.paths]  # all checked before any is added
    with _store(args, create=True) as store:
        before = {f.path for f in store.failures()}  # what the walks skip is logged as the sources are added
        queued = sum(store.add_source(path, watch=args.watch, scan=scan) for path, scan in listed)
        result = {"queued": queued, **_run_index(args, store, before)}
        if not args.watch:
            emit(args, result, lambda: f"queued {queued} files; " + _run_human(result))
            return
        print(_run_human(result), file=sys.stderr)
        _watch(args, store)


def _watch(args: argparse.Namespace, store) -> None:
    """Follow the watched sources until Ctrl-C, indexing each change as it comes."""
    from bertdesk.core.library import FolderWatcher

    changed = threading.Event()
    watcher = FolderWatcher(store.path, lambda paths: changed.set())
    watcher.start()
    try:
        print(f"watching {len(watcher.sources)} sources; Ctrl-C stops", file=sys.stderr, flush=True)
        while True:
            changed.wait()
            changed.clear()
            _run_index(args, store)
    finally:
        watcher.stop()


def cmd_index(args: argparse.Namespace) -> None:
    """The start-up rescan, then the queue."""
    with _store(args) as store:
        changes = store.rescan()
        result = {"changes": changes, **_run_index(args, store)}
        emit(args, result, lambda: f"{changes} changes found; " + _run_human(result))


def _document_dict(document) -> dict:
    return {"id": document.id, "path": str(document.path), "title": document.title, "kind": document.kind,
            "pages": document.page_count, "passages": document.passages, "blank_pages": list(document.blank_pages),
            "size": document.size, "indexed": document.indexed}


def cmd_list(args: argparse.Namespace) -> None:
    """The documents, one a line. A damaged document row (a cell another program overwrote) is named in one warning
    line on stderr and left out; a library whose every document is damaged is an error (exit 2)."""
    with _store(args, read_only=True) as store:
        documents = [_document_dict(d) for d in store.documents()]
        if not documents and store.stats().documents:
            raise BertdeskError(f"every document of the library {store.path} is damaged (see above); re-index "
                                "them with `bertdesk library reindex`, or move the library away and add the files "
                                "again")

    def human() -> str:
        if not documents:
            return "the library is empty: add files with `bertdesk library add PATH`"
        return "\n".join(f"{d['id']}\t{d['kind']}\t{d['pages']} pages\t{d['passages']} passages\t{d['title']}\t"
                         f"{d['path']}" for d in documents)

    emit(args, {"documents": documents}, human)


def cmd_remove(args: argparse.Namespace) -> None:
    """Remove a document or a source from the library; files on disk are never touched."""
    with _store(args) as store:
        if args.source:
            store.remove_source(args.id)
        else:
            store.remove_document(args.id)
    what = "source" if args.source else "document"
    emit(args, {"removed": args.id, "what": what}, lambda: f"removed {what} {args.id} (the files are untouched)")


def cmd_status(args: argparse.Namespace) -> None:
    """Counts, queue, failures with reasons, scanned pages, sources, embedder and database size. Damaged rows (of
    documents, sources, the import log or the settings) are named in one warning line each on stderr and left out
    of the lists; the counts still count them, and the exit code stays 0: status is where damage shows."""
    with _store(args, read_only=True) as store:
        stats = store.stats()
        meta = store.meta()
        data = {
            "db": str(store.path),
            "documents": stats.documents,
            "pages": stats.pages,
            "passages": stats.passages,
            "queued": stats.queued,
            "db_bytes": stats.db_bytes,
            "embedder": meta.get("embedder"),
            "embedder_precision": meta.get("embedder_precision"),
            "sources": [{"id": s.id, "path": str(s.path), "folder": s.is_folder, "watch": s.watch}
                        for s in store.sources()],
            "failures": [{"path": str(f.path), "reason": f.reason, "at": f.at} for f in store.failures()],
            "scanned_pages": [{"path": str(d.path), "pages": list(d.blank_pages), "reason": "scanned page, no text"}
                              for d in store.documents() if d.blank_pages],
        }

    def human() -> str:
        lines = [f"{data['documents']} documents, {data['pages']} pages, {data['passages']} passages, "
                 f"{data['queued']} queued, {len(data['failures'])} failed; {data['db_bytes'] / 1e6:.1f} MB in "
                 f"{data['db']}" + (f" (embedder {data['embedder']} {data['embedder_precision']})"
                                    if data["embedder"] else "")]
        lines += [f"  source {s['id']}: {s['path']}" + (" (watched)" if s["watch"] else "") for s in data["sources"]]
        lines += [f"  failed: {f['path']}: {f['reason']}" for f in data["failures"]]
        lines += [f"  {d['path']}: scanned page, no text: page {', '.join(map(str, d['pages']))}"
                  for d in data["scanned_pages"]]
        if data["queued"]:
            lines.append("  `bertdesk library index` indexes the queued files")
        return "\n".join(lines)

    emit(args, data, human)


def cmd_ask(args: argparse.Namespace) -> None:
    """Answers from the library, each with its document, page and passage. A question that is not valid UTF-8 is
    refused at the door (exit 2); a damaged passage found for it is named in a warning on stderr and left out, and
    if every one found is damaged that is an error (exit 2)."""
    from bertdesk.core.library import ask_command

    question = argument(args.question, "the question")
    result = ask_command(args.db, question, top_k=args.top_k, model=args.model, reader=args.reader,
                         precision=args.precision, handle=stderr_progress())

    def human() -> str:
        lines = [f"{result['mode']}: {result['note']}" if result.get("note") else result["mode"]]
        for answer in result["answers"]:
            lines.append(f"{answer['score']:.3f}\t{answer['text']!r}\t{answer['title']} p. {answer['page']}\t"
                         f"{answer['path']}")
        return "\n".join(lines)

    emit(args, result, human)


def cmd_reindex(args: argparse.Namespace) -> None:
    """Drop every vector and embed every document again with --model."""
    with _store(args) as store:
        queued = store.reindex()
        result = {"queued": queued, **_run_index(args, store)}
        emit(args, result, lambda: f"re-queued {queued} files; " + _run_human(result))


def cmd_retry(args: argparse.Namespace) -> None:
    """Queue failed files again and index them."""
    with _store(args) as store:
        queued = store.retry(args.path)
        if args.path is not None and not queued:
            raise BertdeskError(f"{args.path} is not in the import log (see `bertdesk library status`)")
        result = {"queued": queued, **_run_index(args, store)}
        emit(args, result, lambda: f"re-queued {queued} files; " + _run_human(result))
