"""Loading a bundle's `tokenizer.json` with the `tokenizers` library, padding and truncation under our control."""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tokenizers import Encoding, Tokenizer

from bertdesk.core.bundles.config import MAX_TOKENIZER_BYTES, read_small_file
from bertdesk.core.errors import BertdeskError, BundleError
from bertdesk.core.files.streams import stdout_descriptor_to_stderr

# bertdesk's worker threads and onnxruntime own the cores. Left parallel, `tokenizers` starts a global rayon pool on
# first use whose threads never end (and, on Linux, carry the name of whichever worker thread started them).
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

_stdout_lock = threading.Lock()


@contextmanager
def stdout_to_stderr() -> Iterator[None]:
    """Point file descriptor 1 at standard error for the duration, at the OS level.

    The Rust side of `tokenizers` prints warnings to stdout (a vocabulary with gaps in its ids warns on every
    serialisation), which would corrupt a `--json` result; Python's `sys.stdout` cannot intercept native writes.
    """
    with _stdout_lock:
        try:
            sys.stdout.flush()
        except (AttributeError, OSError, ValueError):  # no stdout at all: nothing to protect
            yield
            return
        with stdout_descriptor_to_stderr():
            yield


def load_tokenizer(path: str | Path, error: type[BertdeskError] = BundleError) -> Tokenizer:
    """Load a `tokenizer.json` (a regular file inside its folder, of at most `MAX_TOKENIZER_BYTES`) with padding
    and truncation switched off; `error` says why it cannot be loaded.

    Public tokenizer.json files often carry padding/truncation defaults from their packaging (a fixed length of
    128, say); every caller decides its own instead.
    """
    path = Path(path)
    data = read_small_file(path, path.parent, MAX_TOKENIZER_BYTES, error)
    try:
        with stdout_to_stderr():
            tokenizer = Tokenizer.from_buffer(data)
    except Exception as exc:  # the Rust side raises a bare Exception for every parse error
        raise error(f"{path} is not a readable tokenizer.json: {exc}") from exc
    tokenizer.no_padding()
    tokenizer.no_truncation()
    return tokenizer


def copy_tokenizer(tokenizer: Tokenizer) -> Tokenizer:
    """An independent copy of `tokenizer` (to change its truncation, say), its warnings kept off stdout."""
    with stdout_to_stderr():
        return Tokenizer.from_str(tokenizer.to_str())


def encode_one(
    tokenizer: Tokenizer, text: str, pair: str | None = None, *, add_special_tokens: bool = True
) -> Encoding:
    """Encode one text (or pair) like `tokenizer.encode`, but without holding the GIL.

    `Tokenizer.encode` keeps Python's global lock for the whole call (0.2 s for 60,000 words), freezing the window
    while a worker tokenizes; `encode_batch` releases it. Text that is not valid Unicode (lone surrogates, how
    undecodable bytes arrive from argv or a file read with "surrogateescape") raises `BertdeskError`.
    """
    item = (text, pair) if pair is not None else text
    try:
        return tokenizer.encode_batch([item], add_special_tokens=add_special_tokens)[0]
    except TypeError:
        for part in (text, pair):
            if isinstance(part, str) and not is_unicode(part):
                raise BertdeskError(
                    "the text holds characters that are not valid Unicode (unpaired surrogates, often bytes that "
                    "were not UTF-8); convert it to UTF-8 first"
                ) from None
        raise


def is_unicode(text: str) -> bool:
    """Whether `text` is valid Unicode: no unpaired surrogates, which is how undecodable bytes arrive from argv or a
    file read with "surrogateescape", and how JSON's "\\ud800" escapes decode."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
