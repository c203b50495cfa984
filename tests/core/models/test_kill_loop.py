"""kill -9 at random points of `convert --force` and `setup --force`: the target is afterwards absent or a complete,
loadable bundle (the old one or the new one), nothing else in its folder changed, and a rerun succeeds and leaves
no helper folder behind. A child process (pip) dies with its killed parent."""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from bertdesk.core.bundles.bundle import Bundle
from bertdesk.core.models import default_model
from tests.checkpoints import make_checkpoint
from tests.core.conversion.test_convert_safety import tree_hash
from tests.core.models.test_setup_safety import local_wheel

KILLS = 10


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "bertdesk", *args]


def _run_and_kill(command: list[str], env: dict[str, str], delay: float) -> float | None:
    """Run `command`, SIGKILL it after `delay` seconds unless it ended; None if it was killed mid-run, else the
    seconds it took."""
    with tempfile.TemporaryFile("w+", encoding="utf-8", errors="replace") as stderr:
        started = time.monotonic()
        process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=stderr)
        try:
            code = process.wait(timeout=delay)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            return None
        took = time.monotonic() - started
        stderr.seek(0)
        assert code == 0, f"{command} failed with exit code {code}: {stderr.read()[-2000:]}"
    return took


def _busy_span(command: list[str], env: dict[str, str]) -> tuple[float, float]:
    """One uninterrupted run: seconds from its start to its first progress line (before it, the process only
    imports its modules) and to its end."""
    started = time.monotonic()
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    assert process.stderr is not None
    first = process.stderr.readline()
    first_progress = time.monotonic() - started
    rest = process.stderr.read()
    assert process.wait() == 0, first + rest
    return first_progress, time.monotonic() - started


def _outside(parent: Path, target: str) -> dict[str, str]:
    """The folder's tree without the target and the target's own helper folders and lock."""
    return {k: v for k, v in tree_hash(parent).items() if k.split("/")[0] != target
            and not k.startswith(f".{target}.")}


def _kill_loop(
    parent: Path, target: str, command: list[str], env: dict[str, str], before_run: Callable[[int], None],
    check_target: Callable[[Path], None],
) -> tuple[int, int]:
    """Kill `command` at KILLS points spread at random across one run's duration; returns (mid-run kills,
    leftover helper entries seen)."""
    # The faster of two runs: a load spike during a single calibration run would put most kill points after the end.
    start, end = min((_busy_span(command, env) for _ in range(2)), key=lambda span: span[1])
    baseline = _outside(parent, target)
    rng = random.Random()
    seed = rng.randrange(1 << 30)
    rng.seed(seed)
    killed = leftovers = 0
    for i in range(KILLS):
        before_run(i)
        replacing = (parent / target).exists()
        delay = start + (end - start) * (i + rng.random()) / KILLS  # one kill point in each tenth of the work
        took = _run_and_kill(command, env, delay)
        if took is None:
            killed += 1
        else:  # the run ended before the kill: runs are faster now than when timed, so the later points move in
            end = max(start, min(end, took))
        assert _outside(parent, target) == baseline, f"seed {seed}, kill {i} at {delay:.2f}s changed other files"
        assert _temp_files(env) == [], f"seed {seed}, kill {i} left files in the temp folder"
        leftovers += sum(p.name.startswith(f".{target}.") for p in parent.iterdir())
        if (parent / target).exists():
            check_target(parent / target)
        elif replacing and sys.platform.startswith("linux"):  # the swap is an atomic exchange there
            pytest.fail(f"seed {seed}, kill {i} at {delay:.2f}s lost the bundle being replaced")
    subprocess.run(command, env=env, check=True, capture_output=True)
    check_target(parent / target)
    assert sorted(p.name for p in parent.iterdir() if p.name.startswith(".")) == [], "the rerun leaves no helper"
    assert _outside(parent, target) == baseline
    assert _temp_files(env) == []
    return killed, leftovers


def _env(tmp_path: Path) -> dict[str, str]:
    """The environment of the runs, with a temp folder of their own that must stay empty."""
    (tmp_path / "tmp").mkdir()
    return {**os.environ, "TMPDIR": str(tmp_path / "tmp"), "BERTDESK_THREADS": "1"}  # runs long enough to kill


def _temp_files(env: dict[str, str]) -> list[str]:
    """What the runs left in their temp folder, but for onnxruntime's session id file."""
    return sorted(p.name for p in Path(env["TMPDIR"]).iterdir() if p.name != ".ses")


def _user_files(parent: Path) -> None:
    (parent / "notes.txt").write_text("mine", encoding="utf-8")
    (parent / "other-model").mkdir()
    (parent / "other-model" / "weights.bin").write_bytes(os.urandom(4096))


@pytest.mark.slow
def test_convert_killed_anywhere_leaves_the_old_or_the_new_bundle(tmp_path: Path) -> None:
    work = tmp_path / "work"
    checkpoint = make_checkpoint(work / "ckpt", "bert", "encoder")
    _user_files(work)
    env = _env(tmp_path)
    old_bundle = tmp_path / "old"
    subprocess.run(_cli("convert", str(checkpoint), str(old_bundle)), env=env, check=True, capture_output=True)
    seen: list[dict[str, str]] = []

    def before_run(i: int) -> None:
        # Every third run starts from no bundle at all, the others replace the old one.
        if (work / "bundle").exists():
            shutil.rmtree(work / "bundle")
        if i % 3:
            shutil.copytree(old_bundle, work / "bundle")

    command = _cli("convert", str(checkpoint), str(work / "bundle"), "--attentions", "--force")
    killed, leftovers = _kill_loop(work, "bundle", command, env, before_run, lambda b: seen.append(tree_hash(b)))
    complete = [tree_hash(old_bundle), tree_hash(work / "bundle")]
    assert complete[0] != complete[1] and Bundle(work / "bundle").info.has_internals
    assert all(state in complete for state in seen), "a bundle was neither the old nor the new one, complete"
    assert killed >= KILLS // 2, f"only {killed} of {KILLS} kills landed mid-run"
    print(f"convert: {killed} kills mid-run, {leftovers} helper entries left behind, all cleaned by the next run")


@pytest.mark.slow
def test_setup_killed_anywhere_leaves_no_bundle_or_a_whole_one(
    tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    wheel = local_wheel(tmp_path_factory)
    models = tmp_path / "models"
    models.mkdir()
    _user_files(models)
    env = {**_env(tmp_path), "BERTDESK_MODELS": str(models)}
    name = default_model.DEFAULT_MODEL_NAME

    def before_run(i: int) -> None:
        if i % 3 == 0 and (models / name).exists():
            shutil.rmtree(models / name)

    def check_target(bundle: Path) -> None:
        assert default_model.verify(bundle) == [], "a bundle at the target must be complete"

    command = _cli("setup", "--wheel", str(wheel), "--force")
    killed, leftovers = _kill_loop(models, name, command, env, before_run, check_target)
    assert Bundle(models / name, threads=1).info.num_layers == 6
    assert killed >= KILLS // 2, f"only {killed} of {KILLS} kills landed mid-run"
    print(f"setup: {killed} kills mid-run, {leftovers} helper entries left behind, all cleaned by the next run")


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def _running(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the death signal is Linux's PR_SET_PDEATHSIG")
def test_a_child_process_dies_with_its_killed_parent() -> None:
    """What pip's download does when set-up is killed with kill -9: the child (here a sleeper) must not outlive it."""
    parent_script = (
        "import sys; from bertdesk.core.jobs import run_child; "
        "run_child([sys.executable, '-c', 'import time; time.sleep(120)'])"
    )
    parent = subprocess.Popen([sys.executable, "-c", parent_script])
    deadline = time.monotonic() + 30
    while not (children := _children(parent.pid)) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert children, "the parent never started its child"
    time.sleep(0.3)
    os.kill(parent.pid, signal.SIGKILL)
    parent.wait()
    deadline = time.monotonic() + 10
    while any(_running(c) for c in children) and time.monotonic() < deadline:
        time.sleep(0.05)
    orphans = [c for c in children if _running(c)]
    for orphan in orphans:
        os.kill(orphan, signal.SIGKILL)
    assert not orphans, "the child outlived its killed parent"
