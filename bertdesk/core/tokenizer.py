"""Loading a bundle's `tokenizer.json` with the `tokenizers` library, padding and truncation under our control."""

from __future__ import annotations

import os
from pathlib import Path

from tokenizers import Encoding, Tokenizer

from bertdesk.core.errors import BundleError

# bertdesk's worker threads and onnxruntime own the cores. Left parallel, `tokenizers` starts a global rayon pool on
# first use whose threads never end (and, on Linux, carry the name of whichever worker thread started them).
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def load_tokenizer(path: str | Path) -> Tokenizer:
    """Load a `tokenizer.json` with padding and truncation switched off.

    Public tokenizer.json files often carry padding/truncation defaults from their packaging (a fixed length of
    128, say); every caller decides its own instead.
    """
    path = Path(path)
    try:
        tokenizer = Tokenizer.from_file(str(path))
    except Exception as exc:  # the Rust side raises a bare Exception for every parse error
        raise BundleError(f"{path} is not a readable tokenizer.json: {exc}") from exc
    tokenizer.no_padding()
    tokenizer.no_truncation()
    return tokenizer


def encode_one(
    tokenizer: Tokenizer, text: str, pair: str | None = None, *, add_special_tokens: bool = True
) -> Encoding:
    """Encode one text (or pair) like `tokenizer.encode`, but without holding the GIL.

    `Tokenizer.encode` keeps Python's global lock for the whole call (0.2 s for 60,000 words), freezing the window
    while a worker tokenizes; `encode_batch` releases it.
    """
    item = (text, pair) if pair is not None else text
    return tokenizer.encode_batch([item], add_special_tokens=add_special_tokens)[0]
