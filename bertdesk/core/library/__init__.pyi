"""The public API of bertdesk.core.library: what the front ends import from it."""

from .ask import (
    LibraryAnswer as LibraryAnswer,
    LibraryResult as LibraryResult,
    ask_command as ask_command,
    ask_library as ask_library,
)
from .embedder_choice import open_library_embedder as open_library_embedder
from .folder_scan import source_files as source_files
from .formats import SUPPORTED_SUFFIXES as SUPPORTED_SUFFIXES
from .indexer import IndexProgress as IndexProgress, index_queue as index_queue
from .pdf_pages import render_page as render_page, text_boxes as text_boxes
from .records import (
    DocumentInfo as DocumentInfo,
    ImportFailure as ImportFailure,
    LibraryStats as LibraryStats,
    SourceInfo as SourceInfo,
)
from .schema import read_only_reason as read_only_reason
from .store import (
    LibraryStore as LibraryStore,
    default_db_path as default_db_path,
    has_background_work as has_background_work,
)
from .watch import FolderWatcher as FolderWatcher
