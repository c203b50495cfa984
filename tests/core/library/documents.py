"""Real documents for the library tests, written with the same libraries people's files come from (fpdf2 for PDF,
python-docx for Word) so that extraction is tested on genuine files, not on hand-made imitations. Qt-free."""

from __future__ import annotations

import random
from collections.abc import Iterable, Sequence
from html import escape
from pathlib import Path

from docx import Document
from docx.enum.section import WD_SECTION
from docx.enum.text import WD_BREAK
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from fpdf import FPDF
from PIL import Image, ImageDraw

#: A TrueType font with wide Unicode coverage, for PDF text beyond Latin-1 (Helvetica's limit).
UNICODE_FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
FONT_SIZE = 11
LINE_HEIGHT = 6
#: Lines of text that fit on an A4 page between the margins.
LINES_PER_PAGE = 44


def _scan_image(seed: int) -> Image.Image:
    """A grey "scanned page": a pale background with dark blocks where lines of print would be, pixels only."""
    rng = random.Random(seed)
    image = Image.new("L", (620, 877), 235)
    draw = ImageDraw.Draw(image)
    y = 60
    while y < 800:
        draw.rectangle((60, y, 60 + rng.randint(250, 500), y + 9), fill=rng.randint(20, 80))
        y += 22
    return image


def _wrapped(pdf: FPDF, text: str, width: float) -> list[str]:
    """`text` broken into lines no wider than `width` at spaces ("\n" always breaks): fpdf2's own multi_cell takes
    some 40 ms a page, too slow for the 1,000-page benchmark corpus."""
    space = pdf.get_string_width(" ")
    widths: dict[str, float] = {}
    lines = []
    for paragraph in text.split("\n"):
        line: list[str] = []
        used = 0.0
        for word in paragraph.split(" "):
            if word not in widths:
                widths[word] = pdf.get_string_width(word)
            extra = widths[word] + (space if line else 0.0)
            if line and used + extra > width:
                lines.append(" ".join(line))
                line, used, extra = [], 0.0, widths[word]
            line.append(word)
            used += extra
        lines.append(" ".join(line))
    return lines


def _new_pdf(title: str | None, font_path: Path | None) -> tuple[FPDF, str]:
    pdf = FPDF(format="A4")
    pdf.set_auto_page_break(True, margin=15)
    if title is not None:
        pdf.set_title(title)
    family = "Helvetica"
    if font_path is not None:
        pdf.add_font("Body", fname=str(font_path))
        family = "Body"
    return pdf, family


def write_pdf(path: Path, pages: Sequence[str], title: str | None = None, *, scanned_pages: Iterable[int] = (),
              font_path: Path | None = None) -> Path:
    """A PDF with one page per item of `pages` (a text layer wrapped to the page; "\\n" starts a new line), metadata
    title `title`; pages numbered in `scanned_pages` (1-based) hold only a scanned image and no text layer. The
    default font (Helvetica) takes Latin-1 text; pass `font_path=UNICODE_FONT` for more. A page's text that does not
    fit on one page raises ValueError (page numbers would shift)."""
    scanned = set(scanned_pages)
    pdf, family = _new_pdf(title, font_path)
    for number, text in enumerate(pages, start=1):
        pdf.add_page()
        if number in scanned:
            pdf.image(_scan_image(number), x=0, y=0, w=pdf.w, h=pdf.h)
        elif text:
            pdf.set_font(family, size=FONT_SIZE)
            lines = _wrapped(pdf, text, pdf.w - pdf.l_margin - pdf.r_margin)
            if len(lines) > LINES_PER_PAGE:
                raise ValueError(f"the text of page {number} does not fit on one page ({len(lines)} lines)")
            for index, line in enumerate(lines):
                if line:
                    pdf.text(pdf.l_margin, pdf.t_margin + (index + 1) * LINE_HEIGHT, line)
    pdf.output(str(path))
    return path


def write_laid_out_pdf(path: Path, pages: Sequence[Sequence[tuple[str, float, bool]]], *,
                       labels: Sequence[tuple[str, str, int]] | None = None) -> Path:
    """A PDF whose pages are lines of (text, font size, bold) in Helvetica, one under the other (a heading is a line
    in a larger or bold font, as a typesetter writes it). `labels` gives each page's /PageLabels range as (style,
    prefix, start): style "D" decimal, "r"/"R" roman, "a"/"A" letters, "" none (prefix only); consecutive equal
    ranges make one."""
    pdf, family = _new_pdf(None, None)
    for number, lines in enumerate(pages):
        style = labels[number] if labels is not None else None
        if style is not None and (number == 0 or labels is None or labels[number - 1] != style):
            pdf.add_page(label_style=style[0] or None, label_prefix=style[1] or None, label_start=style[2])
        else:
            pdf.add_page()
        y = float(pdf.t_margin)
        for text, size, bold in lines:
            pdf.set_font(family, style="B" if bold else "", size=size)
            y += size * 0.5
            pdf.text(pdf.l_margin, y, text)
    pdf.output(str(path))
    return path


def write_scanned_pdf(path: Path, n_pages: int, title: str | None = None) -> Path:
    """A PDF of `n_pages` scanned pages: each only an image, no text layer at all."""
    return write_pdf(path, [""] * n_pages, title, scanned_pages=range(1, n_pages + 1))


def write_encrypted_pdf(path: Path, text: str, user_password: str = "user") -> Path:
    """A one-page PDF with `text` that cannot be opened without `user_password`."""
    pdf, family = _new_pdf(None, None)
    pdf.add_page()
    pdf.set_font(family, size=FONT_SIZE)
    pdf.multi_cell(0, LINE_HEIGHT, text)
    pdf.set_encryption(owner_password="owner-" + user_password, user_password=user_password)
    pdf.output(str(path))
    return path


def write_docx(path: Path, paragraphs: Sequence[str], page_breaks_after: Iterable[int] = (), *,
               heading: str | None = None, title: str | None = None) -> Path:
    """A Word document: an optional level-1 `heading`, then `paragraphs`; an explicit page break follows each
    paragraph whose 0-based index is in `page_breaks_after`; `title` goes in the document properties."""
    breaks = set(page_breaks_after)
    document = Document()
    if title is not None:
        document.core_properties.title = title
    if heading is not None:
        document.add_heading(heading, level=1)
    for index, text in enumerate(paragraphs):
        paragraph = document.add_paragraph(text)
        if index in breaks:
            paragraph.add_run().add_break(WD_BREAK.PAGE)
    document.save(str(path))
    return path


def write_sectioned_docx(path: Path, sections: Sequence[tuple[Sequence[tuple[str, str | None]], str, int | None]],
                         *, number_formats: Sequence[str | None] = ()) -> Path:
    """A Word document of sections, each (paragraphs as (text, style name or None), how it starts, where its page
    numbers restart or None): the start is python-docx's WD_SECTION name ("NEW_PAGE", "CONTINUOUS", "ODD_PAGE")
    and is ignored for the first section; a restart writes w:pgNumType w:start, and `number_formats[i]` (a w:fmt
    such as "lowerRoman") section i's number format."""
    document = Document()
    for index, (paragraphs, start, restart) in enumerate(sections):
        number_format = number_formats[index] if index < len(number_formats) else None
        section = document.sections[0] if index == 0 else document.add_section(getattr(WD_SECTION, start))
        for old in section._sectPr.findall(qn("w:pgNumType")):
            section._sectPr.remove(old)
        if restart is not None or number_format is not None:
            numbering = OxmlElement("w:pgNumType")
            if restart is not None:
                numbering.set(qn("w:start"), str(restart))
            if number_format is not None:
                numbering.set(qn("w:fmt"), number_format)
            section._sectPr.append(numbering)
        for text, style in paragraphs:
            document.add_paragraph(text, style=style)
    document.save(str(path))
    return path


def write_html(path: Path, title: str, body_paragraphs: Sequence[str], *, h1: str | None = None,
               encoding: str = "utf-8") -> Path:
    """A saved web page: `<title>`, an optional `<h1>`, the paragraphs in `<main>`, surrounded by the noise a real
    page has (styles, scripts, a navigation bar, a footer, an aside, noscript and template) whose text the library
    must drop — every noise element contains the word NOISEWORD."""
    body = "\n".join(f"    <p>{escape(text)}</p>" for text in body_paragraphs)
    heading = f"  <h1>{escape(h1)}</h1>\n" if h1 is not None else ""
    page = f"""<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="{encoding}">
  <title>{escape(title)}</title>
  <style>body {{ font-family: sans-serif; }} .NOISEWORD {{ color: red; }}</style>
  <script>var NOISEWORD = "<p>not text</p>"; if (1 < 2) {{ console.log(NOISEWORD); }}</script>
</head>
<body>
  <nav><a href="/">Home NOISEWORD</a> | <a href="/about">About</a></nav>
  <noscript>Enable JavaScript NOISEWORD</noscript>
  <template><p>template NOISEWORD</p></template>
{heading}  <main>
{body}
  </main>
  <aside>Related NOISEWORD links</aside>
  <footer>Copyright NOISEWORD 2026</footer>
  <script src="tracker.js">/* NOISEWORD */</script>
</body>
</html>
"""
    path.write_bytes(page.encode(encoding))
    return path


def write_markdown(path: Path, title: str, paragraphs: Sequence[str]) -> Path:
    """A Markdown note in UTF-8: a `# title` heading, then the paragraphs separated by blank lines."""
    path.write_text(f"# {title}\n\n" + "\n\n".join(paragraphs) + "\n", encoding="utf-8")
    return path


def write_text(path: Path, text: str, encoding: str = "utf-8") -> Path:
    """A plain-text file in `encoding` (Python codec name; "utf-16" and "utf-8-sig" write a byte-order mark)."""
    path.write_bytes(text.encode(encoding))
    return path
