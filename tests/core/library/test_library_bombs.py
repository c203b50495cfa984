"""Documents built to exhaust memory or time: a zip-bomb Word document under the unpack limit, one of millions of
empty paragraphs, PDFs and text files past the page, text and size limits; and a document that kills the importer,
which must not stay first in line for ever.

`library add` runs in a child process under a memory cap and a timeout, so a regression fails the test instead of
taking the machine down or hanging the suite.
"""

from __future__ import annotations

import json
import os
import resource
import sqlite3
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from bertdesk.core.library import format_pdf, format_types
from bertdesk.core.library.formats import MAX_TEXT_FILE_BYTES, ExtractionError, extract_document
from bertdesk.core.library.indexer import MAX_ATTEMPTS
from tests.conftest import ROOT
from tests.core.library.documents import write_docx, write_markdown, write_pdf, write_text
from tests.core.library.test_indexer import sentences

#: The child's address space: an import of a few small documents (onnxruntime maps a lot) runs well under this.
MEMORY_CAP = 3 * 1024**3
TIMEOUT = 90

_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
    'content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.'
    'wordprocessingml.document.main+xml"/></Types>')
_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/'
    'relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/officeDocument" Target="word/document.xml"/></Relationships>')


def write_paragraph_bomb(path: Path, megabytes: int) -> Path:
    """A Word package whose deflated word/document.xml is `megabytes` MB of empty paragraphs ("<w:p/>") and one
    paragraph of text: a few hundred kB on disk."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", _CONTENT_TYPES)
        archive.writestr("_rels/.rels", _RELS)
        with archive.open("word/document.xml", "w") as stream:
            stream.write(b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:document xmlns:w="http://'
                         b'schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>')
            chunk = b"<w:p/>" * 100_000
            for _ in range(megabytes * 1_000_000 // len(chunk)):
                stream.write(chunk)
            stream.write(b"<w:p><w:r><w:t>The only words.</w:t></w:r></w:p></w:body></w:document>")
    return path


def _capped() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_CAP, MEMORY_CAP))


def library_capped(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    """`python -m bertdesk library args` under MEMORY_CAP with a private data folder; fails the test on a hang."""
    env = {**os.environ, "BERTDESK_DATA": str(tmp_path / "data"), "BERTDESK_MODELS": str(tmp_path / "models")}
    try:
        return subprocess.run([sys.executable, "-m", "bertdesk", "library", *args], capture_output=True, text=True,
                              env=env, cwd=ROOT, timeout=TIMEOUT, preexec_fn=_capped)
    except subprocess.TimeoutExpired:
        pytest.fail(f"bertdesk library {' '.join(args)} still ran after {TIMEOUT} s")


def _two_good_documents(folder: Path) -> set[str]:
    folder.mkdir(parents=True, exist_ok=True)
    write_text(folder / "plain.txt", sentences("plain", 4))
    write_markdown(folder / "note.md", "A note", [sentences("markdown", 3)])
    return {"plain.txt", "note.md"}


@pytest.mark.parametrize(("megabytes", "reason"), [
    (300, "document.xml unpacks to 300 MB, more than the 50 MB a document may have"),
    (20, "document.xml holds more than 2,000,000 XML elements, more than a document may have"),
], ids=["300-MB-part", "3-million-paragraphs"])
def test_a_word_bomb_fails_with_its_reason_and_the_rest_of_the_folder_imports(
        tmp_path: Path, tiny_bundle: Path, megabytes: int, reason: str) -> None:
    docs = tmp_path / "docs"
    good = _two_good_documents(docs)
    bomb = write_paragraph_bomb(docs / "a-bomb.docx", megabytes)  # sorts first: the queue takes it first
    assert bomb.stat().st_size < 1_000_000
    db = tmp_path / "lib.sqlite3"
    result = library_capped(tmp_path, "add", str(docs), "--db", str(db), "--model", str(tiny_bundle), "--json")
    assert result.returncode == 0, result.stderr[-2000:]
    added = json.loads(result.stdout)
    assert added["failures"] == [{"path": str(bomb), "reason": reason}]
    listed = json.loads(library_capped(tmp_path, "list", "--db", str(db), "--json").stdout)
    assert {Path(d["path"]).name for d in listed["documents"]} == good


def test_a_real_long_document_is_within_the_word_limits(tmp_path: Path) -> None:
    paragraphs = [sentences(f"chapter {n}", 12) for n in range(300)]
    document = extract_document(write_docx(tmp_path / "book.docx", paragraphs, page_breaks_after=range(0, 300, 3)))
    assert len(document.pages) == 101


def test_a_pdf_with_more_pages_than_a_document_may_have_is_refused_unread(tmp_path: Path,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    path = write_pdf(tmp_path / "long.pdf", [sentences(f"page {n}", 2) for n in range(6)])
    monkeypatch.setattr(format_pdf, "MAX_PAGES", 5)
    monkeypatch.setattr(format_pdf, "read_page", lambda *args: pytest.fail("a page was read"))
    with pytest.raises(ExtractionError, match="^6 pages, more than the 5 a document may have$"):
        extract_document(path)


@pytest.mark.parametrize("suffix", [".pdf", ".docx", ".txt", ".md", ".html"])
def test_a_document_with_more_text_than_a_document_may_have_is_refused(tmp_path: Path, suffix: str,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    pages = [sentences(f"page {n}", 8) for n in range(3)]  # some 1,500 characters
    path = tmp_path / f"wordy{suffix}"
    if suffix == ".pdf":
        write_pdf(path, pages)
    elif suffix == ".docx":
        write_docx(path, pages)
    elif suffix == ".html":
        path.write_text("<html><body>" + "".join(f"<p>{p}</p>" for p in pages) + "</body></html>")
    else:
        write_text(path, "\n\n".join(pages))
    monkeypatch.setattr(format_types, "MAX_TEXT_CHARS", 1_000)
    with pytest.raises(ExtractionError, match="^more than 1,000 characters of text, more than a document may have$"):
        extract_document(path)


@pytest.mark.parametrize(("suffix", "kind", "limit"), [(".txt", "text", "20 MB"), (".md", "markdown", "20 MB"),
                                                       (".html", "html", "10 MB")])
def test_a_text_file_over_the_text_size_limit_is_refused_unread(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                               suffix: str, kind: str, limit: str) -> None:
    path = tmp_path / f"huge{suffix}"
    with path.open("wb") as stream:  # sparse: no disk
        stream.truncate(MAX_TEXT_FILE_BYTES[kind] + 1)
    monkeypatch.setattr(Path, "read_bytes", lambda self: pytest.fail(f"{self} was read"))
    with pytest.raises(ExtractionError, match=rf"^file too large \({limit} > {limit} for a {kind} file\)$"):
        extract_document(path)


def test_reading_a_pdf_stops_at_its_deadline(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write_pdf(tmp_path / "slow.pdf", [sentences(f"page {n}", 2) for n in range(3)])
    monkeypatch.setattr(format_pdf, "MAX_READ_SECONDS", -1.0)  # past before the first page: no timing in the test
    with pytest.raises(ExtractionError, match=r"^reading the text took more than -1 s \(stopped at page 1 of 3\)$"):
        extract_document(path)


def _queue_attempts(db: Path) -> dict[str, int]:
    with sqlite3.connect(db) as conn:
        return {Path(p).name: n for p, n in conn.execute("SELECT path, attempts FROM queue")}


def _kill_on(command: list[str], env: dict[str, str], name: str) -> None:
    """Run `command` and kill -9 it as soon as its progress names `name` as the file under way."""
    process = subprocess.Popen(command, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                               text=True, preexec_fn=_capped)
    assert process.stderr is not None
    try:
        for line in process.stderr:
            if line.rstrip().endswith(f": {name}"):
                break
        else:
            pytest.fail(f"{name} never came up")
    finally:
        process.kill()
        process.wait(timeout=TIMEOUT)
        process.stderr.close()


def test_a_document_that_kills_the_importer_goes_last_and_is_given_up_after_a_few_runs(
        tmp_path: Path, tiny_bundle: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    # Long enough to be under way for a while: each run is killed while this one is being read or embedded.
    write_text(docs / "a-long.txt", sentences("long", 20_000))
    write_text(docs / "b-short.txt", sentences("short", 4))
    db = tmp_path / "lib.sqlite3"
    env = {**os.environ, "BERTDESK_DATA": str(tmp_path / "data"), "BERTDESK_MODELS": str(tmp_path / "models")}
    base = [sys.executable, "-m", "bertdesk", "library"]
    _kill_on([*base, "add", str(docs), "--db", str(db), "--model", str(tiny_bundle)], env, "a-long.txt")
    assert _queue_attempts(db) == {"a-long.txt": 1, "b-short.txt": 0}
    for attempts in range(2, MAX_ATTEMPTS + 1):  # b-short.txt goes first now, then a-long.txt kills the run again
        _kill_on([*base, "index", "--db", str(db), "--model", str(tiny_bundle)], env, "a-long.txt")
        assert _queue_attempts(db) == {"a-long.txt": attempts}
    result = library_capped(tmp_path, "index", "--db", str(db), "--model", str(tiny_bundle), "--json")
    assert result.returncode == 0, result.stderr[-2000:]
    assert json.loads(result.stdout)["failures"] == [{
        "path": str(docs / "a-long.txt"),
        "reason": f"the import stopped while reading this file {MAX_ATTEMPTS} times (it crashed or was killed): "
                  "skipped until it is retried"}]
    listed = json.loads(library_capped(tmp_path, "list", "--db", str(db), "--json").stdout)
    assert [Path(d["path"]).name for d in listed["documents"]] == ["b-short.txt"]
    assert _queue_attempts(db) == {}
