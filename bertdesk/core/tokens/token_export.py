"""A tokenization as a table (one row per token) for CSV, and as the JSON the CLI prints; written atomically."""

from __future__ import annotations

import json
from dataclasses import fields
from pathlib import Path

from bertdesk.core.files.export import TableData, to_csv, write_atomic
from bertdesk.core.tokens.tokenization import Token, Tokenization

#: CSV columns: every field of a token, in declaration order.
CSV_COLUMNS = tuple(f.name for f in fields(Token))


def token_table(tokenization: Tokenization, title: str = "") -> TableData:
    """Every token (truncated ones included, see the `truncated` column) as one row of `CSV_COLUMNS`.

    `segment` and `word` are None (an empty CSV cell) for inserted special tokens.
    """
    rows = tuple(tuple(getattr(token, name) for name in CSV_COLUMNS) for token in tokenization.tokens)
    return TableData(columns=CSV_COLUMNS, rows=rows, title=title)


def write_csv(tokenization: Tokenization, path: str | Path) -> None:
    """Write `token_table()` as CSV; booleans are written as 0/1."""
    write_atomic(path, to_csv(token_table(tokenization)).encode("utf-8"))


def write_json(tokenization: Tokenization, path: str | Path, model: str | None = None) -> None:
    """Write `tokenization.to_dict()` (what `bertdesk tokenize --json` prints), the model's name first."""
    data = {"model": model, **tokenization.to_dict()}
    write_atomic(path, (json.dumps(data, ensure_ascii=False, indent=1) + "\n").encode("utf-8"))


def write_tokens(tokenization: Tokenization, path: str | Path, model: str | None = None) -> None:
    """Write CSV or JSON, chosen by the suffix of `path` (.json for JSON, anything else CSV)."""
    if Path(path).suffix.lower() == ".json":
        write_json(tokenization, path, model)
    else:
        write_csv(tokenization, path)
