"""What a plot or table shows, as CSV and JSON: a labelled matrix, bars, per-token curves, a table. No Qt here.

The window's Export action and the CLI write the same text. Numbers keep their precision: a float32 value is
written as the shortest decimal that reads back to the same float32. JSON has no NaN or infinity, so non-finite
numbers are written as the strings "nan", "inf" and "-inf" in both formats (Python's `float()` reads them back).
Files are written atomically: a reader sees the old file or the new one, never half of one.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import secrets
import stat
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bertdesk.core.errors import BertdeskError, StorageError

#: The text formats and the file suffix that picks each.
TEXT_FORMATS = ("csv", "json")

Cell = str | int | float | bool | None


@dataclass(frozen=True)
class MatrixData:
    """A 2-D matrix with a label per row and per column (cosines, probabilities, attention scores)."""

    values: np.ndarray
    row_labels: tuple[str, ...]
    col_labels: tuple[str, ...]
    title: str = ""

    def __post_init__(self) -> None:
        values = _float_array(self.values)
        if values.ndim != 2:
            raise ValueError(f"a matrix must be 2-D, got shape {values.shape}")
        object.__setattr__(self, "values", values)
        object.__setattr__(self, "row_labels", tuple(str(label) for label in self.row_labels))
        object.__setattr__(self, "col_labels", tuple(str(label) for label in self.col_labels))
        if values.shape != (len(self.row_labels), len(self.col_labels)):
            raise ValueError(
                f"{values.shape[0]}×{values.shape[1]} matrix with {len(self.row_labels)} row and "
                f"{len(self.col_labels)} column labels"
            )

    def to_dict(self) -> dict:
        """`{"kind": "matrix", "title", "rows", "columns", "values": [[...], ...]}`."""
        return {
            "kind": "matrix",
            "title": self.title,
            "rows": list(self.row_labels),
            "columns": list(self.col_labels),
            "values": [_json_numbers(row) for row in self.values],
        }

    def to_rows(self) -> list[list[Cell]]:
        """CSV rows: an empty corner cell and the column labels, then each row's label and values."""
        return [["", *self.col_labels]] + [
            [label, *_csv_numbers(row)] for label, row in zip(self.row_labels, self.values, strict=True)
        ]


@dataclass(frozen=True)
class BarsData:
    """Labelled values (class probabilities, scores), in the order they are shown."""

    labels: tuple[str, ...]
    values: np.ndarray
    title: str = ""

    def __post_init__(self) -> None:
        values = _float_array(self.values).reshape(-1)
        object.__setattr__(self, "values", values)
        object.__setattr__(self, "labels", tuple(str(label) for label in self.labels))
        if len(self.labels) != len(values):
            raise ValueError(f"{len(self.labels)} labels for {len(values)} values")

    def to_dict(self) -> dict:
        """`{"kind": "bars", "title", "bars": [{"label", "value"}, ...]}`."""
        values = _json_numbers(self.values)
        return {
            "kind": "bars",
            "title": self.title,
            "bars": [{"label": label, "value": value} for label, value in zip(self.labels, values, strict=True)],
        }

    def to_rows(self) -> list[list[Cell]]:
        """CSV rows: `label,value`."""
        values = _csv_numbers(self.values)
        return [["label", "value"]] + [[label, value] for label, value in zip(self.labels, values, strict=True)]


@dataclass(frozen=True)
class CurvesData:
    """Named series over the same tokens (e.g. answer start/end probabilities), with window boundaries (each a
    token index a window starts at) and an optional highlighted span of token indices (first, last)."""

    x_labels: tuple[str, ...]
    series: Mapping[str, np.ndarray]
    boundaries: tuple[int, ...] = ()
    span: tuple[int, int] | None = None
    title: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "x_labels", tuple(str(label) for label in self.x_labels))
        series = {str(name): _float_array(values).reshape(-1) for name, values in self.series.items()}
        for name, values in series.items():
            if len(values) != len(self.x_labels):
                raise ValueError(f"series {name!r} has {len(values)} values for {len(self.x_labels)} tokens")
        object.__setattr__(self, "series", series)
        object.__setattr__(self, "boundaries", tuple(int(b) for b in self.boundaries))
        if self.span is not None:
            first, last = (int(i) for i in self.span)
            if not 0 <= first <= last < len(self.x_labels):
                raise ValueError(f"span {self.span} outside tokens 0..{len(self.x_labels) - 1}")
            object.__setattr__(self, "span", (first, last))

    def to_dict(self) -> dict:
        """`{"kind": "curves", "title", "tokens", "series": {name: [...]}, "boundaries", "span"}`."""
        return {
            "kind": "curves",
            "title": self.title,
            "tokens": list(self.x_labels),
            "series": {name: _json_numbers(values) for name, values in self.series.items()},
            "boundaries": list(self.boundaries),
            "span": list(self.span) if self.span is not None else None,
        }

    def to_rows(self) -> list[list[Cell]]:
        """CSV rows: `index,token,<series...>`, one per token (boundaries and span are in the JSON only)."""
        columns = [_csv_numbers(values) for values in self.series.values()]
        return [["index", "token", *self.series]] + [
            [i, label, *(column[i] for column in columns)] for i, label in enumerate(self.x_labels)
        ]


@dataclass(frozen=True)
class TableData:
    """Rows of cells under named columns (a token table, batch results)."""

    columns: tuple[str, ...]
    rows: tuple[tuple[Cell, ...], ...] = ()
    title: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "columns", tuple(str(c) for c in self.columns))
        rows = tuple(tuple(row) for row in self.rows)
        for i, row in enumerate(rows):
            if len(row) != len(self.columns):
                raise ValueError(f"row {i} has {len(row)} cells for {len(self.columns)} columns")
        object.__setattr__(self, "rows", rows)

    def to_dict(self) -> dict:
        """`{"kind": "table", "title", "columns", "rows": [[...], ...]}`; non-finite floats as strings."""
        return {
            "kind": "table",
            "title": self.title,
            "columns": list(self.columns),
            "rows": [[_json_cell(cell) for cell in row] for row in self.rows],
        }

    def to_rows(self) -> list[list[Cell]]:
        """CSV rows: the column names, then every row; None is an empty cell, booleans are 0/1."""
        return [list(self.columns)] + [[_csv_cell(cell) for cell in row] for row in self.rows]


ExportData = MatrixData | BarsData | CurvesData | TableData


def to_csv(data: ExportData) -> str:
    """The CSV text of `data` (UTF-8 friendly, "\\r\\n" line ends as RFC 4180 says)."""
    buffer = io.StringIO(newline="")
    csv.writer(buffer).writerows(data.to_rows())
    return buffer.getvalue()


def to_json(data: ExportData) -> str:
    """The JSON text of `data.to_dict()`, indented, non-ASCII kept, ending with a newline."""
    return json.dumps(data.to_dict(), ensure_ascii=False, indent=1, allow_nan=False) + "\n"


def export_format(path: str | Path) -> str:
    """The text format a file name asks for ("csv" or "json"); a BertdeskError for any other suffix."""
    suffix = Path(path).suffix.lower().lstrip(".")
    if suffix not in TEXT_FORMATS:
        raise BertdeskError(f"Cannot export to {Path(path).name}: the file name must end in .csv or .json.")
    return suffix


def write_export(data: ExportData, path: str | Path) -> Path:
    """Write `data` as CSV or JSON, chosen by the suffix of `path`, atomically; returns the path."""
    text = to_json(data) if export_format(path) == "json" else to_csv(data)
    write_atomic(path, text.encode("utf-8"))
    return Path(path)


def write_atomic(path: str | Path, payload: bytes) -> None:
    """Write `payload` to `path` through a temporary file beside it and a rename; a StorageError if it cannot.

    A new file gets the usual permissions (the umask applies); a replaced file keeps its own.
    """
    path = Path(path)
    tmp = path.with_name(f".{path.name}-{secrets.token_hex(4)}.tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    except OSError as exc:
        raise StorageError(f"Cannot write {path}: {exc.strerror or exc}.") from exc
    try:
        with os.fdopen(fd, "wb") as file:
            file.write(payload)
            file.flush()
            os.fsync(file.fileno())
        with contextlib.suppress(FileNotFoundError):
            os.chmod(tmp, stat.S_IMODE(os.stat(path).st_mode))
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise StorageError(f"Cannot write {path}: {exc.strerror or exc}.") from exc
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _float_array(values: object) -> np.ndarray:
    """`values` as float32 when they are float32 (so they print short), else float64."""
    array = np.asarray(values)
    if array.dtype == np.float32:
        return array
    if array.dtype.kind not in "biuf":
        raise ValueError(f"expected real numbers, got {array.dtype}")
    return array.astype(np.float64)


def _csv_numbers(values: np.ndarray) -> list[str]:
    """Each number as the shortest text that reads back to the same value of its dtype; "nan", "inf", "-inf"."""
    return values.astype(str).tolist()


def _json_numbers(values: np.ndarray) -> list[float | str]:
    return [float(text) if text not in _NON_FINITE else text for text in _csv_numbers(values)]


_NON_FINITE = frozenset({"nan", "inf", "-inf"})


def _json_cell(cell: Cell) -> Cell:
    if isinstance(cell, float) and not np.isfinite(cell):
        return str(cell)
    if isinstance(cell, np.generic):
        return _json_cell(cell.item())
    return cell


def _csv_cell(cell: Cell) -> Cell:
    if cell is None:
        return ""
    if isinstance(cell, (bool, np.bool_)):
        return int(cell)
    return cell
