"""Notes on a tokenization for the reader: how many words it has, and how the tokenizer's normaliser changed the
text ("Café" → "cafe", "です" → "てす")."""

from __future__ import annotations

import unicodedata

from tokenizers import Tokenizer

from bertdesk.core.tokens.tokenization import Tokenization

#: Words looked at for examples; a long text's first ones are enough to show what the normaliser does.
MAX_WORDS_CHECKED = 5000
MAX_EXAMPLES = 3


def _strip_marks(text: str) -> str:
    return "".join(char for char in unicodedata.normalize("NFD", text) if unicodedata.category(char) != "Mn")


def normalization_note(tokenizer: Tokenizer, tokenization: Tokenization) -> str:
    """A sentence with examples when the tokenizer's normaliser changes the input's words, else ""."""
    normalizer = tokenizer.normalizer
    if normalizer is None:
        return ""
    sources = (tokenization.text, tokenization.pair or "")
    words: dict[tuple[int, int], tuple[int, int]] = {}
    for token in tokenization.tokens:
        if token.word is None or token.segment is None:
            continue
        key = (token.segment, token.word)
        if key not in words and len(words) >= MAX_WORDS_CHECKED:
            break
        start, end = words.get(key, (token.start, token.end))
        words[key] = (min(start, token.start), max(end, token.end))
    examples: dict[str, str] = {}
    lowered = stripped = other = False
    for (segment, _), (start, end) in words.items():
        word = sources[segment][start:end]
        # Spaces the normaliser adds (around Chinese characters) change nothing the pieces show.
        normalized = "".join(normalizer.normalize_str(word).split())
        if normalized == word:
            continue
        if normalized == word.lower():
            lowered = True
        elif normalized in (_strip_marks(word), _strip_marks(word.lower())):
            stripped = True
            lowered = lowered or normalized != _strip_marks(word)
        else:
            other = True
        if len(examples) < MAX_EXAMPLES:
            examples.setdefault(word, normalized)
    if not examples:
        return ""
    how = []
    if lowered:
        how.append("lower-cased")
    if stripped:
        how.append(
            "accents removed: each character is split from its marks (Unicode NFD: é = e + ´, で = て + ゛) "
            "and the marks are dropped"
        )
    if other:
        how.append("other characters replaced or removed")
    shown = ", ".join(f"“{word}” → “{normalized}”" for word, normalized in examples.items())
    return f"The tokenizer changed the text before splitting it ({'; '.join(how)}): {shown}."


def word_count(tokenization: Tokenization) -> int:
    """The pre-tokenizer's words that hold a letter or a digit: "Hello, world!" has two, not four."""
    sources = (tokenization.text, tokenization.pair or "")
    spans: dict[tuple[int, int], tuple[int, int]] = {}
    for token in tokenization.tokens:
        if token.word is None or token.segment is None:
            continue
        key = (token.segment, token.word)
        start, end = spans.get(key, (token.start, token.end))
        spans[key] = (min(start, token.start), max(end, token.end))
    return sum(
        any(char.isalnum() for char in sources[segment][start:end]) for (segment, _), (start, end) in spans.items()
    )
