"""The drawing widgets every tab shares: heatmaps, curves and bars on pyqtgraph, per-word explanations, text
boxes, wrapped labels and the export button. They know nothing of models or tabs.

The public names are declared in `__init__.pyi` and imported on first use (lazy_loader)."""

import lazy_loader

__getattr__, __dir__, __all__ = lazy_loader.attach_stub(__name__, __file__)
