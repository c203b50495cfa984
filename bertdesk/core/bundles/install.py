"""Installing a bundle folder: written beside its target, checked to open and run, swapped in under the target's lock.

Every way a bundle lands in place (a conversion, the default model's set-up, an import or a download) goes through
`install_bundle`, so a kill at any moment leaves the old bundle or the new one at the target, a folder bertdesk did
not make is never replaced, and the leftovers of a killed install are removed by the next one
(`bertdesk.core.files.safety`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from bertdesk.core.bundles.config import read_json
from bertdesk.core.bundles.names import (
    BUNDLE_METADATA,
    MADE_BY,
    MADE_BY_KEY,
    MANIFEST,
    QUANTIZED_GRAPH,
    TOKENIZER_FILES,
)
from bertdesk.core.errors import BertdeskError, BundleError, IntrospectionError, StorageError
from bertdesk.core.files.safety import (
    STAGING,
    helper_folder,
    occupied,
    prepare_parent,
    remove_stale,
    replace_folder,
    target_lock,
)
from bertdesk.core.jobs import JobHandle

# Every file bertdesk writes into a bundle; a folder holding anything else is not replaced.
# model-inferred.onnx: onnxruntime's quantizer wrote its shape-inferred scratch beside the graph before it
# was handed the graph in memory; a setup killed while quantizing left it there.
BUNDLE_FILES = frozenset({"model.onnx", "model.onnx.data", "config.json", BUNDLE_METADATA, MANIFEST,
                          MANIFEST + ".tmp", "model-inferred.onnx", *TOKENIZER_FILES})
# What bertdesk writes into a bundle's onnx/ folder.
_VARIANT_FILES = frozenset({QUANTIZED_GRAPH.split("/")[1]})
# Left by an interrupted atomic write of one of those files: ".bertdesk.json.1234.tmp".
_LEFTOVER = re.compile(r"\.(?P<name>.+)\.\d+\.tmp")


def foreign_content(folder: Path) -> str | None:
    """Why `folder` is not a bundle bertdesk made and may not be replaced, or None if it is one.

    A bundle of ours has a bertdesk.json naming bertdesk as its maker and only the files bertdesk writes, so
    replacing it can lose nothing of the user's.
    """
    try:
        metadata = read_json(folder / BUNDLE_METADATA)
        names = sorted(p.name for p in folder.iterdir())
    except (OSError, BertdeskError):
        return f"it has no readable {BUNDLE_METADATA}"
    made_by = metadata.get(MADE_BY_KEY) if isinstance(metadata, dict) else None
    # Bundles from before the made_by mark name bertdesk as their converter.
    converter = metadata.get("converter") if isinstance(metadata, dict) else None
    if made_by != MADE_BY and not (isinstance(converter, str) and converter.startswith("bertdesk ")):
        return f"its {BUNDLE_METADATA} does not name bertdesk as its maker"
    others = [name for name in names if not _ours(name, BUNDLE_FILES)]
    if "onnx" in others and (folder / "onnx").is_dir():
        try:
            variants = sorted(p.name for p in (folder / "onnx").iterdir())
        except OSError:
            return "its onnx folder cannot be read"
        others = [name for name in others if name != "onnx"]
        others += [f"onnx/{name}" for name in variants if not _ours(name, _VARIANT_FILES)]
    if others:
        return "it also holds " + ", ".join(others[:5]) + (" …" if len(others) > 5 else "")
    return None


def _ours(name: str, written: frozenset[str]) -> bool:
    leftover = _LEFTOVER.fullmatch(name)
    return name in written or (leftover is not None and leftover["name"] in written)


def check_target(target: Path, taken: BertdeskError | None) -> None:
    """Refuse a target an install may not write: a folder there at all when `taken` (the error to raise) is given,
    else one bertdesk did not make (StorageError)."""
    if not occupied(target):
        return
    if taken is not None:
        raise taken
    reason = foreign_content(target)
    if reason:
        raise StorageError(f"{target} is not a bundle bertdesk made ({reason}): bertdesk replaces only those, so "
                           "nothing was changed")


def check_runs(folder: Path, error: type[BertdeskError] = BundleError) -> None:
    """Load the bundle in `folder` as the app will and run one tiny input (with its per-layer internals, if it has
    them): a bundle that cannot is refused with `error`."""
    import numpy as np

    from bertdesk.core.bundles.bundle import Bundle, NonFiniteOutput

    non_finite = error("the model gives NaN or infinite values on a test input")
    try:
        bundle = Bundle(folder, threads=1)
        ids = bundle.model_tokenizer.encode("a test").ids[: bundle.info.max_positions] or [0]
        outputs = bundle.run(np.array([ids]), internals=bundle.info.has_internals)
    except NonFiniteOutput:
        raise non_finite from None
    except (BundleError, IntrospectionError) as exc:
        raise error(f"the model does not load: {exc}") from exc
    except Exception as exc:  # onnxruntime raises its own untyped errors for graphs that fail at run time
        raise error(f"the model fails on a test input: {exc}") from exc
    if not all(np.isfinite(value).all() for value in outputs.values()):  # the per-layer internals too
        raise non_finite


def install_bundle(
    target: Path,
    build: Callable[[Path], None],
    *,
    handle: JobHandle,
    taken: BertdeskError | None = None,
    error: type[BertdeskError] = BundleError,
    installed: Callable[[Path], bool] | None = None,
) -> bool:
    """Put the bundle that `build(staging)` writes into the empty folder `staging` at `target`; returns whether it
    did (False: `installed(target)` found, under the lock, that another process installed it meanwhile).

    Under `target`'s lock, the leftovers of killed installs are removed and the target is checked (`check_target`:
    `taken` is raised for any folder there; without it only a bundle bertdesk made is replaced); the bundle is built
    in a staging folder beside the target, checked to load and run (`check_runs`, refused with `error`) and swapped
    into place. A failure, a cancel or a kill leaves the target as it was. `build` reports its progress up to 0.9.
    """
    prepare_parent(target)
    with target_lock(target):
        if installed is not None and installed(target):
            return False
        remove_stale(target)
        check_target(target, taken)
        with helper_folder(target, STAGING) as staging:
            build(staging)
            handle.check()
            handle.progress(0.9, "checking that the bundle runs")
            check_runs(staging, error)
            handle.check()
            replace_folder(staging, target)
    return True
