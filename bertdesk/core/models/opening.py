"""Opening the model a front end was given, or else the default model: the one place that may install it."""

from __future__ import annotations

from pathlib import Path

from bertdesk.core.bundles.bundle import Bundle, open_model
from bertdesk.core.jobs import JobHandle
from bertdesk.core.models.default_model import ensure_default_model


def open_model_or_default(name_or_path: str | Path | None, *, precision: str | None = None,
                          handle: JobHandle | None = None) -> Bundle:
    """`name_or_path` opened as `open_model` opens it; None opens the default model, installed on first use."""
    folder = ensure_default_model(handle=handle) if name_or_path is None else name_or_path
    return open_model(folder, precision=precision, handle=handle)
