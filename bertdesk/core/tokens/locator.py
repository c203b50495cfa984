"""Between characters and tokens: which tokens cover a span of text, and Python vs Qt (UTF-16) positions."""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right

from bertdesk.core.tokens.tokenization import Tokenization

_ASTRAL = re.compile("[\U00010000-\U0010ffff]")


class Utf16Offsets:
    """Converts Python string indices (code points, as token offsets are) to Qt text positions (UTF-16 units)
    and back; they differ after every character outside the Basic Multilingual Plane (most emoji)."""

    def __init__(self, text: str) -> None:
        self._astral = [match.start() for match in _ASTRAL.finditer(text)]
        self._astral_utf16 = [i + k for k, i in enumerate(self._astral)]

    def to_utf16(self, index: int) -> int:
        """The Qt position of Python index `index`."""
        return index + bisect_left(self._astral, index)

    def from_utf16(self, position: int) -> int:
        """The Python index of Qt position `position` (inside a surrogate pair: the character's own index)."""
        return position - bisect_left(self._astral_utf16, position)


class TokenLocator:
    """Finds the tokens of a tokenization that cover a character span of one segment."""

    def __init__(self, tokenization: Tokenization) -> None:
        self.tokenization = tokenization
        self._starts: dict[int, list[int]] = {0: [], 1: []}
        self._indices: dict[int, list[int]] = {0: [], 1: []}
        for token in tokenization.tokens:
            if token.segment is not None and token.end > token.start:
                self._starts.setdefault(token.segment, []).append(token.start)
                self._indices.setdefault(token.segment, []).append(token.index)

    def covering(self, segment: int, start: int, end: int | None = None) -> list[int]:
        """Indices of the tokens of `segment` overlapping characters [start, end).

        With no `end` (a caret position): the token holding character `start`, else the one just before it
        (the caret at the end of a word)."""
        starts = self._starts.get(segment, [])
        indices = self._indices.get(segment, [])
        tokens = self.tokenization.tokens
        if end is None or end <= start:
            for char in (start, start - 1):
                i = bisect_right(starts, char) - 1
                if i >= 0 and tokens[indices[i]].end > char >= 0:
                    return [indices[i]]
            return []
        first = max(bisect_right(starts, start) - 1, 0)
        last = bisect_left(starts, end)
        return [indices[i] for i in range(first, last) if tokens[indices[i]].end > start]
