"""Extractive question answering (the pipeline's answers, batched windows) and sentence retrieval without a QA model.

The public names are declared in `__init__.pyi` and imported on first use, so that importing the package
costs nothing (the command line reads the QA defaults while it builds its parser, before numpy is imported)."""

import lazy_loader

__getattr__, __dir__, __all__ = lazy_loader.attach_stub(__name__, __file__)
