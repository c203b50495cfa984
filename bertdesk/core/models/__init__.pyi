"""The public API of bertdesk.core.models: what the front ends import from it."""

from .catalog import CatalogEntry as CatalogEntry, catalog_entries as catalog_entries
from .default_model import (
    DEFAULT_MODEL_NAME as DEFAULT_MODEL_NAME,
    WHEEL_NAME as WHEEL_NAME,
    ensure_default_model as ensure_default_model,
    verify as verify,
)
from .hub import ModelDownloadError as ModelDownloadError, is_offline_error as is_offline_error, pull as pull
from .imports import import_folder as import_folder, import_wheel as import_wheel
from .manage import (
    installed_path as installed_path,
    model_origin as model_origin,
    remove_model as remove_model,
    rename_model as rename_model,
)
from .opening import open_model_or_default as open_model_or_default
