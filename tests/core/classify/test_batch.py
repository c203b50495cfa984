"""Streaming batches over TXT and CSV files: results in input order, bounded chunks, progress and cancel."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest

from bertdesk.core.bundles.bundle import Bundle
from bertdesk.core.classify.batch import (
    TextRow,
    classify_file,
    classify_stream,
    count_rows,
    read_rows,
    scorer_for,
)
from bertdesk.core.classify.heads import HeadClassifier, classify
from bertdesk.core.errors import BertdeskError, JobCancelled
from bertdesk.core.jobs import JobHandle

WORDS = "the a cat dog sat on mat bank river money good bad movie great terrible paris france".split()


def sentences(count: int) -> list[str]:
    """Deterministic sentences of 1 to 40 words, so chunks hold rows of very different lengths."""
    rng = np.random.default_rng(7)
    return [" ".join(rng.choice(WORDS, size=int(rng.integers(1, 41)))) for _ in range(count)]


def test_a_5000_line_file_comes_back_in_order(tiny_classifier_bundle: Path, tmp_path: Path) -> None:
    texts = sentences(5000)
    path = tmp_path / "rows.txt"
    path.write_text("\n".join(texts) + "\n", encoding="utf-8")
    bundle = Bundle(tiny_classifier_bundle)
    progress: list[float] = []
    results = list(classify_file(HeadClassifier(bundle), path, handle=JobHandle(lambda f, _: progress.append(f))))
    assert [r.index for r in results] == list(range(1, 5001))  # line numbers, in order
    assert [r.text for r in results] == texts
    assert progress[-1] == 1.0 and progress == sorted(progress)
    # Sorting by length and batching gives each row the same probabilities as classifying it with its neighbours.
    direct = classify(bundle, texts[:300]).rows
    for ours, reference in zip(results[:300], direct, strict=True):
        assert ours.top.label == reference.top.label
        assert abs(ours.top.probability - reference.top.probability) < 1e-5


def test_cancel_mid_way_stops_the_stream(tiny_classifier_bundle: Path) -> None:
    handle = JobHandle()
    consumed = 0
    stream = classify_stream(HeadClassifier(Bundle(tiny_classifier_bundle)), itertools.cycle(sentences(100)),
                             handle=handle)
    with pytest.raises(JobCancelled):
        for _ in stream:
            consumed += 1
            if consumed == 600:
                handle.cancel()
    assert consumed == 768  # the rows of the chunk already classified arrive; nothing after it is classified


def test_rows_are_read_lazily(tmp_path: Path) -> None:
    path = tmp_path / "big.txt"
    with path.open("w", encoding="utf-8") as f:
        f.writelines(f"line {i}\n" for i in range(100_000))
    rows = read_rows(path)
    assert next(rows) == TextRow(1, "line 0")
    assert count_rows(path) == 100_000


def test_csv_columns(tmp_path: Path) -> None:
    path = tmp_path / "rows.csv"
    path.write_text('id,Sentence,sentence2\n1,"a cat, on a mat",who?\n2,,skipped\n3,"line one\nline two",where?\n',
                    encoding="utf-8")
    assert list(read_rows(path)) == [TextRow(1, "a cat, on a mat", "who?"), TextRow(3, "line one\nline two", "where?")]
    assert [r.text for r in read_rows(path, text_column=0)] == ["1", "2", "3"]
    assert [r.text for r in read_rows(path, text_column="0")] == ["1", "2", "3"]  # as the CLI passes it
    assert [r.pair for r in read_rows(path, pair_column="1")] == ["a cat, on a mat", "line one\nline two"]
    with pytest.raises(BertdeskError, match="no column 'body'"):
        list(read_rows(path, text_column="body"))
    unnamed = tmp_path / "unnamed.csv"
    unnamed.write_text("a,b\nc,d\n", encoding="utf-8")
    with pytest.raises(BertdeskError, match="say which column"):
        list(read_rows(unnamed))
    one_column = tmp_path / "one.csv"
    one_column.write_text("first text\nsecond text\n", encoding="utf-8")
    assert [r.text for r in read_rows(one_column)] == ["first text", "second text"]


def test_tsv_and_other_encodings(tmp_path: Path) -> None:
    tsv = tmp_path / "rows.tsv"
    tsv.write_text("label\tcontent\n1\tgood movie\n0\tbad movie\n", encoding="utf-16")
    assert [r.text for r in read_rows(tsv)] == ["good movie", "bad movie"]
    latin = tmp_path / "latin.txt"
    latin.write_bytes("café crème, déjà vu, à la carte, naïve façade\n".encode("cp1252") * 50)
    assert next(read_rows(latin)).text == "café crème, déjà vu, à la carte, naïve façade"
    binary = tmp_path / "data.txt"
    binary.write_bytes(b"\x00\x01\x02" * 100)
    with pytest.raises(BertdeskError, match="binary"):
        list(read_rows(binary))


def test_zero_shot_streams_too(default_bundle_dir: Path) -> None:
    scorer = scorer_for(Bundle(default_bundle_dir), ["sports", "cooking"])
    rows = list(classify_stream(scorer, ["The striker scored a goal.", "Fry the onions in butter."]))
    assert [r.top.label for r in rows] == ["sports", "cooking"] and rows[0].method == "zero-shot"
    assert set(rows[0].to_dict()) >= {"label", "probability", "labels", "cosines"}
