"""The user's files, safely: atomic writes, locks and leftovers beside a target, SHA-256 digests, text files
in any encoding, exports (CSV/JSON) of what a view shows, and the models and data folders.

The public names are declared in `__init__.pyi` and imported on first use, so that importing the package
costs nothing (the window's first paint comes before numpy and onnxruntime are imported)."""

import lazy_loader

__getattr__, __dir__, __all__ = lazy_loader.attach_stub(__name__, __file__)
