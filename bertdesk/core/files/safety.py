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
import stat
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
#: A file or folder written in place of `<stem>` and renamed over it once complete: ".bertdesk.json.1234.tmp".
_TEMPORARY = re.compile(r"\.(?P<stem>.+)\.(?P<pid>\d+)\.tmp")
_AT_FDCWD = -100
_RENAME_EXCHANGE = 2


def storage_error(action: str, exc: OSError) -> StorageError:
    """A one-line StorageError for an OSError met while doing `action` ("cannot write the bundle to X")."""
    where = f" ({exc.filename})" if exc.filename and str(exc.filename) not in action else ""
    return StorageError(f"{action}: {exc.strerror or exc}{where}")


def absolute(path: str | Path) -> Path:
    """`path` made absolute with `..` and symbolic links resolved, whether or not it exists."""
    return Path(os.path.abspath(Path(path).expanduser())).resolve()


def output_path(path: str | Path) -> Path:
    """`path` made absolute with the links of its parent folders resolved, but not its own: bertdesk never writes
    through a link at an output path (a dangling one would make it write wherever the link points), so one there is
    a StorageError."""
    target = Path(os.path.abspath(Path(path).expanduser()))
    target = target.parent.resolve() / target.name
    if os.path.islink(target):
        raise StorageError(f"{target} is a link: give the folder itself, or a new name (bertdesk does not write "
                           "through links)")
    return target


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
    """Remove helper folders and temporary files of `target` left by processes that died; put back an old folder a
    swap set aside."""
    try:
        entries = list(target.parent.iterdir())
    except OSError:
        return
    for entry in entries:
        match = _HELPER.fullmatch(entry.name) or _TEMPORARY.fullmatch(entry.name)
        if not match or match["stem"] != _stem(target) or _pid_alive(int(match["pid"])):
            continue
        kind = match.groupdict().get("kind")
        if kind == TRASH and not os.path.lexists(target):
            with contextlib.suppress(OSError):  # left where it is if it cannot go back: never deleted
                os.rename(entry, target)
        elif entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            with contextlib.suppress(OSError):
                entry.unlink()


#: What bertdesk writes into a lock file it creates: a file at a lock's path without it is the user's, never deleted.
LOCK_MARK = b"bertdesk lock\n"


def _lock_path(target: Path) -> Path:
    return target.parent / f".{_stem(target)}.lock"


def _open_lock(path: Path, target: Path) -> tuple[int, bool]:
    """An open file descriptor of the lock file at `path` (made, with LOCK_MARK, if there is none) and whether it is
    one bertdesk made. Links are not followed, and anything but a regular file there is refused."""
    try:
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o666)
        except FileExistsError:
            fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
        else:
            try:
                os.write(fd, LOCK_MARK)
            except BaseException:
                os.close(fd)
                raise
            return fd, True
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise StorageError(f"{path} is a link, not a lock file bertdesk made: move it away to write {target}") \
                from None
        raise storage_error(f"cannot write to {target.parent}", exc) from exc
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise StorageError(f"{path} is not a file bertdesk made: move it away to write {target}")
        ours = os.pread(fd, len(LOCK_MARK) + 1, 0) == LOCK_MARK
    except BaseException:
        os.close(fd)
        raise
    return fd, ours


def _still_at(path: Path, fd: int) -> bool:
    """Whether `path` still names the file open as `fd` (a holder before us unlinks its lock file on release)."""
    try:
        return os.stat(path, follow_symlinks=False).st_ino == os.fstat(fd).st_ino
    except FileNotFoundError:
        return False


@contextlib.contextmanager
def target_lock(target: Path) -> Iterator[None]:
    """Hold an exclusive lock for writing `target`; other processes wait here until it is released.

    The lock file `.<target>.lock` is removed on release only if bertdesk made it (a user's own file of that name is
    locked and left as it is).
    """
    if fcntl is None:
        yield
        return
    path = _lock_path(target)
    while True:
        fd, ours = _open_lock(path, target)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            if _still_at(path, fd):
                break
        except BaseException:
            os.close(fd)
            raise
        os.close(fd)
    try:
        yield
    finally:
        if ours:
            with contextlib.suppress(OSError):
                os.unlink(path)
        os.close(fd)


def clear_stale_lock(target: Path) -> None:
    """Remove the lock file of `target` that a killed writer left, if bertdesk made it and no process holds it."""
    path = _lock_path(target)
    if fcntl is None or not os.path.lexists(path):
        return
    try:
        fd, ours = _open_lock(path, target)
    except StorageError:
        return
    try:
        if ours:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            if _still_at(path, fd):
                os.unlink(path)
    except OSError:  # held by a live writer, or already gone
        pass
    finally:
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

