"""Getting models: the catalogue, downloads from the Hub, imports of local folders, removal.

The public API (used by the CLI's `models` commands and the Models dialog) is re-exported here:

- `catalog_entries() -> list[CatalogEntry]` (catalog.py): the recommended models of models/catalog.toml.
- `pull(repo_id, *, revision="main", name=None, handle=None, endpoint=None) -> Path` (hub.py): download, verify,
  install; raises `ModelDownloadError` (a BertdeskError; `is_offline_error(exc)` says the Hub was unreachable).
- `import_folder(path, *, name=None, handle=None) -> Path`, `import_wheel(path, handle=None) -> Path` (imports.py).
- `remove_model(name, *, in_use)`, `rename_model(old, new, *, in_use) -> Path`, `model_origin(folder)` (manage.py).
"""

from bertdesk.core.models.catalog import CatalogEntry, catalog_entries
from bertdesk.core.models.hub import ModelDownloadError, is_offline_error, pull
from bertdesk.core.models.imports import import_folder, import_wheel
from bertdesk.core.models.manage import model_origin, remove_model, rename_model

__all__ = [
    "CatalogEntry",
    "ModelDownloadError",
    "catalog_entries",
    "import_folder",
    "import_wheel",
    "is_offline_error",
    "model_origin",
    "pull",
    "remove_model",
    "rename_model",
]
