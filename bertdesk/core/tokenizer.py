"""Loading a bundle's `tokenizer.json` with the `tokenizers` library, padding and truncation under our control."""

from __future__ import annotations

from pathlib import Path

from tokenizers import Tokenizer

from bertdesk.core.errors import BundleError


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
