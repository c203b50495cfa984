"""Writing a folder in place of another without ever losing either: a lock, staging beside the target, a swap.

A new folder is written into a staging folder beside its target and swapped into place (an atomic exchange on
Linux), so a kill at any moment leaves the old or the new folder complete at the target. Helper folders are named
`.<target>.<kind>-<pid>-<random>`: the next run for the same target removes those whose process is gone, and puts
back an old folder that an interrupted swap left aside. Writers of one target take turns through an exclusive lock
on `.<target>.lock` beside it.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import hashlib
import os
import re
import secrets
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

from bertdesk.core.errors import StorageError

try:
    import fcntl
except ImportError:  # not POSIX: writers of one target are not serialised
    fcntl = None  # type: ignore[assignment]

STAGING, TRASH, WORK = "staging", "trash", "work"
_HELPER = re.compile(r"\.(?P<stem>.+)\.(?P<kind>staging|trash|work)-(?P<pid>\d+)-[0-9a-f]{8}")
_AT_FDCWD = -100
_RENAME_EXCHANGE = 2


def storage_error(action: str, exc: OSError) -> StorageError:
    """A one-line StorageError for an OSError met while doing `action` ("cannot write the bundle to X")."""
    where = f" ({exc.filename})" if exc.filename and str(exc.filename) not in action else ""
    return StorageError(f"{action}: {exc.strerror or exc}{where}")


def absolute(path: str | Path) -> Path:
    """`path` made absolute with `..` and symbolic links resolved, whether or not it exists."""
    return Path(os.path.abspath(Path(path).expanduser())).resolve()


def _stem(target: Path) -> str:
    """The target's name in helper names, shortened (with a hash) so that they stay within the name limit."""
    if len(target.name.encode()) <= 100:
        return target.name
    return target.name[:40] + "~" + hashlib.sha256(target.name.encode()).hexdigest()[:16]


def check_separate(source: Path, target: Path, what: str = "the checkpoint folder") -> None:
    """Refuse a target that is `source`, holds it or lies inside it (symbolic links resolved)."""
    source, target = absolute(source), absolute(target)
    if target == source:
        raise StorageError(f"{target} is {what} itself: choose another output folder")
    if target in source.parents:
        raise StorageError(f"{target} contains {what} {source}: choose another output folder")
    if source in target.parents:
        raise StorageError(f"{target} lies inside {what} {source}: choose an output folder outside it")


def prepare_parent(target: Path) -> None:
    """Create the target's parent folder and check the target's name is usable, as one clear StorageError."""
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        if not target.parent.is_dir():
            raise StorageError(f"cannot write to {target}: {target.parent} is not a folder")
        with contextlib.suppress(FileNotFoundError):
            os.lstat(target)
    except OSError as exc:
        raise storage_error(f"cannot write to {target}", exc) from exc


def occupied(target: Path) -> bool:
    """Whether a non-empty folder is at `target`; a file (or a link to one) there is refused outright."""
    try:
        if not target.is_dir():
            if os.path.lexists(target):
                raise StorageError(f"{target} is a file, not a folder bertdesk made: refusing to replace it")
            return False
        return any(target.iterdir())
    except OSError as exc:
        raise storage_error(f"cannot read {target}", exc) from exc


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    return True


def remove_stale(target: Path) -> None:
    """Remove helper folders of `target` left by processes that died; put back an old folder a swap set aside."""
    try:
        entries = list(target.parent.iterdir())
    except OSError:
        return
    for entry in entries:
        match = _HELPER.fullmatch(entry.name)
        if not match or match["stem"] != _stem(target) or _pid_alive(int(match["pid"])):
            continue
        if match["kind"] == TRASH and not os.path.lexists(target):
            with contextlib.suppress(OSError):  # left where it is if it cannot go back: never deleted
                os.rename(entry, target)
        else:
            shutil.rmtree(entry, ignore_errors=True)


@contextlib.contextmanager
def target_lock(target: Path) -> Iterator[None]:
    """Hold an exclusive lock for writing `target`; other processes wait here until it is released."""
    if fcntl is None:
        yield
        return
    path = target.parent / f".{_stem(target)}.lock"
    while True:
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
        except OSError as exc:
            raise storage_error(f"cannot write to {target.parent}", exc) from exc
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            # The holder before us unlinks the file on release: our lock is good only if it is still the file.
            with contextlib.suppress(FileNotFoundError):
                if os.stat(path).st_ino == os.fstat(fd).st_ino:
                    break
        except BaseException:
            os.close(fd)
            raise
        os.close(fd)
    try:
        yield
    finally:
        with contextlib.suppress(OSError):
            os.unlink(path)
        os.close(fd)


@contextlib.contextmanager
def helper_folder(target: Path, kind: str) -> Iterator[Path]:
    """A new folder beside `target` named for it, this process and `kind`; removed on exit if still there.

    It is made with mode 0o777 less the umask, like any folder the user creates.
    """
    path = target.parent / f".{_stem(target)}.{kind}-{os.getpid()}-{secrets.token_hex(4)}"
    try:
        os.mkdir(path)
    except OSError as exc:
        raise storage_error(f"cannot write to {target.parent}", exc) from exc
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths atomically (Linux renameat2 RENAME_EXCHANGE); False where the system cannot."""
    if not sys.platform.startswith("linux"):
        return False
    renameat2 = getattr(ctypes.CDLL(None, use_errno=True), "renameat2", None)
    if renameat2 is None:
        return False
    if renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP):
        return False
    raise OSError(code, os.strerror(code), str(b))


def replace_folder(staging: Path, target: Path) -> None:
    """Put the complete folder `staging` at `target`, replacing what is there; the old folder is removed after.

    Call it inside `target_lock(target)`, with `staging` from `helper_folder(target, STAGING)`: after an exchange
    the old folder sits at `staging`, and the helper removes it.
    """
    try:
        if not os.path.lexists(target):
            os.rename(staging, target)
        elif not _exchange(staging, target):
            # No atomic exchange: a kill between the two renames leaves the old folder aside as a trash folder,
            # which the next run puts back (remove_stale).
            trash = target.parent / f".{_stem(target)}.{TRASH}-{os.getpid()}-{secrets.token_hex(4)}"
            os.rename(target, trash)
            os.rename(staging, target)
            shutil.rmtree(trash, ignore_errors=True)
    except OSError as exc:
        raise storage_error(f"cannot move the new folder into place at {target}", exc) from exc

