"""Writing a tokenization to CSV (one row per token) and JSON (the same dict the CLI prints); no Qt here."""

from __future__ import annotations

import csv
import json
from dataclasses import fields
from pathlib import Path

from bertdesk.core.tokens import Token, Tokenization

#: CSV columns: every field of a token, in declaration order.
CSV_COLUMNS = tuple(f.name for f in fields(Token))


def write_csv(tokenization: Tokenization, path: str | Path) -> None:
    """Write every token (truncated ones included, see the `truncated` column) as one CSV row.

    `segment` and `word` are empty for inserted special tokens; booleans are written as 0/1.
    """
    with open(path, "w", encoding="utf-8", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(CSV_COLUMNS)
        for token in tokenization.tokens:
            writer.writerow(_cell(getattr(token, name)) for name in CSV_COLUMNS)


def write_json(tokenization: Tokenization, path: str | Path, model: str | None = None) -> None:
    """Write `tokenization.to_dict()` (what `bertdesk tokenize --json` prints), the model's name first."""
    data = {"model": model, **tokenization.to_dict()}
    with open(path, "w", encoding="utf-8") as file:
        json.dump(data, file, ensure_ascii=False, indent=1)
        file.write("\n")


def write_tokens(tokenization: Tokenization, path: str | Path, model: str | None = None) -> None:
    """Write CSV or JSON, chosen by the suffix of `path` (.json for JSON, anything else CSV)."""
    if Path(path).suffix.lower() == ".json":
        write_json(tokenization, path, model)
    else:
        write_csv(tokenization, path)


def _cell(value: object) -> object:
    if value is None:
        return ""
    if isinstance(value, bool):
        return int(value)
    return value
