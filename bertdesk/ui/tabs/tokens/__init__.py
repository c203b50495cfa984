"""The Tokens tab: how the model's tokenizer splits a text into pieces."""

from bertdesk.ui.tabs.tokens.tab import TokensTab

Tab = TokensTab

__all__ = ["Tab", "TokensTab"]
