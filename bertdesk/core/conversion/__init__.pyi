"""The public API of bertdesk.core.conversion: what the front ends import from it."""

from .convert import convert_checkpoint as convert_checkpoint
from .quantize import QUANTIZED_GRAPH as QUANTIZED_GRAPH, quantize_bundle as quantize_bundle
