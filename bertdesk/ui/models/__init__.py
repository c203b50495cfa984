"""The model UI every tab shares: the model picker and the controller that loads the chosen model off the GUI
thread, the model information panel, the Models menu and the model manager dialog.

The public names are declared in `__init__.pyi` and imported on first use (lazy_loader)."""

import lazy_loader

__getattr__, __dir__, __all__ = lazy_loader.attach_stub(__name__, __file__)
