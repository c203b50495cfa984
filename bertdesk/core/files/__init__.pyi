"""The public API of bertdesk.core.files: what the front ends import from it."""

from .export import (
    BarsData as BarsData,
    CurvesData as CurvesData,
    ExportData as ExportData,
    MatrixData as MatrixData,
    TableData as TableData,
    write_atomic as write_atomic,
    write_export as write_export,
)
from .folders import data_dir as data_dir, models_dir as models_dir
from .streams import stdout_descriptor_to_stderr as stdout_descriptor_to_stderr
from .text import decode_text as decode_text, detect_encoding as detect_encoding, read_text_file as read_text_file
