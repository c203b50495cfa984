"""The public API of bertdesk.core.engine: what the front ends import from it."""

from .embed import embed_stream as embed_stream, embed_texts as embed_texts, resolve_layer as resolve_layer
