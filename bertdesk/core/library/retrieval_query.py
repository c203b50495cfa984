"""A question as the library's searches read it: words for a safe FTS5 query, quoted phrases, and long n-grams for
the exact-phrase boost."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

#: Words that say little about what is asked: left out of the BM25 query (unless nothing else is left), and an
#: n-gram made only of them earns no phrase boost.
STOPWORDS = frozenset(
    "a an and are as at be been but by can could did do does for from had has have how i in into is it its of on or "
    "s so than that the their them then there these they this to was were what when where which who whom whose why "
    "will with would you your".split()
)
#: At most this many distinct words go into the BM25 query (a pasted page must not make a query of thousands).
MAX_QUERY_WORDS = 32
#: The longest n-gram of the question looked for verbatim, and the shortest that earns a boost.
MAX_NGRAM = 8
MIN_NGRAM = 3
#: N-grams come from the question's first words only (a pasted page must not make thousands to look for).
NGRAM_WORDS = 48

_WORD = re.compile(r"\w+")
# A phrase the user quoted: "…", “…” or «…».
_QUOTED = re.compile(r"\"([^\"]+)\"|“([^”]+)”|«([^»]+)»")


def words(text: str) -> list[str]:
    """The word tokens of `text` as FTS5's unicode61 tokenizer with remove_diacritics 2 sees them: case-folded,
    accents removed (close enough for the boost; the query quotes each word, so any difference only loses a match)."""
    folded = unicodedata.normalize("NFKD", text.casefold())
    stripped = "".join(c for c in folded if not unicodedata.combining(c))
    return [w for w in _WORD.findall(stripped) if w.strip("_")]


@dataclass(frozen=True)
class ParsedQuestion:
    """What the searches need from a question."""

    terms: tuple[str, ...]              # the BM25 words
    phrases: tuple[tuple[str, ...], ...]  # the quoted phrases' words
    ngrams: tuple[tuple[str, ...], ...]   # the question's n-grams worth a boost, longest first

    def match_expression(self) -> str | None:
        """An FTS5 MATCH expression: every term and quoted phrase as a quoted string, joined by OR; None if the
        question has no words. Quoting every token makes the expression immune to FTS5 syntax (NEAR, *, ^,
        column filters, AND/OR/NOT): a token never holds a double quote, so it cannot close its string."""
        parts = [f'"{t}"' for t in self.terms] + [f'"{" ".join(p)}"' for p in self.phrases if len(p) > 1]
        return " OR ".join(parts) or None


def parse_question(question: str) -> ParsedQuestion:
    """The question's BM25 terms, quoted phrases and boostable n-grams."""
    tokens = words(question)
    content = [t for t in tokens if t not in STOPWORDS]
    terms = list(dict.fromkeys(content or tokens))[:MAX_QUERY_WORDS]
    phrases = []
    for match in _QUOTED.finditer(question):
        phrase = tuple(words(next(g for g in match.groups() if g is not None)))
        if phrase and phrase not in phrases:
            phrases.append(phrase)
    ngrams = []
    head = tokens[:NGRAM_WORDS]
    for n in range(min(MAX_NGRAM, len(head)), MIN_NGRAM - 1, -1):
        for i in range(len(head) - n + 1):
            gram = tuple(head[i : i + n])
            if any(t not in STOPWORDS for t in gram) and gram not in ngrams:
                ngrams.append(gram)
    return ParsedQuestion(tuple(terms), tuple(phrases), tuple(ngrams))


def longest_ngram_in(parsed: ParsedQuestion, text: str) -> int:
    """The length in words of the question's longest n-gram found verbatim (word for word) in `text`; 0 if none."""
    if not parsed.ngrams:
        return 0
    haystack = f" {' '.join(words(text))} "
    for gram in parsed.ngrams:
        if f" {' '.join(gram)} " in haystack:
            return len(gram)
    return 0
