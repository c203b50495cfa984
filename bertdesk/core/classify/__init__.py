"""Classification: fine-tuned heads, zero-shot with an embedding model, few-shot heads trained here, streaming
batches over files, and per-word explanations by occlusion. Qt-free.

The public names are declared in `__init__.pyi` and imported on first use, so that importing the package
costs nothing (the window's first paint comes before numpy and onnxruntime are imported)."""

import lazy_loader

__getattr__, __dir__, __all__ = lazy_loader.attach_stub(__name__, __file__)
