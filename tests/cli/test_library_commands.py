"""`bertdesk library ...`: add/index/list/status/remove with --json, hostile input as one line and exit 2, a second
process reading while one indexes, and Ctrl-C keeping what was committed (exit 130)."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bertdesk.cli import main
from bertdesk.core.library.store import LibraryStore
from tests.core.library.test_indexer import bad_documents, check_complete, good_documents
from tests.core.library.test_library_kill import corpus


def library(capsys: pytest.CaptureFixture, *args: str) -> tuple[int, str, str]:
    code = main(["library", *args])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(autouse=True)
def private_data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Nothing a test runs touches the user's data folder (the default library lives there)."""
    monkeypatch.setenv("BERTDESK_DATA", str(tmp_path / "data"))


def test_add_list_status_remove_index(tmp_path: Path, tiny_bundle: Path, capsys: pytest.CaptureFixture) -> None:
    docs = tmp_path / "docs"
    pages = good_documents(docs)
    reasons = bad_documents(docs)
    db = str(tmp_path / "lib.sqlite3")
    code, out, err = library(capsys, "add", str(docs), "--db", db, "--model", str(tiny_bundle), "--json")
    assert code == 0, err
    added = json.loads(out)
    assert added["queued"] == added["files"] == len(pages) + len(reasons)
    assert {Path(f["path"]).name for f in added["failures"]} == set(reasons)
    assert "passages/s" in err and "report.pdf" in err  # progress on stderr
    code, out, _ = library(capsys, "list", "--db", db, "--json")
    documents = {Path(d["path"]).name: d for d in json.loads(out)["documents"]}
    assert {n: d["pages"] for n, d in documents.items()} == pages
    code, out, _ = library(capsys, "--json", "status", "--db", db)
    status = json.loads(out)
    assert (status["documents"], status["queued"], len(status["failures"])) == (len(pages), 0, len(reasons))
    assert status["scanned_pages"] == [{"path": str(docs / "report.pdf"), "pages": [3],
                                        "reason": "scanned page, no text"}]
    assert status["embedder"] == tiny_bundle.name and status["db_bytes"] > 0
    code, out, _ = library(capsys, "status", "--db", db)
    assert "scanned page, no text: page 3" in out and "encrypted PDF" in out
    code, out, _ = library(capsys, "remove", str(documents["memo.docx"]["id"]), "--db", db)
    assert code == 0 and (docs / "memo.docx").is_file()
    write_text_file = docs / "later.txt"
    write_text_file.write_text("A file that came later.")
    code, out, err = library(capsys, "index", "--db", db, "--json")  # the recorded embedder, found by its folder
    assert code == 0, err
    assert json.loads(out)["files"] == 1 and json.loads(out)["model"] == tiny_bundle.name
    code, out, _ = library(capsys, "list", "--db", db)
    assert "later" in out and "memo" not in out
    check_complete(Path(db))


@pytest.mark.parametrize("case", ["missing path", "no supported files", "db is a folder", "db is not sqlite",
                                  "db in an impossible place", "unknown document", "no action", "bad top-k"])
def test_hostile_input_is_one_line_and_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture, case: str) -> None:
    (tmp_path / "pictures").mkdir()
    (tmp_path / "pictures" / "cat.jpg").write_bytes(b"\xff\xd8")
    notes = tmp_path / "notes.txt"
    notes.write_text("my notes, not a database\n" * 50)
    db = str(tmp_path / "lib.sqlite3")
    argv = {
        "missing path": ["add", str(tmp_path / "nowhere"), "--db", db],
        "no supported files": ["add", str(tmp_path / "pictures"), "--db", db],
        "db is a folder": ["list", "--db", str(tmp_path)],
        "db is not sqlite": ["status", "--db", str(notes)],
        "db in an impossible place": ["list", "--db", str(notes / "lib.sqlite3")],
        "unknown document": ["remove", "42", "--db", db],
        "no action": [],
        "bad top-k": ["ask", "why?", "--top-k", "0", "--db", db],
    }[case]
    before = notes.read_bytes()
    code, out, err = library(capsys, *argv)
    assert code == 2, err
    assert out == "" and err.startswith("bertdesk: error:") and err.count("\n") == 1, err
    assert notes.read_bytes() == before


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "bertdesk", "library", *args]


def _env(tmp_path: Path) -> dict[str, str]:
    return {**os.environ, "BERTDESK_DATA": str(tmp_path / "data")}


def start(tmp_path: Path, *args: str) -> subprocess.Popen:
    """`bertdesk library ARGS` running in a process of its own, its standard error readable as text."""
    process = subprocess.Popen(_cli(*args), env=_env(tmp_path), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                               text=True)
    assert process.stderr is not None
    return process


def test_a_second_process_lists_and_asks_while_one_indexes(tmp_path: Path, tiny_bundle: Path,
                                                          capsys: pytest.CaptureFixture) -> None:
    docs = tmp_path / "docs"
    files = corpus(docs)
    db = tmp_path / "lib.sqlite3"
    indexer = start(tmp_path, "add", str(docs), "--db", str(db), "--model", str(tiny_bundle))
    indexer.stderr.readline()  # indexing has begun
    seen, asked = set(), False
    while indexer.poll() is None:
        code, out, err = library(capsys, "list", "--db", str(db), "--json")
        assert code == 0, err
        seen.add(len(json.loads(out)["documents"]))
        if not asked and max(seen) > 0:
            code, out, err = library(capsys, "ask", "capital of france", "--db", str(db), "--model",
                                     str(tiny_bundle), "--json")
            assert code == 0, err
            asked = bool(json.loads(out)["answers"])
    rest = indexer.stderr.read()
    assert indexer.wait() == 0, rest
    assert len(seen) >= 2, f"the reader saw only {seen} documents"  # it read while documents were committed
    with LibraryStore(db) as store:
        assert store.stats().documents == files - 1
    check_complete(db)


def test_ctrl_c_keeps_committed_files_and_index_continues(tmp_path: Path, tiny_bundle: Path) -> None:
    docs = tmp_path / "docs"
    files = corpus(docs)
    db = tmp_path / "lib.sqlite3"
    process = start(tmp_path, "add", str(docs), "--db", str(db), "--model", str(tiny_bundle))
    for line in process.stderr:
        done = re.match(r"\[\s*\d+%\] (\d+)/", line)
        if done and int(done.group(1)) >= 3:  # three files committed
            break
    process.send_signal(signal.SIGINT)
    rest = process.stderr.read()
    assert process.wait() == 130, rest
    assert "interrupted" in rest and "Traceback" not in rest
    assert rest.count("interrupted") == 1, "one line says it"
    with LibraryStore(db) as store:
        stats = store.stats()
        assert stats.documents + stats.failures >= 3 and stats.documents < files - 1 and stats.queued >= 1
    check_complete(db)
    result = subprocess.run(_cli("index", "--db", str(db), "--model", str(tiny_bundle), "--json"), env=_env(tmp_path),
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    with LibraryStore(db) as store:
        assert store.stats().documents == files - 1 and store.queued() == []
    check_complete(db)


def test_add_watch_follows_the_folder_until_ctrl_c(tmp_path: Path, tiny_bundle: Path) -> None:
    docs = tmp_path / "docs"
    good_documents(docs)
    db = tmp_path / "lib.sqlite3"
    process = start(tmp_path, "add", str(docs), "--watch", "--db", str(db), "--model", str(tiny_bundle))
    try:
        for line in process.stderr:
            if line.startswith("watching"):
                break
        (docs / "arrived.txt").write_text("A note that arrived while the library was watching.")
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with LibraryStore(db) as store:
                if store.document_at(docs / "arrived.txt") is not None:
                    break
            time.sleep(0.1)
        else:
            raise AssertionError("the new file was not indexed within 30 s")
        process.send_signal(signal.SIGINT)
        rest = process.stderr.read()
        assert process.wait(30) == 130, rest
        assert "Traceback" not in rest
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    with LibraryStore(db) as store:
        assert store.sources()[0].watch and store.stats().documents == 6
    check_complete(db)


def test_two_processes_importing_into_one_library_at_once(tmp_path: Path, tiny_bundle: Path) -> None:
    docs = tmp_path / "docs"
    files = corpus(docs)
    more = tmp_path / "more"
    good_documents(more)
    db = tmp_path / "lib.sqlite3"
    runs = [start(tmp_path, "add", str(folder), "--db", str(db), "--model", str(tiny_bundle))
            for folder in (docs, docs, more)]  # two race for the same files, a third adds its own
    for process in runs:
        _, err = process.communicate(timeout=300)
        assert process.returncode == 0, err
    with LibraryStore(db) as store:
        paths = [d.path for d in store.documents()]
        assert len(paths) == len(set(paths)) == files - 1 + 5 and store.queued() == []
    check_complete(db)


def test_a_name_that_is_not_utf8_is_reported_once_and_readably(tmp_path: Path, tiny_bundle: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    Path(os.fsdecode(os.fsencode(docs) + b"/caf\xe9.txt")).write_text("Words in a file with a Latin-1 name.")
    (docs / "plain.txt").write_text("Words in a file with a plain name.")
    result = subprocess.run(_cli("add", str(docs), "--db", str(tmp_path / "lib.sqlite3"), "--model", str(tiny_bundle)),
                            env=_env(tmp_path), capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    said = [line for line in result.stdout.splitlines() if "not valid UTF-8" in line]  # in the list of failures
    assert said == [f"  failed: {docs}/caf\\xe9.txt: the name is not valid UTF-8 (the library keeps names as text): "
                    "rename it"], result.stdout


def test_the_cli_and_the_window_make_a_new_library_with_the_same_embedder(
    tmp_path: Path, tiny_bundle: Path, capsys: pytest.CaptureFixture
) -> None:
    """`library add` and the Library tab's jobs choose a new library's embedder by one policy: the model given, at
    int8 where it has that graph."""
    import shutil

    from bertdesk.core.conversion.quantize import quantize_bundle
    from bertdesk.core.jobs import JobHandle
    from bertdesk.core.library.indexer import index_queue
    from bertdesk.ui.tabs.library.library_jobs import open_embedder

    model = shutil.copytree(tiny_bundle, tmp_path / "tiny-bert")
    quantize_bundle(model)
    note = tmp_path / "docs" / "note.txt"
    note.parent.mkdir()
    note.write_text("The harbour opens at dawn.", encoding="utf-8")
    by_cli = tmp_path / "cli.sqlite3"
    code, _, err = library(capsys, "add", str(note), "--db", str(by_cli), "--model", str(model))
    assert code == 0, err
    by_window = tmp_path / "window.sqlite3"
    with LibraryStore(by_window) as store:
        store.add_source(note)
    list(index_queue(by_window, open_embedder(by_window, model, JobHandle())))
    recorded = []
    for db in (by_cli, by_window):
        with LibraryStore(db, read_only=True) as store:
            recorded.append({key: store.meta()[key] for key in ("embedder", "embedder_precision", "embedder_path")})
    assert recorded[0] == recorded[1] == {"embedder": "tiny-bert", "embedder_precision": "int8",
                                          "embedder_path": str(model)}
