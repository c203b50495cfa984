"""`install_bundle`, the one install transaction: a failed, cancelled or unrunnable build leaves the target as it was
and nothing beside it; only a bundle bertdesk made is replaced; an install found done under the lock is skipped."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from bertdesk.core.bundles.install import install_bundle
from bertdesk.core.errors import BertdeskError, BundleError, CheckpointError, JobCancelled, StorageError
from bertdesk.core.jobs import JobHandle


def _files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _copy_of(bundle: Path, then: Callable[[Path], None] = lambda staging: None) -> Callable[[Path], None]:
    """A build that writes a copy of `bundle` into the staging folder, then does `then` to it."""

    def build(staging: Path) -> None:
        shutil.copytree(bundle, staging, dirs_exist_ok=True)
        then(staging)

    return build


def _fail(staging: Path) -> None:
    raise BundleError("the build failed half-way")


def _corrupt(staging: Path) -> None:
    (staging / "model.onnx").write_bytes(b"not a graph")


def test_a_failed_cancelled_or_unrunnable_build_leaves_the_old_bundle_and_nothing_beside_it(
    tiny_bundle: Path, tmp_path: Path
) -> None:
    target = shutil.copytree(tiny_bundle, tmp_path / "model")
    (target / "bertdesk.json").write_text((target / "bertdesk.json").read_text() + "\n")  # tell old from new
    before = _files(target)
    cancelled = JobHandle()
    for build, handle, error in ((_copy_of(tiny_bundle, _fail), JobHandle(), BundleError),
                                 (_copy_of(tiny_bundle, lambda staging: cancelled.cancel()), cancelled, JobCancelled),
                                 (_copy_of(tiny_bundle, _corrupt), JobHandle(), CheckpointError)):
        with pytest.raises(error):
            install_bundle(target, build, handle=handle, error=CheckpointError)
        assert _files(target) == before
        assert [p.name for p in tmp_path.iterdir()] == ["model"], "no staging folder or lock may be left"
    assert install_bundle(target, _copy_of(tiny_bundle), handle=JobHandle())
    assert _files(target) == _files(tiny_bundle)
    assert [p.name for p in tmp_path.iterdir()] == ["model"]


def test_only_a_bundle_bertdesk_made_is_replaced_and_a_taken_target_never(tiny_bundle: Path, tmp_path: Path) -> None:
    target = tmp_path / "model"
    target.mkdir()
    (target / "notes.txt").write_text("mine", encoding="utf-8")
    with pytest.raises(StorageError, match="is not a bundle bertdesk made"):
        install_bundle(target, _copy_of(tiny_bundle), handle=JobHandle())
    assert _files(target) == {"notes.txt": b"mine"}

    shutil.rmtree(target)
    shutil.copytree(tiny_bundle, target)
    taken = BertdeskError("a model named 'model' is already installed")
    with pytest.raises(BertdeskError) as refused:
        install_bundle(target, _fail, handle=JobHandle(), taken=taken)
    assert refused.value is taken and _files(target) == _files(tiny_bundle)


def test_an_install_found_done_under_the_lock_is_skipped(tiny_bundle: Path, tmp_path: Path) -> None:
    target = shutil.copytree(tiny_bundle, tmp_path / "model")
    assert not install_bundle(target, _fail, handle=JobHandle(), installed=lambda folder: folder == target)
    assert _files(target) == _files(tiny_bundle)
