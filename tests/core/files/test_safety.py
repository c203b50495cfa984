"""Locks and leftovers beside a target: nothing bertdesk did not make is deleted, followed or waited on for ever, and
what a killed run left is removed by the next one."""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bertdesk.core.errors import StorageError
from bertdesk.core.files.safety import LOCK_MARK, clear_stale_lock, remove_stale, target_lock
from tests.conftest import ROOT

HOLD_LOCK = """
import sys, time
from pathlib import Path
from bertdesk.core.files.safety import target_lock
with target_lock(Path(sys.argv[1])):
    print("locked", flush=True)
    time.sleep(600)
"""


def _holder(target: Path) -> subprocess.Popen:
    """A child process that holds the lock of `target` until it is killed."""
    child = subprocess.Popen([sys.executable, "-c", HOLD_LOCK, str(target)], stdout=subprocess.PIPE, text=True,
                             cwd=ROOT)
    assert child.stdout is not None and child.stdout.readline() == "locked\n"
    return child


def _dead_pid() -> int:
    """The id of a process that has ended."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_a_users_own_file_at_the_lock_path_is_locked_and_kept(tmp_path: Path) -> None:
    target = tmp_path / "model"
    mine = tmp_path / ".model.lock"
    mine.write_text("my own notes\n")
    for _ in range(2):
        with target_lock(target):
            assert mine.read_text() == "my own notes\n"
    assert mine.read_text() == "my own notes\n"


def test_the_lock_file_bertdesk_made_is_marked_and_removed_on_release(tmp_path: Path) -> None:
    target = tmp_path / "model"
    with target_lock(target):
        assert (tmp_path / ".model.lock").read_bytes() == LOCK_MARK
    assert not (tmp_path / ".model.lock").exists()


def test_a_link_at_the_lock_path_is_refused_and_not_followed(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    secret = outside / "thesis.txt"
    secret.write_text("chapter 1\n")
    models = tmp_path / "models"
    models.mkdir()
    (models / ".model.lock").symlink_to(secret)
    (models / ".other.lock").symlink_to(outside / "absent")
    for name in ("model", "other"):
        with pytest.raises(StorageError, match="is a link, not a lock file bertdesk made"), \
                target_lock(models / name):
            pass
    assert secret.read_text() == "chapter 1\n" and sorted(p.name for p in outside.iterdir()) == ["thesis.txt"]
    assert (models / ".model.lock").is_symlink() and (models / ".other.lock").is_symlink()


def test_a_fifo_at_the_lock_path_is_refused_at_once(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / ".model.lock")
    with pytest.raises(StorageError, match="is not a file bertdesk made"), target_lock(tmp_path / "model"):
        pass
    assert (tmp_path / ".model.lock").exists()


def test_a_lock_left_by_a_killed_holder_is_cleared_and_a_live_one_kept(tmp_path: Path) -> None:
    target = tmp_path / "model"
    holder = _holder(target)
    try:
        clear_stale_lock(target)  # held: kept
        assert (tmp_path / ".model.lock").read_bytes() == LOCK_MARK
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    assert (tmp_path / ".model.lock").exists()  # a kill -9 runs no clean-up
    clear_stale_lock(target)
    assert not (tmp_path / ".model.lock").exists()
    (tmp_path / ".model.lock").write_text("mine\n")
    clear_stale_lock(target)  # not one bertdesk made
    assert (tmp_path / ".model.lock").read_text() == "mine\n"


def test_writers_of_one_target_still_take_turns(tmp_path: Path) -> None:
    target = tmp_path / "model"
    holder = _holder(target)
    waiter = subprocess.Popen([sys.executable, "-c", HOLD_LOCK, str(target)], stdout=subprocess.PIPE, text=True,
                              cwd=ROOT)
    try:
        time.sleep(1.0)
        assert waiter.poll() is None
        holder.send_signal(signal.SIGKILL)
        holder.wait()
        assert waiter.stdout is not None and waiter.stdout.readline() == "locked\n"
    finally:
        for child in (holder, waiter):
            child.kill()
            child.wait()


def test_temporary_files_and_folders_of_dead_runs_are_removed_and_live_ones_kept(tmp_path: Path) -> None:
    target = tmp_path / "model_quantized.onnx"
    dead, alive = _dead_pid(), os.getpid()
    (tmp_path / f".model_quantized.onnx.{dead}.tmp").mkdir()
    (tmp_path / f".model_quantized.onnx.{dead}.tmp" / "scratch.onnx").write_bytes(b"x" * 10)
    (tmp_path / f".bertdesk.json.{dead}.tmp").write_text("{}")  # another target's: not this one's to remove
    (tmp_path / f".model_quantized.onnx.{alive}.tmp").mkdir()
    (tmp_path / "model_quantized.onnx.1.tmp").write_text("the user's")
    remove_stale(target)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [f".bertdesk.json.{dead}.tmp", f".model_quantized.onnx.{alive}.tmp", "model_quantized.onnx.1.tmp"])


def _tree(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else "dir"
            for p in sorted(folder.rglob("*"))}


@pytest.mark.slow
def test_quantize_killed_mid_way_leaves_nothing_the_next_run_keeps(tmp_path: Path, tiny_bundle: Path) -> None:
    bundle = tmp_path / "tiny"
    shutil.copytree(tiny_bundle, bundle)
    shutil.rmtree(bundle / "onnx", ignore_errors=True)
    command = [sys.executable, "-m", "bertdesk", "quantize", str(bundle)]
    env = {**os.environ, "BERTDESK_DATA": str(tmp_path / "data")}
    child = subprocess.Popen(command, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True, env=env, cwd=ROOT)
    assert child.stderr is not None
    assert "quantizing" in child.stderr.readline()
    deadline = time.monotonic() + 120
    while not list((bundle / "onnx").glob(".*.tmp")) and child.poll() is None and time.monotonic() < deadline:
        time.sleep(0.005)
    child.send_signal(signal.SIGKILL)
    child.wait()
    left = list((bundle / "onnx").glob(".*.tmp"))
    if not left:
        pytest.skip("the run ended before its work folder could be seen")
    done = subprocess.run(command, capture_output=True, text=True, env=env, cwd=ROOT, timeout=300)
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in (bundle / "onnx").iterdir()) == ["model_quantized.onnx"]
    assert not [p for p in bundle.iterdir() if p.name.startswith(".")]


def test_setup_on_an_installed_model_clears_a_lock_a_killed_run_left(tmp_path: Path, default_bundle_dir: Path
                                                                     ) -> None:
    models = tmp_path / "models"
    shutil.copytree(default_bundle_dir, models / default_bundle_dir.name)
    before = _tree(models / default_bundle_dir.name)
    holder = _holder(models / default_bundle_dir.name)
    holder.send_signal(signal.SIGKILL)
    holder.wait()
    assert (models / f".{default_bundle_dir.name}.lock").exists()
    env = {**os.environ, "BERTDESK_MODELS": str(models), "BERTDESK_DATA": str(tmp_path / "data")}
    done = subprocess.run([sys.executable, "-m", "bertdesk", "setup"], capture_output=True, text=True, env=env,
                          cwd=ROOT, timeout=300)
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in models.iterdir()) == [default_bundle_dir.name]
    assert _tree(models / default_bundle_dir.name) == before


@pytest.mark.parametrize("points_to", ["nowhere", "a-folder"])
def test_convert_never_writes_through_a_link_at_its_output(tmp_path: Path, points_to: str) -> None:
    from bertdesk.core.conversion.convert import convert_checkpoint
    from tests.checkpoints import make_checkpoint

    checkpoint = make_checkpoint(tmp_path / "checkpoint", "bert", "encoder")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    destination = elsewhere / points_to
    if points_to == "a-folder":
        destination.mkdir()
    (tmp_path / "out").symlink_to(destination)
    with pytest.raises(StorageError, match="is a link: give the folder itself"):
        convert_checkpoint(checkpoint, tmp_path / "out", force=True)
    assert os.readlink(tmp_path / "out") == str(destination)
    assert [p.name for p in elsewhere.rglob("*")] == ([] if points_to == "nowhere" else ["a-folder"])


def test_quantize_reads_no_fifo_as_bertdesk_json(tmp_path: Path, tiny_bundle: Path) -> None:
    bundle = tmp_path / "tiny"
    shutil.copytree(tiny_bundle, bundle)
    shutil.rmtree(bundle / "onnx", ignore_errors=True)
    (bundle / "onnx").mkdir()
    (bundle / "onnx" / "model_quantized.onnx").write_bytes(b"the user's own")
    (bundle / "bertdesk.json").unlink()
    os.mkfifo(bundle / "bertdesk.json")
    # The core function as the window's model manager calls it (the CLI refuses such a bundle before it).
    script = ("import sys\nfrom bertdesk.core.errors import BundleError\nfrom bertdesk.core.conversion.quantize import "
              "quantize_bundle\ntry:\n    quantize_bundle(sys.argv[1])\nexcept BundleError as exc:\n    print(exc)")
    done = subprocess.run([sys.executable, "-c", script, str(bundle)], capture_output=True, text=True, cwd=ROOT,
                          timeout=60)  # the FIFO once hung it for ever
    assert done.returncode == 0 and "exists and bertdesk did not make it" in done.stdout, done.stderr
    assert (bundle / "onnx" / "model_quantized.onnx").read_bytes() == b"the user's own"
