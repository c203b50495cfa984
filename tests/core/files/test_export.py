"""CSV and JSON of matrices, bars, curves and tables: what is written reads back to the same labels and numbers."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from bertdesk.core.errors import BertdeskError, StorageError
from bertdesk.core.files.export import (
    BarsData,
    CurvesData,
    MatrixData,
    TableData,
    to_csv,
    to_json,
    write_atomic,
    write_export,
)

#: Labels a CSV writer must quote or escape: commas, quotes, a newline, non-ASCII, WordPiece and special tokens.
HARD_LABELS = ["a,b", 'say "hi"', "two\nlines", "café", "##ing", "[CLS]", "", "=1+1"]


def strict_json(text: str) -> object:
    """Parse JSON the way a strict reader does: NaN/Infinity literals are an error."""

    def reject(name: str) -> None:
        raise ValueError(f"non-standard JSON constant {name}")

    return json.loads(text, parse_constant=reject)


def read_csv(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text, newline="")))


def as_floats(cells: list) -> np.ndarray:
    return np.array([float(cell) for cell in cells])


def sample_matrix(dtype: type) -> MatrixData:
    rng = np.random.default_rng(7)
    values = rng.uniform(-1, 1, size=(len(HARD_LABELS), 5)).astype(dtype)
    values[0, 1] = np.nan
    values[2, 3] = -np.inf
    values[3, 0] = np.inf
    return MatrixData(values, HARD_LABELS, ["x", "y", "z,", '"w"', "ü"], title="cosines")


def assert_same_numbers(read: np.ndarray, original: np.ndarray) -> None:
    """Equal in `original`'s dtype, bit for bit, with NaN where it has NaN."""
    np.testing.assert_array_equal(read.astype(original.dtype), original)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_matrix_csv_reads_back_exactly(dtype: type) -> None:
    data = sample_matrix(dtype)
    rows = read_csv(to_csv(data))
    assert rows[0] == ["", *data.col_labels]
    assert [row[0] for row in rows[1:]] == list(HARD_LABELS)
    assert_same_numbers(np.array([as_floats(row[1:]) for row in rows[1:]]), data.values)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_matrix_json_is_strict_and_reads_back_exactly(dtype: type) -> None:
    data = sample_matrix(dtype)
    parsed = strict_json(to_json(data))
    assert parsed["kind"] == "matrix" and parsed["title"] == "cosines"
    assert parsed["rows"] == list(HARD_LABELS) and parsed["columns"] == list(data.col_labels)
    assert parsed["values"][2][3] == "-inf" and parsed["values"][0][1] == "nan"
    assert_same_numbers(np.array([as_floats(row) for row in parsed["values"]]), data.values)


def test_float32_is_written_short() -> None:
    text = to_csv(MatrixData(np.array([[0.3, 0.1]], dtype=np.float32), ["r"], ["a", "b"]))
    assert text.splitlines()[1] == "r,0.3,0.1"


def test_bars_round_trip() -> None:
    data = BarsData(["positive", "neg,ative"], np.array([0.75, 0.25], dtype=np.float32), title="p")
    assert read_csv(to_csv(data)) == [["label", "value"], ["positive", "0.75"], ["neg,ative", "0.25"]]
    assert strict_json(to_json(data))["bars"] == [
        {"label": "positive", "value": 0.75},
        {"label": "neg,ative", "value": 0.25},
    ]


def test_curves_round_trip() -> None:
    tokens = ["[CLS]", "paris", "is", "##n't", "[SEP]"]
    start = np.array([0.0, 0.9, 0.05, 0.05, np.nan])
    data = CurvesData(tokens, {"start": start, "end": start[::-1]}, boundaries=[3], span=(1, 2))
    rows = read_csv(to_csv(data))
    assert rows[0] == ["index", "token", "start", "end"]
    assert [row[1] for row in rows[1:]] == tokens
    assert_same_numbers(as_floats([row[2] for row in rows[1:]]), start)
    parsed = strict_json(to_json(data))
    assert parsed["tokens"] == tokens and parsed["boundaries"] == [3] and parsed["span"] == [1, 2]
    assert_same_numbers(as_floats(parsed["series"]["end"]), start[::-1])


def test_table_cells() -> None:
    data = TableData(["piece", "id", "special", "word"], [["[CLS]", 101, True, None], ["ok", 7, False, 0.5]])
    assert read_csv(to_csv(data))[1:] == [["[CLS]", "101", "1", ""], ["ok", "7", "0", "0.5"]]
    assert strict_json(to_json(data))["rows"] == [["[CLS]", 101, True, None], ["ok", 7, False, 0.5]]
    assert strict_json(to_json(TableData(["v"], [[float("-inf")]])))["rows"] == [["-inf"]]


@pytest.mark.parametrize(
    "make",
    [
        lambda: MatrixData(np.zeros((2, 3)), ["a", "b"], ["x", "y"]),
        lambda: MatrixData(np.zeros(3), ["a"], ["x", "y", "z"]),
        lambda: MatrixData(np.array([["a"]]), ["a"], ["x"]),
        lambda: BarsData(["a"], [0.1, 0.2]),
        lambda: CurvesData(["a", "b"], {"start": [0.1]}),
        lambda: CurvesData(["a", "b"], {"start": [0.1, 0.2]}, span=(1, 2)),
        lambda: TableData(["a", "b"], [[1]]),
    ],
)
def test_mismatched_shapes_are_refused(make: object) -> None:
    with pytest.raises(ValueError):
        make()


def test_empty_data_writes_headers_only() -> None:
    assert read_csv(to_csv(MatrixData(np.zeros((0, 0)), [], []))) == [[""]]
    assert strict_json(to_json(BarsData([], [])))["bars"] == []


def test_write_export_picks_the_format_by_suffix(tmp_path: Path) -> None:
    data = sample_matrix(np.float32)
    assert write_export(data, tmp_path / "m.JSON").read_text(encoding="utf-8") == to_json(data)
    assert (write_export(data, tmp_path / "m.csv")).read_bytes() == to_csv(data).encode("utf-8")
    with pytest.raises(BertdeskError, match=r"m\.xlsx.*\.csv or \.json"):
        write_export(data, tmp_path / "m.xlsx")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.JSON", "m.csv"]


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temporary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "m.csv"
    target.write_text("the user's old file")

    def failing_replace(src: str, dst: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", failing_replace)
    with pytest.raises(StorageError, match="No space left on device"):
        write_export(sample_matrix(np.float32), target)
    assert target.read_text() == "the user's old file"
    assert [p.name for p in tmp_path.iterdir()] == ["m.csv"]


def test_an_unwritable_folder_is_a_storage_error(tmp_path: Path) -> None:
    with pytest.raises(StorageError, match="Cannot write"):
        write_atomic(tmp_path / "missing" / "m.csv", b"x")


def test_export_imports_no_qt() -> None:
    code = (
        "import sys, bertdesk.core.files.export; "
        "print([m for m in sys.modules if m.split('.')[0] in ('PySide6', 'pyqtgraph', 'shiboken6')])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_a_new_file_gets_the_umask_permissions_and_a_replaced_file_keeps_its_own(tmp_path: Path) -> None:
    old_umask = os.umask(0o022)
    try:
        write_atomic(tmp_path / "new.csv", b"x")
        assert (tmp_path / "new.csv").stat().st_mode & 0o777 == 0o644
        kept = tmp_path / "kept.csv"
        kept.write_bytes(b"old")
        kept.chmod(0o600)
        write_atomic(kept, b"new")
        assert kept.stat().st_mode & 0o777 == 0o600 and kept.read_bytes() == b"new"
    finally:
        os.umask(old_umask)
