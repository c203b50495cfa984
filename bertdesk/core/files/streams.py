"""The process's standard streams at the OS level: native libraries write to file descriptor 1, past `sys.stdout`."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def stdout_descriptor_to_stderr() -> Iterator[int | None]:
    """Point file descriptor 1 at standard error for the duration; yield a duplicate of what it pointed at (the
    real stdout), or None when nothing was moved (no stdout, or no stderr to point it at). Descriptor 1 is restored
    and the duplicate closed on the way out. Not thread-safe: a caller that may run in several threads at once holds
    a lock around it."""
    try:
        saved = os.dup(1)
    except OSError:  # no stdout at all: nothing to protect
        yield None
        return
    try:
        os.dup2(2, 1)
    except OSError:  # no stderr to send it to
        os.close(saved)
        yield None
        return
    try:
        yield saved
    finally:
        os.dup2(saved, 1)
        os.close(saved)
