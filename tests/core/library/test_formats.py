"""extract_document on real files of every supported type, and on the bad files people have: encrypted, damaged,
scanned, binary, empty, huge."""

from __future__ import annotations

import functools
import os
import tempfile
import time
import tracemalloc
import unicodedata
import zipfile
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bertdesk.core.errors import LibraryError
from bertdesk.core.library.formats import (
    MAX_FILE_BYTES,
    SUPPORTED_SUFFIXES,
    ExtractionError,
    extract_document,
    file_kind,
)
from tests.core.library.documents import (
    UNICODE_FONT,
    write_docx,
    write_encrypted_pdf,
    write_html,
    write_markdown,
    write_pdf,
    write_scanned_pdf,
    write_text,
)

FILLER = "Rivers carry sediment to the sea. Mountains erode slowly over many years. Weather changes every day."

#: A hang guard, not a speed target: the quadratic versions took 26–220 s, the linear ones take milliseconds.
HANG_GUARD_S = 20.0


def _reason(path: Path) -> str:
    with pytest.raises(ExtractionError) as caught:
        extract_document(path)
    assert isinstance(caught.value, LibraryError)
    return str(caught.value)


def _no_control_characters(text: str) -> bool:
    """No C0 or C1 control character (U+0000-U+001F, U+007F-U+009F) but "\n" and "\t"."""
    return not any(unicodedata.category(char) == "Cc" and char not in "\n\t" for char in text)


def test_file_kind_by_suffix_any_case():
    assert {".pdf", ".docx", ".html", ".htm", ".md", ".markdown", ".txt", ".text"} == SUPPORTED_SUFFIXES
    assert file_kind(Path("a/Report.PDF")) == "pdf"
    assert file_kind(Path("page.htm")) == "html"
    assert file_kind(Path("notes.markdown")) == "markdown"
    assert file_kind(Path("notes.text")) == "text"
    assert file_kind(Path("sheet.xlsx")) is None
    assert file_kind(Path("README")) is None


def test_pdf_pages_keep_their_numbers_and_metadata_title(tmp_path):
    pages = [f"Page {n} talks about ordinary things. {FILLER}" for n in range(1, 6)]
    pages[2] += "\nThe lighthouse keeper was named Bartholomew Quince."
    path = write_pdf(tmp_path / "report.pdf", pages, title="Coastal Survey")
    document = extract_document(path)
    assert document.kind == "pdf" and document.title == "Coastal Survey"
    assert len(document.pages) == 5 and document.blank_pages == ()
    assert [n for n, text in enumerate(document.pages, 1) if "Bartholomew Quince" in text] == [3]
    assert all(f"Page {n} talks" in text for n, text in enumerate(document.pages, 1))
    assert all("\r" not in text and _no_control_characters(text) for text in document.pages)


def test_a_200_page_pdf_extracts_every_page_in_order(tmp_path):
    """Its speed (300–570 pages/s here) is measured by bench/library_bench.py, not asserted."""
    pages = [f"Page {n}. " + " ".join([FILLER] * 20) for n in range(1, 201)]
    path = write_pdf(tmp_path / "long.pdf", pages)
    document = extract_document(path)
    assert len(document.pages) == 200
    assert all(text.startswith(f"Page {n}.") for n, text in enumerate(document.pages, 1))


def test_pdf_line_breaks_are_single_newlines(tmp_path):
    path = write_pdf(tmp_path / "lines.pdf", ["first line\nsecond line\nthird line"])
    assert extract_document(path).pages[0].split("\n")[:3] == ["first line", "second line", "third line"]


def test_pdf_without_title_is_named_by_its_file(tmp_path):
    assert extract_document(write_pdf(tmp_path / "minutes-2026.pdf", [FILLER])).title == "minutes-2026"


def test_pdf_unicode_text(tmp_path):
    path = write_pdf(tmp_path / "u.pdf", ["Ünïcödé Ελληνικά кириллица"], font_path=UNICODE_FONT)
    assert "Ünïcödé Ελληνικά кириллица" in extract_document(path).pages[0]


def test_pdf_pages_without_text_layer_are_reported_by_number(tmp_path):
    path = write_pdf(tmp_path / "mixed.pdf", [FILLER, "", FILLER, "", FILLER], scanned_pages=[2, 4])
    document = extract_document(path)
    assert document.blank_pages == (2, 4)
    assert len(document.pages) == 5 and "Rivers" in document.pages[4]


def test_scanned_pdf_is_refused_with_its_page_count(tmp_path):
    reason = _reason(write_scanned_pdf(tmp_path / "scan.pdf", 3))
    assert reason == "no text in any page: scanned PDF without a text layer (3 pages)"


def test_encrypted_pdf_needs_a_password(tmp_path):
    assert _reason(write_encrypted_pdf(tmp_path / "secret.pdf", FILLER)) == "encrypted PDF (needs a password)"


@pytest.mark.parametrize("keep", [0.02, 0.1])
def test_truncated_pdf_is_damaged(tmp_path, keep):
    whole = write_pdf(tmp_path / "whole.pdf", [FILLER] * 3).read_bytes()
    cut = tmp_path / "cut.pdf"
    cut.write_bytes(whole[: int(len(whole) * keep)])
    reason = _reason(cut)
    assert reason.startswith("damaged PDF: ") and len(reason) > len("damaged PDF: ") and "\n" not in reason


def test_pdf_header_over_garbage_is_damaged(tmp_path):
    path = tmp_path / "junk.pdf"
    path.write_bytes(b"%PDF-1.7\n" + bytes(range(256)) * 40)
    assert _reason(path).startswith("damaged PDF: ")


def test_huge_file_is_refused_without_being_read(tmp_path):
    path = tmp_path / "huge.txt"
    with open(path, "wb") as handle:
        handle.truncate(1_000_000_000)  # sparse: no disk used
    tracemalloc.start()
    try:
        reason = _reason(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert reason == "file too large (1.0 GB > 200 MB)"
    assert peak < 1_000_000  # refused from its size alone: neither read nor hashed
    assert MAX_FILE_BYTES == 200_000_000


@pytest.mark.parametrize("suffix", [".pdf", ".docx", ".html", ".md", ".txt"])
def test_empty_file(tmp_path, suffix):
    path = tmp_path / f"empty{suffix}"
    path.write_bytes(b"")
    assert _reason(path) == "empty file"


def test_whitespace_only_text_is_empty(tmp_path):
    assert _reason(write_text(tmp_path / "blank.txt", " \n\t\n  ")) == "empty file"


@pytest.mark.parametrize("suffix", [".txt", ".md", ".html"])
@pytest.mark.parametrize("data", [b"\x7fELF\x02\x01\x01\x00\x00\x00" * 200, bytes(range(1, 256)) * 50],
                         ids=["nul-bytes", "control-bytes"])
def test_binary_file_is_not_text(tmp_path, suffix, data):
    path = tmp_path / f"program{suffix}"
    path.write_bytes(data)
    assert _reason(path) == "binary file, not text"


def test_unsupported_type(tmp_path):
    path = tmp_path / "sheet.xlsx"
    path.write_bytes(b"PK")
    assert _reason(path) == "unsupported type .xlsx"


def test_missing_file_and_folder(tmp_path):
    assert _reason(tmp_path / "gone.txt").startswith("cannot read the file: ")
    (tmp_path / "folder.txt").mkdir()
    assert _reason(tmp_path / "folder.txt") == "not a file"


def test_docx_pages_split_at_explicit_page_breaks(tmp_path):
    path = write_docx(tmp_path / "memo.docx", ["Alpha paragraph.", "Beta paragraph.", "Gamma paragraph.",
                                               "Delta paragraph."], page_breaks_after=[1, 2], heading="Quarterly Memo")
    document = extract_document(path)
    assert document.kind == "docx" and document.title == "Quarterly Memo"
    assert document.pages == ("Quarterly Memo\n\nAlpha paragraph.\n\nBeta paragraph.", "Gamma paragraph.",
                              "Delta paragraph.")
    assert document.blank_pages == ()


def test_docx_without_breaks_is_one_page_titled_by_its_properties(tmp_path):
    path = write_docx(tmp_path / "d.docx", ["One.", "Two."], title="Board Minutes")
    document = extract_document(path)
    assert document.pages == ("One.\n\nTwo.",) and document.title == "Board Minutes"


def test_a_long_docx_without_a_heading_extracts_quickly(tmp_path):
    """Finding the title used to rescan every style for each paragraph (30 s for 3,000 paragraphs)."""
    path = write_docx(tmp_path / "long.docx", [f"Paragraph {n}. {FILLER}" for n in range(2000)],
                      page_breaks_after=range(9, 2000, 10))
    started = time.perf_counter()
    document = extract_document(path)
    assert time.perf_counter() - started < HANG_GUARD_S
    assert document.title == "long" and len(document.pages) == 200
    assert document.pages[199].startswith("Paragraph 1990.")


def test_docx_tables_are_read(tmp_path):
    from docx import Document

    word = Document()
    word.add_paragraph("Before the table.")
    table = word.add_table(rows=1, cols=2)
    table.cell(0, 0).text = "Cell with the tide height"
    table.cell(0, 1).text = "4.2 metres"
    word.save(str(tmp_path / "t.docx"))
    text = extract_document(tmp_path / "t.docx").pages[0]
    assert "Before the table." in text and "Cell with the tide height" in text and "4.2 metres" in text


def test_docx_that_is_a_zip_of_junk_is_damaged(tmp_path):
    path = tmp_path / "junk.docx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("word/document.xml", "<not really xml")
        archive.writestr("random.bin", os.urandom(300))
    reason = _reason(path)
    assert reason.startswith("damaged Word document: ") and "\n" not in reason


def test_docx_that_is_no_zip_is_damaged(tmp_path):
    path = write_text(tmp_path / "fake.docx", "just some text")
    assert _reason(path) == "damaged Word document: not a zip package"


def test_docx_with_broken_xml_is_damaged(tmp_path):
    path = write_docx(tmp_path / "good.docx", ["Fine."])
    broken = tmp_path / "broken.docx"
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(broken, "w") as target:
        for info in source.infolist():
            data = source.read(info)
            target.writestr(info, data[: len(data) // 2] if info.filename == "word/document.xml" else data)
    assert _reason(broken).startswith("damaged Word document: ")


def test_html_main_text_without_scripts_styles_or_navigation(tmp_path):
    path = write_html(tmp_path / "page.html", "Tide Tables", ["High tide at 06:12 &amp; low at noon.",
                                                              "Second paragraph."], h1="Harbour")
    document = extract_document(path)
    assert document.kind == "html" and document.title == "Tide Tables"
    text = document.pages[0]
    assert "NOISEWORD" not in text and "console" not in text and "font-family" not in text
    assert text == "Harbour\n\nHigh tide at 06:12 &amp; low at noon.\n\nSecond paragraph."


def test_html_entities_line_breaks_and_title_from_h1(tmp_path):
    path = tmp_path / "saved.htm"
    path.write_text("<html><head><style>p{}</style><body><h1>Caf&eacute;   Menu</h1><p>Soup&nbsp;of the day"
                    "<br>Bread &amp; butter</p><ul><li>one</li><li>two</li></ul></body></html>", encoding="utf-8")
    document = extract_document(path)
    assert document.title == "Café Menu"
    assert document.pages[0] == "Café Menu\n\nSoup\xa0of the day\nBread & butter\n\none\ntwo"


def test_html_declared_legacy_charset(tmp_path):
    path = write_html(tmp_path / "old.html", "Ångström", ["Größe: naïve café"], encoding="cp1252")
    document = extract_document(path)
    assert document.title == "Ångström" and "Größe: naïve café" in document.pages[0]


def test_html_that_never_closes_its_head(tmp_path):
    path = tmp_path / "sloppy.html"
    path.write_text("<html><head><title>Sloppy</title><meta charset=utf-8><p>The body text.<p>More text.")
    document = extract_document(path)
    assert document.title == "Sloppy" and document.pages == ("The body text.\n\nMore text.",)


def test_html_declaring_utf16_in_ascii_markup_is_read_as_what_it_is(tmp_path):
    path = tmp_path / "wrong.html"
    path.write_bytes('<meta charset="utf-16"><p>Naïve text.</p>'.encode())
    assert extract_document(path).pages == ("Naïve text.",)


@pytest.mark.parametrize("tail", ["<a " * 20_000, "x<" * 30_000, "<a b=\"" * 20_000, "</" * 30_000,
                                  "<a " * 20_000 + "x"])
def test_html_with_tags_left_open_at_the_end_is_read_in_linear_time(tmp_path, tail):
    """html.parser rescans from each unclosed tag to the end of the page: 220 s for 20,000 "<a "."""
    path = tmp_path / "open.html"
    path.write_text("<p>Text.</p>" + tail, encoding="utf-8")
    started = time.perf_counter()
    document = extract_document(path)
    assert time.perf_counter() - started < HANG_GUARD_S
    assert document.pages[0].startswith("Text.")


def test_an_unclosed_title_gives_a_short_title(tmp_path):
    path = tmp_path / "runaway.html"
    path.write_text("<html><head><title>Annual report " + "of the harbour board " * 200 + "</head><body><p>Body.")
    title = extract_document(path).title
    assert len(title) <= 200 and title.startswith("Annual report of the harbour board") and title.endswith("…")
    assert set(title[:-1].split()) == {"Annual", "report", "of", "the", "harbour", "board"}  # cut at a word


def test_titles_are_one_clean_line(tmp_path):
    path = write_pdf(tmp_path / "t.pdf", [FILLER], title="  Tide\ttables\x07 for\n 2026  ")
    assert extract_document(path).title == "Tide tables for 2026"


def test_html_with_only_noise_has_no_text(tmp_path):
    path = tmp_path / "app.html"
    path.write_text("<html><head><title>App</title></head><body><script>run()</script></body></html>")
    assert _reason(path) == "no text in the web page"


def test_markdown_kept_as_written_titled_by_first_heading(tmp_path):
    path = write_markdown(tmp_path / "notes.md", "Garden Notes", ["Plant *tomatoes* in May.", "- water daily"])
    document = extract_document(path)
    assert document.kind == "markdown" and document.title == "Garden Notes"
    assert document.pages == ("# Garden Notes\n\nPlant *tomatoes* in May.\n\n- water daily\n",)


@pytest.mark.parametrize(("source", "title"), [
    ("Harbour Log\n===========\n\nCalm seas.\n", "Harbour Log"),
    ("Intro line.\n\nSub Part\n--------\n\n## Later\n", "Sub Part"),
    ("---\ntitle: \"Front Matter Title\"\ntags: [a]\n---\n# Heading\n", "Front Matter Title"),
    ("---\nauthor: me\n---\n\nPlain words only.\n", "notes"),
    ("No heading at all.\n", "notes"),
    ("## Closed Heading ##\n", "Closed Heading"),
    ("#NotAHeading\n# C# Tips\n", "C# Tips"),
])
def test_markdown_titles(tmp_path, source, title):
    document = extract_document(write_text(tmp_path / "notes.md", source))
    assert document.title == title and document.pages == (source,)


def test_markdown_heading_with_a_long_space_run_is_read_in_linear_time(tmp_path):
    source = "# a" + " \t" * 20_000 + "x\n"
    started = time.perf_counter()
    document = extract_document(write_text(tmp_path / "odd.md", source))
    assert time.perf_counter() - started < HANG_GUARD_S
    assert document.title == "a x"


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "utf-16", "cp1252"])
def test_text_in_common_encodings(tmp_path, encoding):
    text = "Crème brûlée costs 5 €.\r\nNaïve façade, déjà vu.\r\n"
    document = extract_document(write_text(tmp_path / "menu.txt", text, encoding))
    assert document.kind == "text" and document.title == "menu"
    assert document.pages == ("Crème brûlée costs 5 €.\nNaïve façade, déjà vu.\n",)


def test_stray_control_characters_become_spaces(tmp_path):
    prose = "A line of ordinary prose in a log file. " * 5
    document = extract_document(write_text(tmp_path / "log.txt", prose + "a\x0cb\x1bc\rd\te"))
    assert document.pages == (prose + "a b c\nd\te",)


@pytest.mark.parametrize("suffix", [".txt", ".md", ".html", ".docx"])
def test_c1_control_characters_become_spaces(tmp_path, suffix):
    # U+009B is the terminal's one-character CSI: "\x9b2J" clears a screen the text is printed on.
    prose = "A line of ordinary prose with a stray escape in it. " * 20  # few enough control characters for text
    text = prose + "clear\x9b2J here\x80\x9f end"
    path = tmp_path / f"c1{suffix}"
    if suffix == ".docx":
        write_docx(path, [text])
    elif suffix == ".html":
        write_html(path, "C1", [text])
    else:
        write_text(path, text)
    page = extract_document(path).pages[-1]
    assert _no_control_characters(page), ascii(page)
    assert "clear 2J here" in page


@given(suffix=st.sampled_from(sorted(SUPPORTED_SUFFIXES)),
       data=st.one_of(st.binary(min_size=1, max_size=3000),
                      st.binary(max_size=2000).map(lambda tail: b"%PDF-1.4\n" + tail),
                      st.binary(max_size=2000).map(lambda tail: b"PK\x03\x04" + tail),
                      st.text(max_size=500).map(lambda text: text.encode("utf-8", "surrogatepass"))))
def test_hostile_bytes_give_a_document_or_an_extraction_error(suffix, data):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"hostile{suffix}"
        path.write_bytes(data)
        try:
            document = extract_document(path)
        except ExtractionError as error:
            assert str(error) and "\n" not in str(error)
            return
    assert document.pages and any(page.strip() for page in document.pages)
    assert all(_no_control_characters(page) and "\r" not in page for page in document.pages)
    for page in document.pages:
        page.encode("utf-8")  # storable in SQLite: no lone surrogates


@functools.cache
def _real_file(suffix: str) -> bytes:
    """The bytes of a small genuine file of each binary type, to corrupt."""
    with tempfile.TemporaryDirectory() as folder:
        if suffix == ".pdf":
            path = write_pdf(Path(folder) / "real.pdf", [FILLER, "Second page.\nTwo lines."], title="Real")
        else:
            path = write_docx(Path(folder) / "real.docx", [FILLER, "Second."], page_breaks_after=[0])
        return path.read_bytes()


@given(suffix=st.sampled_from([".pdf", ".docx"]), cut=st.floats(min_value=0.05, max_value=1.0),
       flips=st.lists(st.tuples(st.floats(min_value=0, max_value=0.999), st.integers(0, 255)), max_size=30))
def test_corrupted_real_files_give_a_document_or_an_extraction_error(suffix, cut, flips):
    data = bytearray(_real_file(suffix))
    for where, value in flips:
        data[int(where * len(data))] = value
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"corrupt{suffix}"
        path.write_bytes(bytes(data[: max(1, int(cut * len(data)))]))
        try:
            document = extract_document(path)
        except ExtractionError as error:
            assert str(error) and "\n" not in str(error)
            return
    assert len(document.pages) >= 1 and all("\r" not in page for page in document.pages)
