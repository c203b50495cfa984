"""Hugging Face checkpoint folders → ONNX bundles, without torch: the safetensors reader, the graph builder,
the conversion itself and int8 variants.

The public names are declared in `__init__.pyi` and imported on first use, so that importing the package
costs nothing (the window's first paint comes before numpy and onnxruntime are imported)."""

import lazy_loader

__getattr__, __dir__, __all__ = lazy_loader.attach_stub(__name__, __file__)
