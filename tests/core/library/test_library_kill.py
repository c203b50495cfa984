"""kill -9 at random moments of `library add FOLDER`: the database is always consistent (integrity check ok, every
document complete with all its pages, passages and vectors, nothing half-imported, every file accounted for), and a
re-run completes the rest so that the library equals a clean import."""

from __future__ import annotations

import os
import random
import re
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from tests.core.library.documents import write_docx, write_encrypted_pdf, write_html, write_markdown, write_pdf
from tests.core.library.test_indexer import check_complete

KILLS = 10


def corpus(folder: Path) -> int:
    """Twenty readable documents of every kind and one encrypted PDF; returns how many files."""
    folder.mkdir()
    rng = random.Random(12)
    words = "river bank money paris france capital city question answer movie cat dog mat".split()

    def text(n: int) -> str:
        return " ".join(" ".join(rng.choice(words) for _ in range(12)).capitalize() + "." for _ in range(n))

    for i in range(4):
        write_pdf(folder / f"report{i}.pdf", [text(10) for _ in range(3)], f"Report {i}")
        write_docx(folder / f"memo{i}.docx", [text(4), text(6)], page_breaks_after=[0])
        write_html(folder / f"page{i}.html", f"Page {i}", [text(8), text(5)])
        write_markdown(folder / f"note{i}.md", f"Note {i}", [text(7), text(3)])
        (folder / f"plain{i}.txt").write_text(text(15), encoding="utf-8")
    write_encrypted_pdf(folder / "locked.pdf", "secret")
    return 21


def schema_version(db: Path) -> int:
    conn = sqlite3.connect(db)
    try:
        return conn.execute("PRAGMA user_version").fetchone()[0]
    finally:
        conn.close()


def integrity(db: Path) -> str:
    conn = sqlite3.connect(db)
    try:
        return conn.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        conn.close()


def snapshot(db: Path) -> dict:
    """The library's content by file path: document fields, pages, passages with vectors, and the import log."""
    conn = sqlite3.connect(db)
    try:
        documents = {}
        for document_id, path, *fields in conn.execute(
                "SELECT id, path, content_hash, title, kind, page_count, blank_pages FROM documents"):
            pages = conn.execute("SELECT number, text FROM pages WHERE document_id = ? ORDER BY number",
                                 (document_id,)).fetchall()
            passages = conn.execute("SELECT page, start, end, text, vector FROM passages WHERE document_id = ? "
                                    "ORDER BY page, start", (document_id,)).fetchall()
            documents[path] = (fields, pages, passages)
        failures = dict(conn.execute("SELECT path, reason FROM failures"))
        queued = {p for (p,) in conn.execute("SELECT path FROM queue")}
        return {"documents": documents, "failures": failures, "queued": queued}
    finally:
        conn.close()


def same_library(got: dict, clean: dict) -> None:
    assert got["failures"] == clean["failures"] and got["queued"] == clean["queued"] == set()
    assert set(got["documents"]) == set(clean["documents"])
    for path, (fields, pages, passages) in clean["documents"].items():
        got_fields, got_pages, got_passages = got["documents"][path]
        assert (got_fields, got_pages) == (fields, pages), path
        assert [p[:4] for p in got_passages] == [p[:4] for p in passages], path
        for (*_, got_vector), (*_, vector) in zip(got_passages, passages, strict=True):
            a, b = np.frombuffer(got_vector, "<f2"), np.frombuffer(vector, "<f2")
            assert float(np.dot(a.astype(np.float32), b.astype(np.float32))) > 0.999, path


def files_done(line: str) -> int | None:
    """The number of finished files in a progress line ("[ 42%] 3/21 files, ..."), or None."""
    found = re.match(r"\[\s*\d+%\] (\d+)/\d+ files", line)
    return int(found.group(1)) if found else None


def kill_after(command: list[str], env: dict[str, str], done: int, pause: float) -> None:
    """Run `command` and kill -9 it `pause` seconds after its progress says `done` files are finished (at once
    with done < 0: during start-up), so each kill lands where it is meant to however fast the machine is."""
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    assert process.stderr is not None
    try:
        if done >= 0:
            for line in process.stderr:
                if (count := files_done(line)) is not None and count >= done:
                    break
        time.sleep(pause)
    finally:
        process.kill()
        process.wait()
        process.stderr.close()


@pytest.mark.slow
def test_kill_at_random_moments_of_an_import(tmp_path: Path, tiny_bundle: Path) -> None:
    folder = tmp_path / "docs"
    files = corpus(folder)
    env = {**os.environ, "BERTDESK_DATA": str(tmp_path / "data"), "BERTDESK_MODELS": str(tmp_path / "models"),
           "BERTDESK_THREADS": "1"}

    def command(db: Path) -> list[str]:
        return [sys.executable, "-m", "bertdesk", "library", "add", str(folder), "--db", str(db),
                "--model", str(tiny_bundle)]

    clean_db = tmp_path / "clean.sqlite3"
    result = subprocess.run(command(clean_db), env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    clean = snapshot(clean_db)
    assert len(clean["documents"]) == files - 1 and list(clean["failures"].values()) == [
        "encrypted PDF (needs a password)"]
    check_complete(clean_db)

    seed = random.randrange(1 << 30)
    rng = random.Random(seed)
    # The first kill lands during start-up (schema, model loading); each other one after a chosen number of finished
    # files, up to a file's time later (inside its extraction, embedding or transaction), with files to spare after.
    moments = [(-1, rng.uniform(0.0, 0.5))] + [(rng.randint(1, files // 2), rng.uniform(0.0, 0.03))
                                              for _ in range(KILLS - 1)]
    partial = 0
    for i, (done, pause) in enumerate(moments):
        db = tmp_path / f"killed{i}.sqlite3"
        kill_after(command(db), env, done, pause)
        where = f"seed {seed}: kill {i} after {done} files + {pause:.3f} s"
        if db.exists() and schema_version(db) == 0:  # killed before the schema committed: an empty file
            assert db.stat().st_size == 0 or integrity(db) == "ok", where
        elif db.exists():
            check_complete(db)
            state = snapshot(db)
            for path, content in state["documents"].items():
                assert content[:2] == clean["documents"][path][:2], f"{where}: {path} differs"
                assert [p[:4] for p in content[2]] == [p[:4] for p in clean["documents"][path][2]], where
            accounted = set(state["documents"]) | set(state["failures"]) | state["queued"]
            if accounted:  # the sources were added: every file is done, logged or waiting
                assert len(accounted) == files, f"{where}: files lost"
            if done > 0:
                finished = len(state["documents"]) + len(state["failures"])
                assert done <= finished < files, f"{where}: {finished} files finished"
                partial += 1
        result = subprocess.run(command(db), env=env, capture_output=True, text=True, timeout=300)
        assert result.returncode == 0, result.stderr
        same_library(snapshot(db), clean)
        check_complete(db)
    assert partial == KILLS - 1, f"seed {seed}: {partial} kills landed mid-import"
