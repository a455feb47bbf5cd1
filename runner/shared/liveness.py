"""Is the process that writes a run folder still alive?  It holds an exclusive flock on the
folder's journal for as long as it lives; the kernel drops the lock when the process dies,
however it dies (kill -9, an OOM kill), so a reader can tell a live run from a crashed one.

POSIX only: where flock is missing (Windows) nothing is held and nothing reads as held.
"""

from __future__ import annotations

import os
from pathlib import Path


def _flock(path: Path, exclusive: bool) -> tuple[int | None, bool]:
    """(descriptor, True) holding the lock; (None, False) when another process holds it or
    flock is unavailable; (None, True) when the file cannot be opened."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        return None, False
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return None, True
    try:
        fcntl.flock(fd, (fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH) | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        return None, False
    return fd, True


def hold_while_alive(path: Path) -> int | None:
    """An exclusive lock on `path`, held by the returned descriptor until it is closed (or the
    process dies); None when it cannot be taken."""
    return _flock(path, exclusive=True)[0]


def held_by_a_live_process(path: Path | None) -> bool:
    """True while some live process holds `path`'s lock (hold_while_alive)."""
    if path is None:
        return False
    fd, free = _flock(path, exclusive=False)
    if fd is not None:
        os.close(fd)
    return not free
