"""Fixtures of the CLI tests: the model-manager commands use the model tests' own folder, Hub and small models."""

from __future__ import annotations

from tests.core.models.conftest import hub_online, models_home, onnx_export, qa_checkpoint

__all__ = ["hub_online", "models_home", "onnx_export", "qa_checkpoint"]
