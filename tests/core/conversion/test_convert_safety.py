"""`convert --force` replaces only bundles bertdesk made, never the checkpoint, a folder holding it or the user's files;
output-path problems are one clear StorageError; bundles get the user's umask."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bertdesk.core.bundles.bundle import Bundle
from bertdesk.core.bundles.names import BUNDLE_METADATA
from bertdesk.core.conversion.convert import convert_checkpoint
from bertdesk.core.errors import CheckpointError, ReplaceExisting, StorageError
from tests.checkpoints import make_checkpoint


def tree_hash(root: Path) -> dict[str, str]:
    """Every path under `root` (folders too) with its content hash: any change, addition or loss shows."""
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else "dir"
        for p in sorted(root.rglob("*"))
    }


@pytest.fixture(scope="module")
def checkpoint_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_checkpoint(tmp_path_factory.mktemp("template") / "ckpt", "bert", "encoder")


@pytest.fixture
def work(tmp_path: Path, checkpoint_template: Path) -> Path:
    """A user folder holding a checkpoint and some files of the user's own."""
    import shutil

    shutil.copytree(checkpoint_template, tmp_path / "work" / "ckpt")
    (tmp_path / "work" / "notes.txt").write_text("mine", encoding="utf-8")
    (tmp_path / "work" / "papers").mkdir()
    (tmp_path / "work" / "papers" / "draft.tex").write_text("mine too", encoding="utf-8")
    return tmp_path / "work"


def test_force_onto_the_checkpoint_itself_keeps_it(work: Path) -> None:
    before = tree_hash(work)
    with pytest.raises(StorageError, match="is the checkpoint folder itself"):
        convert_checkpoint(work / "ckpt", work / "ckpt", force=True)
    assert tree_hash(work) == before


def test_force_onto_the_checkpoints_parent_keeps_it(work: Path) -> None:
    before = tree_hash(work)
    with pytest.raises(StorageError, match="contains the checkpoint folder"):
        convert_checkpoint(work / "ckpt", work / "ckpt" / "..", force=True)
    assert tree_hash(work) == before


def test_force_onto_the_current_folder_keeps_it(work: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`cd other && convert ../work/ckpt . --force` must not empty the user's current folder."""
    other = tmp_path / "other"
    other.mkdir()
    (other / "thesis.txt").write_text("years of work", encoding="utf-8")
    monkeypatch.chdir(other)
    before = tree_hash(tmp_path)
    with pytest.raises(StorageError, match="not a bundle bertdesk made"):
        convert_checkpoint(work / "ckpt", ".", force=True)
    assert tree_hash(tmp_path) == before


def test_force_onto_a_folder_inside_the_checkpoint_or_a_link_to_it_is_refused(work: Path) -> None:
    (work / "link").symlink_to(work / "ckpt")
    before = tree_hash(work)
    with pytest.raises(StorageError, match="is the checkpoint folder itself"):
        convert_checkpoint(work / "link", work / "ckpt", force=True)
    with pytest.raises(StorageError, match="is a link: give the folder itself"):  # never written through
        convert_checkpoint(work / "ckpt", work / "link", force=True)
    with pytest.raises(StorageError, match="lies inside the checkpoint folder"):
        convert_checkpoint(work / "link", work / "ckpt" / "bundle", force=True)
    assert tree_hash(work) == before


def test_force_replaces_only_bundles_bertdesk_made(work: Path) -> None:
    before = tree_hash(work)
    with pytest.raises(StorageError, match="not a bundle bertdesk made"):
        convert_checkpoint(work / "ckpt", work / "papers", force=True)
    with pytest.raises(StorageError, match="is a file"):
        convert_checkpoint(work / "ckpt", work / "notes.txt", force=True)
    assert tree_hash(work) == before

    bundle = convert_checkpoint(work / "ckpt", work / "bundle")
    (bundle / "my-results.csv").write_text("kept", encoding="utf-8")
    before = tree_hash(work)
    with pytest.raises(StorageError, match="it also holds my-results.csv"):
        convert_checkpoint(work / "ckpt", bundle, force=True, internals=True)
    assert tree_hash(work) == before

    foreign = work / "made-elsewhere"
    foreign.mkdir()
    (foreign / BUNDLE_METADATA).write_text(json.dumps({"converter": "other-tool 1.0"}), encoding="utf-8")
    with pytest.raises(StorageError, match="does not name bertdesk"):
        convert_checkpoint(work / "ckpt", foreign, force=True)


def test_force_replaces_our_bundle_and_leaves_nothing_beside_it(work: Path) -> None:
    bundle = convert_checkpoint(work / "ckpt", work / "bundle")
    assert json.loads((bundle / BUNDLE_METADATA).read_text())["made_by"] == "bertdesk"
    with pytest.raises(CheckpointError, match="already exists$") as refused:
        convert_checkpoint(work / "ckpt", bundle, internals=True)
    assert refused.value.remedies == (ReplaceExisting(),)
    assert not Bundle(bundle).info.has_internals
    assert convert_checkpoint(work / "ckpt", bundle, internals=True, force=True) == bundle
    assert Bundle(bundle).info.has_internals
    assert sorted(p.name for p in work.iterdir()) == ["bundle", "ckpt", "notes.txt", "papers"]


def test_an_empty_folder_is_filled_without_force(work: Path) -> None:
    (work / "empty").mkdir()
    convert_checkpoint(work / "ckpt", work / "empty")
    assert Bundle(work / "empty").info.num_layers == 2


def _dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def test_stale_helpers_of_dead_processes_are_cleaned_and_an_old_bundle_put_back(work: Path) -> None:
    old = convert_checkpoint(work / "ckpt", work / "bundle")
    pid = _dead_pid()
    # A swap without atomic exchange was killed after moving the old bundle aside: it goes back.
    old.rename(work / f".bundle.trash-{pid}-0123abcd")
    staging = work / f".bundle.staging-{pid}-89abcdef"
    staging.mkdir()
    (staging / "model.onnx").write_bytes(b"half written")
    alive = work / f".bundle.staging-{os.getpid()}-00000000"
    alive.mkdir()
    before = tree_hash(work)
    convert_checkpoint(work / "ckpt", work / "other-bundle")
    assert {k: v for k, v in tree_hash(work).items() if not k.startswith("other-bundle")} == before, (
        "only the helpers of the target being written are touched"
    )
    with pytest.raises(CheckpointError, match="already exists"):
        convert_checkpoint(work / "ckpt", work / "bundle")
    assert Bundle(work / "bundle").info.num_layers == 2, "the old bundle is back in place"
    assert not (work / f".bundle.trash-{pid}-0123abcd").exists() and not staging.exists()
    assert alive.exists(), "a live process's staging folder is left alone"


def test_bundles_get_the_users_umask(work: Path) -> None:
    old = os.umask(0o022)
    try:
        bundle = convert_checkpoint(work / "ckpt", work / "bundle")
    finally:
        os.umask(old)
    assert bundle.stat().st_mode & 0o777 == 0o755
    assert {p.stat().st_mode & 0o777 for p in bundle.iterdir()} == {0o644}


@pytest.mark.parametrize("where", ["under-a-file", "read-only", "long-name"])
def test_unusable_output_paths_are_one_clear_storage_error(work: Path, where: str) -> None:
    if where == "under-a-file":
        out = work / "notes.txt" / "bundle"
    elif where == "long-name":
        out = work / ("b" * 300)
    elif os.geteuid() == 0:  # root writes through permission bits; sysfs refuses even root
        if not Path("/sys").is_dir():
            pytest.skip("needs a folder that refuses root: /sys is absent")
        out = Path("/sys/bertdesk-out")
    else:
        (work / "ro").mkdir(mode=0o555)
        out = work / "ro" / "bundle"
    before = tree_hash(work)
    with pytest.raises(StorageError) as caught:
        convert_checkpoint(work / "ckpt", out)
    message = str(caught.value)
    assert "\n" not in message and str(out.parent) in message, message
    assert tree_hash(work) == before
