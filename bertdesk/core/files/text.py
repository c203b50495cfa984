"""Reading a text file the user opens or drops: its encoding found (a BOM, UTF-8, else charset-normalizer), binary
files and huge ones refused with a readable reason."""

from __future__ import annotations

import codecs
from pathlib import Path

from charset_normalizer import from_bytes

from bertdesk.core.errors import BertdeskError

#: Text files larger than this are refused when dropped or opened: a 60,000-word text is about 0.4 MB, and showing
#: 2 MB in a text box already takes a fraction of a second on the GUI thread.
MAX_TEXT_FILE_BYTES = 2_000_000

# Longest BOM first: UTF-32 LE's starts with UTF-16 LE's.
_BOMS = [
    (codecs.BOM_UTF8, "utf-8-sig", "UTF-8"),
    (codecs.BOM_UTF32_LE, "utf-32", "UTF-32"),
    (codecs.BOM_UTF32_BE, "utf-32", "UTF-32"),
    (codecs.BOM_UTF16_LE, "utf-16", "UTF-16"),
    (codecs.BOM_UTF16_BE, "utf-16", "UTF-16"),
]
_NAMES = {"cp1252": "Windows-1252 (Latin-1)", "latin_1": "Latin-1", "cp1251": "Windows-1251 (Cyrillic)"}


def read_text_file(path: Path) -> tuple[str, str]:
    """The text of a file and the name of the encoding it was read in, or a `BertdeskError` saying why the file
    cannot be used as input."""
    try:
        size = path.stat().st_size
        if not path.is_file():
            raise BertdeskError(f"{path.name} is not a file.")
        if size > MAX_TEXT_FILE_BYTES:
            limit = MAX_TEXT_FILE_BYTES // 1_000_000
            raise BertdeskError(f"{path.name} is {size / 1e6:.1f} MB; bertdesk opens text files up to {limit} MB.")
        data = path.read_bytes()
    except OSError as exc:
        raise BertdeskError(f"Could not read {path.name}: {exc.strerror}.") from exc
    return decode_text(data, path.name)


def decode_text(data: bytes, name: str) -> tuple[str, str]:
    """`data` as text and its encoding's name; `name` (the file's, or "standard input") is used in the refusal of
    data that is no text."""
    codec, label = detect_encoding(data, name)
    try:
        return data.decode(codec), label
    except UnicodeDecodeError as exc:
        raise BertdeskError(f"{name} starts like {label} text but is not (bad bytes at {exc.start}).") from exc


def detect_encoding(sample: bytes, name: str, *, complete: bool = True) -> tuple[str, str]:
    """The codec to read `sample` with and its readable name: a byte-order mark; UTF-16/32 without one (NUL bytes);
    UTF-8; else an 8-bit code page (see `_guess_legacy`). `complete=False` when `sample` is only the start of a file
    (a UTF-8 character may be cut at its end). Binary data raises `BertdeskError`."""
    for bom, codec, label in _BOMS:
        if sample.startswith(bom):
            return codec, label
    if b"\x00" in sample[:65536]:
        wide = [m for m in from_bytes(sample) if m.encoding.startswith(("utf_16", "utf_32"))]
        if not wide:
            raise BertdeskError(f"{name} looks like a binary file, not text.")
        return wide[0].encoding, wide[0].encoding.upper().replace("_", "-", 1).replace("_", " ")
    try:
        codecs.getincrementaldecoder("utf-8")().decode(sample, final=complete)
        return "utf-8", "UTF-8"
    except UnicodeDecodeError:
        return _guess_legacy(sample, name)


def _guess_legacy(data: bytes, name: str) -> tuple[str, str]:
    """An 8-bit encoding: Windows-1252 when it reads as Western text, else charset-normalizer's cleanest reading.
    Short Western texts read equally cleanly in dozens of code pages, so the detector alone guesses wrong."""
    try:
        western = data.decode("cp1252")
    except UnicodeDecodeError:
        western = None
    if western is not None and _reads_as_western(western):
        return "cp1252", _NAMES["cp1252"]
    matches = list(from_bytes(data))
    if not matches:
        raise BertdeskError(f"{name} is not text in any encoding bertdesk recognises.")
    best = min(matches, key=lambda match: match.chaos)
    return best.encoding, _NAMES.get(best.encoding, best.encoding)


_WESTERN_EXTRA = set("“”‘’„‚–—…€•·«»°§©®™±×÷£¥¢¡¿ªº")


def _reads_as_western(text: str) -> bool:
    """Every non-ASCII character a Latin letter or common punctuation, and most letters ASCII ones: another code
    page read as Windows-1252 gives words made of accented letters only ("Ïðèâåò") or stray symbols ("Za¿ó³æ")."""
    letters = accented = 0
    for char in text:
        if char.isascii():
            letters += char.isalpha()
        elif char.isalpha() and "\u00c0" <= char <= "\u017f":
            letters += 1
            accented += 1
        elif char not in _WESTERN_EXTRA:
            return False
    return accented <= 0.3 * letters
