"""The public API of bertdesk.ui.widgets: what the rest of the window imports from it."""

from .bars import Bars as Bars
from .curves import Curves as Curves
from .explanation import Explanation as Explanation
from .export_action import ExportButton as ExportButton
from .heatmap import Heatmap as Heatmap
from .open_path import open_path as open_path
from .plot_axes import style_plot as style_plot
from .text_box import TextBox as TextBox, replace_text as replace_text
from .wrapped_label import wrapped_label as wrapped_label
