"""The public API of bertdesk.ui.models: what the rest of the window imports from it."""

from .controller import ModelController as ModelController, open_model as open_model
from .info_dock import ModelInfoPanel as ModelInfoPanel
from .menu import open_manager as open_manager, populate_models_menu as populate_models_menu
from .picker import ModelPicker as ModelPicker, bundle_line as bundle_line
