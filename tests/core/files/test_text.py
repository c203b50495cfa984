"""One encoding policy for every text bertdesk reads: files the window opens, standard input, batch files."""

from __future__ import annotations

import codecs

import pytest

from bertdesk.core.errors import BertdeskError
from bertdesk.core.files.text import decode_text, detect_encoding

FRENCH = "le café était crème, « déjà vu » — voilà"


@pytest.mark.parametrize(
    ("data", "text", "label"),
    [
        (FRENCH.encode("utf-8"), FRENCH, "UTF-8"),
        (codecs.BOM_UTF8 + FRENCH.encode("utf-8"), FRENCH, "UTF-8"),
        (FRENCH.encode("cp1252"), FRENCH, "Windows-1252 (Latin-1)"),
        ("naïve café".encode("latin-1"), "naïve café", "Windows-1252 (Latin-1)"),
        (FRENCH.encode("utf-16"), FRENCH, "UTF-16"),
        (FRENCH.encode("utf-16-le"), FRENCH, "UTF-16 LE"),
        ("Привет, как у тебя дела сегодня?".encode("cp1251"), "Привет, как у тебя дела сегодня?",
         "Windows-1251 (Cyrillic)"),
    ],
)
def test_text_in_common_encodings_is_read_and_named(data: bytes, text: str, label: str) -> None:
    assert decode_text(data, "x.txt") == (text, label)


def test_polish_in_a_central_european_code_page_is_not_read_as_western() -> None:
    text = "Zażółć gęślą jaźń, powiedział książę"
    assert decode_text(text.encode("cp1250"), "x.txt")[0] == text


@pytest.mark.parametrize("data", [b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00", bytes(range(256)) * 4])
def test_binary_data_is_refused_naming_its_source(data: bytes) -> None:
    with pytest.raises(BertdeskError, match="standard input"):
        decode_text(data, "standard input")


def test_a_sample_cut_inside_a_utf8_character_is_still_utf8() -> None:
    sample = ("é" * 10).encode("utf-8")[:-1]
    assert detect_encoding(sample, "x", complete=False) == ("utf-8", "UTF-8")
    assert detect_encoding(sample, "x", complete=True)[0] != "utf-8"
