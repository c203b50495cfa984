"""What extraction tells the passages about a document's structure: each format's headings (exact spans of the page
text), the passages they make (a heading stays with its answer), and the page labels the file prints."""

from __future__ import annotations

from bertdesk.core.library.format_types import ExtractedDocument
from bertdesk.core.library.formats import extract_document
from bertdesk.core.library.passages import split_passages
from tests.core.library.documents import write_docx, write_laid_out_pdf, write_sectioned_docx

QUESTION = "How do I reset the password"
ANSWER = "Open the account page and press the reset button. A mail arrives within a minute."
BEFORE = " ".join(f"Paragraph sentence {n} tells of the account settings and their defaults." for n in range(8))


def _heading_texts(document: ExtractedDocument, page: int = 1) -> list[str]:
    text = document.pages[page - 1]
    return [text[h.start:h.end] for h in document.headings[page - 1]]


def _passage_with(document: ExtractedDocument, words: str, page: int = 1) -> str:
    text = document.pages[page - 1]
    headings = document.headings[page - 1] if document.headings else ()
    passages = [text[s.start:s.end] for s in split_passages(text, headings=headings, target_chars=700)]
    holding = [passage for passage in passages if words in passage]
    assert len(holding) == 1, passages
    return holding[0]


def _body_line(n: int) -> tuple[str, float, bool]:
    return (f"Body line {n} of the manual says how the settings are kept and changed", 11, False)


def test_a_pdf_heading_in_a_larger_font_is_found_and_starts_its_passage(tmp_path):
    lines = [_body_line(n) for n in range(10)] + [("Resetting the password", 16, False)]
    lines += [("Open the account page and press the reset button to get a new one", 11, False),
              ("by mail within a minute of asking for it.", 11, False)]
    document = extract_document(write_laid_out_pdf(tmp_path / "manual.pdf", [lines]))
    assert _heading_texts(document) == ["Resetting the password"]
    assert document.headings[0][0].level == 1
    assert _passage_with(document, "Resetting").startswith("Resetting the password\nOpen the account page")


def test_a_short_bold_pdf_line_is_a_heading_and_bold_body_text_makes_none(tmp_path):
    lines = [_body_line(n) for n in range(6)] + [("Where the files are kept", 11, True)] + [_body_line(9)]
    bold_body = [(text, size, True) for text, size, _ in lines]
    path = write_laid_out_pdf(tmp_path / "bold.pdf", [lines, bold_body])
    document = extract_document(path)
    assert _heading_texts(document, 1) == ["Where the files are kept"]
    assert document.headings[1] == ()


def test_a_pdf_of_body_text_only_has_no_headings(tmp_path):
    document = extract_document(write_laid_out_pdf(tmp_path / "plain.pdf", [[_body_line(n) for n in range(20)]]))
    assert document.headings == ()


def test_pdf_page_labels_are_the_printed_ones(tmp_path):
    pages = [[_body_line(n)] for n in range(6)]
    labels = [("r", "", 1)] * 2 + [("D", "", 1)] * 3 + [("D", "A-", 7)]
    document = extract_document(write_laid_out_pdf(tmp_path / "labelled.pdf", pages, labels=labels))
    assert document.page_labels == ("i", "ii", "1", "2", "3", "A-7")


def test_a_pdf_without_page_labels_has_none(tmp_path):
    document = extract_document(write_laid_out_pdf(tmp_path / "unlabelled.pdf", [[_body_line(1)], [_body_line(2)]]))
    assert document.page_labels == ()


def test_an_faq_question_line_in_a_pdf_stays_with_its_answer(tmp_path):
    lines = [_body_line(n) for n in range(12)]
    lines[-1] = ("Body line 11 ends the part on settings.", 11, False)
    lines += [(QUESTION + "?", 11, False), ("Open the account page and press the reset button.", 11, False)]
    document = extract_document(write_laid_out_pdf(tmp_path / "faq.pdf", [lines]))
    assert _passage_with(document, QUESTION).startswith(QUESTION + "?\nOpen the account page")


def test_html_headings_are_spans_of_the_page_text_and_start_their_passages(tmp_path):
    path = tmp_path / "faq.html"
    path.write_text(f"<html><head><title>FAQ</title></head><body><h1>  Account   help </h1><p>{BEFORE}</p>"
                    f"<h3>{QUESTION}?</h3><p>{ANSWER}</p><h2>Other<br>topics</h2><p>None yet.</p></body></html>",
                    encoding="utf-8")
    document = extract_document(path)
    assert _heading_texts(document) == ["Account help", QUESTION + "?", "Other\ntopics"]
    assert [h.level for h in document.headings[0]] == [1, 3, 2]
    assert _passage_with(document, QUESTION) == f"{QUESTION}?\n\n{ANSWER}"


def test_markdown_headings_outside_code_are_found_and_start_their_passages(tmp_path):
    path = tmp_path / "notes.md"
    path.write_text(f"# Account help #\n\n{BEFORE}\n\n```sh\n# not a heading\nreset --all\n```\n\n"
                    f"## {QUESTION}?\n\n{ANSWER}\n\nOther topics\n------------\n\nNone yet.\n", encoding="utf-8")
    document = extract_document(path)
    assert _heading_texts(document) == ["Account help", QUESTION + "?", "Other topics"]
    assert [h.level for h in document.headings[0]] == [1, 2, 2]
    assert _passage_with(document, QUESTION) == f"## {QUESTION}?\n\n{ANSWER}"  # with its marks


def test_docx_heading_styles_are_headings_and_start_their_passages(tmp_path):
    paragraphs = [("Account help", "Title"), (BEFORE, None), (QUESTION + "?", "Heading 2"), (ANSWER, None),
                  ("Other topics", "Heading 1"), ("None yet.", None)]
    document = extract_document(write_sectioned_docx(tmp_path / "faq.docx", [(paragraphs, "NEW_PAGE", None)]))
    assert _heading_texts(document) == ["Account help", QUESTION + "?", "Other topics"]
    assert [h.level for h in document.headings[0]] == [1, 2, 1]
    assert _passage_with(document, QUESTION) == f"{QUESTION}?\n\n{ANSWER}"


def test_a_docx_without_heading_styles_has_no_headings(tmp_path):
    assert extract_document(write_docx(tmp_path / "plain.docx", ["One paragraph.", "Another one."])).headings == ()


def test_docx_section_breaks_that_start_a_page_count_as_pages(tmp_path):
    sections = [([("Front matter.", None)], "NEW_PAGE", None), ([("Chapter one.", None)], "NEW_PAGE", None),
                ([("Still chapter one.", None)], "CONTINUOUS", None), ([("Chapter two.", None)], "ODD_PAGE", None)]
    document = extract_document(write_sectioned_docx(tmp_path / "sections.docx", sections))
    assert document.pages == ("Front matter.", "Chapter one.\n\nStill chapter one.", "Chapter two.")
    assert document.page_labels == ()  # numbered 1, 2, 3 like the pages themselves


def test_docx_page_numbers_restart_where_a_section_says(tmp_path):
    sections = [([("Preface.", None)], "NEW_PAGE", None), ([("Chapter one.", None)], "NEW_PAGE", 1),
                ([("Chapter two.", None)], "NEW_PAGE", None)]
    document = extract_document(write_sectioned_docx(tmp_path / "restart.docx", sections))
    assert document.pages == ("Preface.", "Chapter one.", "Chapter two.")
    assert document.page_labels == ("1", "1", "2")


def test_docx_front_matter_in_roman_numbers_then_arabic_from_one(tmp_path):
    sections = [([("Title page.", None)], "NEW_PAGE", None), ([("Preface.", None)], "NEW_PAGE", None),
                ([("Chapter one.", None)], "NEW_PAGE", 1), ([("Appendix.", None)], "NEW_PAGE", 1)]
    path = write_sectioned_docx(tmp_path / "book.docx", sections,
                                number_formats=["lowerRoman", "lowerRoman", "decimal", "upperLetter"])
    assert extract_document(path).page_labels == ("i", "ii", "1", "A")
