"""The offline document library: SQLite store, import per format, passages, hybrid retrieval, ask.

The public names are declared in `__init__.pyi` and imported on first use, so that importing the package
costs nothing before the window's first paint."""

import lazy_loader

__getattr__, __dir__, __all__ = lazy_loader.attach_stub(__name__, __file__)
