"""What the library reads from a file or folder the user adds: the walk of a folder, the names and links it skips
with the reason, and a file's state as last seen. Nothing here opens a document."""

from __future__ import annotations

import errno
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

from bertdesk.core.errors import LibraryError
from bertdesk.core.library.formats import SUPPORTED_SUFFIXES, file_kind


@dataclass(frozen=True)
class FileState:
    """A file's size and modification time as last seen."""

    size: int
    mtime: float

    @classmethod
    def of(cls, path: Path) -> FileState:
        """The state of `path` now (OSError if it cannot be read)."""
        status = path.stat()
        return cls(status.st_size, status.st_mtime)


def absolute(path: Path) -> Path:
    """`path` made absolute and normalised without following symbolic links (the path the user sees)."""
    return Path(os.path.abspath(os.path.expanduser(path)))


def is_hidden(path: Path) -> bool:
    """A dot-file or a file inside a dot-folder (relative parts only are judged)."""
    return any(part.startswith(".") and part not in (".", "..") for part in path.parts)


def storable(path: Path) -> bool:
    """Whether the path's name can be stored as text: on Linux a file name may be bytes that are not UTF-8."""
    try:
        str(path).encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def printable(path: Path | str) -> str:
    """`path` as text a person can read even when its name is not valid UTF-8 (those bytes as "\\xe9" escapes)."""
    return os.fsencode(path).decode("utf-8", "backslashreplace")


NOT_UTF8 = "the name is not valid UTF-8 (the library keeps names as text): rename it"
LINK_OUTSIDE = "a link to a file outside the folder"


def skip_reason(path: Path, folder: Path | None) -> str | None:
    """Why the library does not read `path`, a name with a document's suffix, without opening it: a name that is
    not UTF-8, a link that leads nowhere or loops, a path that (through a link to it or to a folder on the way)
    leads to a file outside `folder` (the folder the user added, when given), or something that is not a regular
    file (a pipe would block whoever opens it for reading). None for a file it reads; FileNotFoundError if nothing
    is there."""
    if not storable(path):
        return NOT_UTF8
    status = os.lstat(path)
    if stat.S_ISLNK(status.st_mode):
        try:
            os.path.realpath(path, strict=True)
        except FileNotFoundError:
            return "a link to nothing (its target does not exist)"
        except OSError as exc:
            return ("a link that leads back to itself (a loop)" if exc.errno == errno.ELOOP
                    else f"a link that cannot be followed: {exc.strerror or exc}")
        status = os.stat(path)
    # the whole path: a link to a folder on the way leads out as surely as a link to the file
    if folder is not None and not Path(os.path.realpath(path)).is_relative_to(os.path.realpath(folder)):
        return LINK_OUTSIDE
    if not stat.S_ISREG(status.st_mode):
        return "not a regular file (a pipe, socket or device)"
    return None


@dataclass(frozen=True)
class Skipped:
    """Something in an added folder the library does not read, listed in the import log: `path` as text a person
    can read (see `printable`), and why."""

    path: str
    reason: str


@dataclass(frozen=True)
class FolderScan:
    """What a walk of a source found: the files the library reads, sorted, and what it skipped with the reason."""

    files: list[Path]
    skipped: list[Skipped] = field(default_factory=list)


def scan_folder(folder: Path, inside: Path | None = None) -> FolderScan:
    """Every file under `folder` the library reads (by suffix), recursively; hidden files and folders are left out
    unlisted, and so are links to folders (never followed). Listed as skipped with the reason: folders that cannot
    be read, and names with a document's suffix that `skip_reason` refuses (links judged against `inside`, the
    source folder, default `folder`). OSError if `folder` itself cannot be read."""
    inside = folder if inside is None else inside
    found: list[Path] = []
    skipped: list[Skipped] = []

    def unreadable(exc: OSError) -> None:
        if exc.filename is not None and os.path.abspath(exc.filename) == os.path.abspath(folder):
            raise exc
        skipped.append(Skipped(printable(exc.filename or folder), f"cannot read the folder: {exc.strerror or exc}"))

    for root, dirs, files in os.walk(folder, onerror=unreadable, followlinks=False):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        for name in files:
            path = Path(root, name)
            if name.startswith(".") or path.suffix.lower() not in SUPPORTED_SUFFIXES:
                continue
            try:
                reason = skip_reason(path, inside)
            except FileNotFoundError:
                continue  # gone while the folder was walked
            except OSError as exc:
                reason = f"cannot read the file: {exc.strerror or exc}"
            if reason is None:
                found.append(path)
            else:
                skipped.append(Skipped(printable(path), reason))
    return FolderScan(sorted(found), sorted(skipped, key=lambda s: s.path))


def supported_files(folder: Path, inside: Path | None = None) -> list[Path]:
    """The files of `scan_folder(folder, inside)`."""
    return scan_folder(folder, inside).files


def source_files(path: Path, *, watch: bool = False) -> FolderScan:
    """What the library would read from `path` (a file, or a folder's supported files and what it skips). LibraryError
    for a missing path, an unsupported file, or a folder without any supported file or skipped one (unless it is to
    be watched: files may come later)."""
    path = absolute(path)
    readable = ", ".join(sorted(SUPPORTED_SUFFIXES))
    if not storable(path):
        raise LibraryError(f"{printable(path)}: the library keeps paths as text, and this name is not valid UTF-8; "
                           "rename it")
    if path.is_dir():
        try:
            scan = scan_folder(path)
        except OSError as exc:
            raise LibraryError(f"{path} cannot be read: {exc.strerror or exc}") from None
        if not scan.files and not scan.skipped and not watch:
            raise LibraryError(f"{path} holds no file the library reads ({readable})")
        return scan
    if path.is_file():
        if file_kind(path) is None:
            raise LibraryError(f"{path} is not a file the library reads (it reads {readable})")
        return FolderScan([path])
    if path.exists():
        raise LibraryError(f"{path} is neither a file nor a folder")
    raise LibraryError(f"{path} does not exist")
