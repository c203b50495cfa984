"""Checksums of files: the one reader every manifest, download check and document look-up uses."""

from __future__ import annotations

import errno
import hashlib
import os
import stat
from pathlib import Path

_CHUNK = 1 << 20


def hex_digest(path: Path, digest: hashlib._Hash | None = None) -> str:
    """The hex digest of a regular file's bytes, read in chunks: SHA-256 unless `digest` (a hashlib object, already
    fed any prefix, as a git blob id's header) is given. OSError for anything but a regular file: it is opened without
    blocking and checked before reading, so a named pipe with a file's name cannot hang the caller."""
    digest = digest if digest is not None else hashlib.sha256()
    descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    with open(descriptor, "rb") as stream:
        if not stat.S_ISREG(os.fstat(descriptor).st_mode):
            raise OSError(errno.EINVAL, "not a regular file (a pipe, socket or device)", str(path))
        while chunk := stream.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def sha256_file(path: Path) -> str:
    """The hex SHA-256 of a regular file's bytes."""
    return hex_digest(path)
