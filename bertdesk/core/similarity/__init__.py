"""Tokens as vectors: cosine similarity per layer (tokens, sentences, [CLS]), attention per layer and head and the
scores before the softmax, causal re-runs, learned position and segment tables, Q/K weights, 2-D projection, and the
one sentence splitter (with offsets).

The public names are declared in `__init__.pyi` and imported on first use, so that importing the package
costs nothing (the window's first paint comes before numpy and onnxruntime are imported)."""

import lazy_loader

__getattr__, __dir__, __all__ = lazy_loader.attach_stub(__name__, __file__)
