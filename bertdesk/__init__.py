"""bertdesk: look inside a BERT model and use it, fully offline."""

__version__ = "0.1.0"
