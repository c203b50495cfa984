"""The public API of bertdesk.core.tokens: what the front ends import from it."""

from .locator import TokenLocator as TokenLocator, Utf16Offsets as Utf16Offsets
from .notes import normalization_note as normalization_note, word_count as word_count
from .token_export import write_tokens as write_tokens
from .tokenization import Token as Token, Tokenization as Tokenization, tokenize as tokenize
