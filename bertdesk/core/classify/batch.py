"""Batches of any size: rows streamed from a TXT (one text per line) or CSV/TSV file, classified in bounded chunks
cut into length buckets under a token budget (`core.batching`, as embed does), results yielded in input order.
Memory stays bounded by the chunk, whatever the file's size."""

from __future__ import annotations

import csv
import io
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from tokenizers import Encoding

from bertdesk.core.bundles.bundle import Bundle
from bertdesk.core.classify.heads import HeadClassifier
from bertdesk.core.classify.scoring import Classification, Scorer, classifications, encode_items, run_buckets
from bertdesk.core.classify.zero_shot import DEFAULT_TEMPERATURE, DEFAULT_TEMPLATE, ZeroShotClassifier, ZeroShotLabel
from bertdesk.core.engine.batching import DEFAULT_MAX_ROWS, DEFAULT_TOKEN_BUDGET
from bertdesk.core.errors import BertdeskError, StorageError
from bertdesk.core.files.text import detect_encoding as text_detect_encoding
from bertdesk.core.jobs import JobHandle, ensure_handle

CHUNK_ROWS = 256  # rows read, tokenized and sorted by length together: the first chunk, so results show soon
#: Later chunks double up to this: sorting more rows by length pads less (SST-2 dev in chunks of 256 rows pads 5%
#: more tokens than in one chunk).
MAX_CHUNK_ROWS = 1024
BATCH_ROWS = DEFAULT_MAX_ROWS
BATCH_TOKENS = DEFAULT_TOKEN_BUDGET  # padded tokens per model run: long rows go in smaller batches
TEXT_COLUMNS = ("text", "sentence", "sentence1", "content", "review", "text_a", "premise", "question", "document")
PAIR_COLUMNS = ("pair", "text_pair", "text_b", "sentence2", "hypothesis", "context")
_SAMPLE_BYTES = 65536


@dataclass(frozen=True)
class TextRow:
    """One input row: its number in the file (the line for TXT, the data row for CSV, from 1), text and pair."""

    number: int
    text: str
    pair: str | None = None


def detect_encoding(path: Path) -> str:
    """The codec of a text file, judged from its first 64 KB (`text_files.detect_encoding`'s policy)."""
    try:
        with path.open("rb") as f:
            sample = f.read(_SAMPLE_BYTES)
    except OSError as exc:
        raise StorageError(f"cannot read {path}: {exc.strerror or exc}") from exc
    return text_detect_encoding(sample, path.name, complete=len(sample) < _SAMPLE_BYTES)[0]


def _open_text(path: Path) -> io.TextIOWrapper:
    encoding = detect_encoding(path)
    try:
        return path.open(encoding=encoding, errors="replace", newline="")
    except OSError as exc:
        raise StorageError(f"cannot read {path}: {exc.strerror or exc}") from exc


def scorer_for(
    bundle: Bundle,
    labels: list[str | ZeroShotLabel | tuple[str, str]] | None = None,
    *,
    template: str = DEFAULT_TEMPLATE,
    temperature: float = DEFAULT_TEMPERATURE,
    handle: JobHandle | None = None,
) -> Scorer:
    """The bundle's own classifier head, or, given labels, zero-shot classification against them."""
    if labels:
        return ZeroShotClassifier(bundle, labels, template=template, temperature=temperature, handle=handle)
    return HeadClassifier(bundle)


def is_table(path: Path) -> bool:
    """A CSV/TSV file (by extension) rather than plain text, one text per line."""
    return path.suffix.lower() in (".csv", ".tsv")


def _delimiter(path: Path, sample: str) -> str:
    if path.suffix.lower() == ".tsv":
        return "\t"
    try:
        return csv.Sniffer().sniff(sample, delimiters=",;\t|").delimiter
    except csv.Error:
        return ","


def _numbered(wanted: str | int | None, header: list[str]) -> str | int | None:
    """A column given as digits on the command line ("2") is a 0-based index unless a header is named so."""
    named = isinstance(wanted, str) and wanted.strip().lower() in [h.strip().lower() for h in header]
    return int(wanted) if isinstance(wanted, str) and wanted.strip().isdigit() and not named else wanted


def _column(header: list[str], wanted: str | int | None, known: tuple[str, ...], what: str) -> int | None:
    lowered = [h.strip().lower() for h in header]
    if isinstance(wanted, int):
        if not 0 <= wanted < len(header):
            raise BertdeskError(f"there is no column {wanted} for the {what} (the file has {len(header)} columns)")
        return wanted
    if isinstance(wanted, str):
        if wanted.strip().lower() not in lowered:
            raise BertdeskError(f"there is no column {wanted!r} for the {what} (columns: {', '.join(header)})")
        return lowered.index(wanted.strip().lower())
    return next((lowered.index(name) for name in known if name in lowered), None)


def read_rows(
    path: str | Path, *, text_column: str | int | None = None, pair_column: str | int | None = None
) -> Iterator[TextRow]:
    """Stream the rows of a TXT file (every non-blank line is a text) or a CSV/TSV file.

    A CSV's text column is `text_column` (a header name or a 0-based index) or the first header named like text
    ("text", "sentence", "content", ...); its pair column is `pair_column` or one named "text_pair", "sentence2",
    .... A CSV of one column without such a header is read as one text per row. Rows with blank text are skipped.
    """
    path = Path(path)
    if not path.is_file():
        raise StorageError(f"{path} is not a file")
    if not is_table(path):
        with _open_text(path) as f:
            for number, line in enumerate(f, 1):
                text = line.rstrip("\r\n")
                if text.strip():
                    yield TextRow(number, text)
        return
    with _open_text(path) as f:
        sample = f.read(_SAMPLE_BYTES)
        f.seek(0)
        reader = csv.reader(f, delimiter=_delimiter(path, sample))
        try:
            header = next(reader, None)
            if header is None:
                return
            text_column, pair_column = _numbered(text_column, header), _numbered(pair_column, header)
            text_index = _column(header, text_column, TEXT_COLUMNS, "text")
            pair_index = _column(header, pair_column, PAIR_COLUMNS, "pair text")
            first: list[list[str]] = []
            if text_index is None:
                if len(header) != 1:
                    raise BertdeskError(
                        f"{path.name}: say which column holds the text (columns: {', '.join(header)})"
                    )
                text_index, first = 0, [header]
            elif isinstance(text_column, int) and not any(h.strip().lower() in TEXT_COLUMNS for h in header):
                first = [header]  # an index into a file without a header row: the first row is data
            for number, record in enumerate(_chain(first, reader), 1):
                text = record[text_index] if text_index < len(record) else ""
                pair = record[pair_index] if pair_index is not None and pair_index < len(record) else None
                if text.strip():
                    yield TextRow(number, text, pair)
        except csv.Error as exc:
            raise BertdeskError(f"{path.name}, line {reader.line_num}: not valid CSV ({exc})") from exc


def rows_from_text(text: str) -> Iterator[TextRow]:
    """The rows of pasted text, one per line (numbered from 1), blank lines skipped, read lazily."""
    for number, line in enumerate(io.StringIO(text, newline=None), 1):
        line = line.rstrip("\n")
        if line.strip():
            yield TextRow(number, line)


def count_text_rows(text: str) -> int:
    """How many rows `rows_from_text` yields."""
    return sum(1 for _ in rows_from_text(text))


def _chain(first: list[list[str]], rest: Iterable[list[str]]) -> Iterator[list[str]]:
    yield from first
    yield from rest


def count_rows(path: str | Path, **columns: str | int | None) -> int:
    """How many rows `read_rows` will yield (one streaming pass), for progress."""
    return sum(1 for _ in read_rows(path, **columns))


def classify_stream(
    scorer: Scorer,
    rows: Iterable[TextRow | str],
    *,
    total: int | None = None,
    chunk_rows: int = CHUNK_ROWS,
    batch_rows: int = BATCH_ROWS,
    batch_tokens: int = BATCH_TOKENS,
    handle: JobHandle | None = None,
) -> Iterator[Classification]:
    """Classify rows of any number, yielding each `Classification` (its `index` = the row's number) in input order.

    Rows are read in chunks, sorted by token count into batches, run, and put back in order, so memory is bounded
    by the chunks: the first chunk has `chunk_rows` rows, each next one twice the last up to `MAX_CHUNK_ROWS` (or
    `chunk_rows` if larger). The lanes run on into the next chunk while one's last batches finish. `total` (the
    number of rows, if known) makes progress a fraction; cancelling `handle` raises `JobCancelled` between batches
    and stops the runs under way.
    """
    handle = ensure_handle(handle)
    waiting: deque[_Chunk] = deque()  # read and queued for the lanes, oldest first

    def encoded_chunks() -> Iterator[list[Encoding]]:
        for rows_of_chunk in _chunks(rows, chunk_rows):
            handle.check()
            chunk = _Chunk([(row.number, row.text, row.pair) for row in rows_of_chunk])
            waiting.append(chunk)
            yield encode_items(scorer, chunk.items)

    done = 0
    for _, batch, chosen, (raw, probabilities) in run_buckets(
        scorer.bundle, encoded_chunks(), lambda b: scorer.score(b, handle), max_rows=batch_rows,
        token_budget=batch_tokens, handle=handle,
    ):
        chunk = waiting[0]  # buckets come chunk after chunk: this one is the oldest chunk's
        chunk.fill(batch, classifications(scorer, [chunk.items[i] for i in batch], chosen, raw, probabilities))
        if chunk.left == 0:
            waiting.popleft()
            yield from chunk.results  # type: ignore[misc]
            done += len(chunk.items)
            _progress(handle, done, total)


def _chunks(rows: Iterable[TextRow | str], first: int) -> Iterator[list[TextRow]]:
    """Rows in chunks of `first` rows, each next chunk twice the last up to `MAX_CHUNK_ROWS` (or `first`)."""
    chunk: list[TextRow] = []
    size = first
    for number, row in enumerate(rows, 1):
        chunk.append(row if isinstance(row, TextRow) else TextRow(number, row))
        if len(chunk) >= size:
            yield chunk
            chunk = []
            size = min(2 * size, max(first, MAX_CHUNK_ROWS))
    if chunk:
        yield chunk


class _Chunk:
    """One chunk's (number, text, pair) items and their results as its buckets come back."""

    def __init__(self, items: list[tuple[int, str, str | None]]) -> None:
        self.items = items
        self.results: list[Classification | None] = [None] * len(items)
        self.left = len(items)

    def fill(self, positions: list[int], results: list[Classification]) -> None:
        for i, result in zip(positions, results, strict=True):
            self.results[i] = result
        self.left -= len(positions)


def _progress(handle: JobHandle, done: int, total: int | None) -> None:
    handle.progress(done / total if total else 0.0, f"{done} of {total} rows" if total else f"{done} rows")


def classify_file(
    scorer: Scorer,
    path: str | Path,
    *,
    text_column: str | int | None = None,
    pair_column: str | int | None = None,
    handle: JobHandle | None = None,
) -> Iterator[Classification]:
    """Classify every row of a TXT or CSV/TSV file (see `read_rows`), streamed in order with progress."""
    columns = {"text_column": text_column, "pair_column": pair_column}
    total = count_rows(path, **columns)
    yield from classify_stream(scorer, read_rows(path, **columns), total=total, handle=handle)
