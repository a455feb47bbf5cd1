"""Atomic file writes: a temporary sibling, then a rename, so a reader never sees half a file."""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import polars as pl


@contextlib.contextmanager
def _sibling(path: Path) -> Iterator[Path]:
    """A fresh temporary sibling of `path` (unique: concurrent writers never share one), moved
    over `path` when the block succeeds and removed when it fails."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


def write_atomic(path: Path, write: Callable[[Path], object]) -> Path:
    """`write(tmp)` into a temporary sibling, then rename it onto `path`."""
    with _sibling(Path(path)) as tmp:
        write(tmp)
    return Path(path)


def write_text_atomic(text: str, path: Path) -> Path:
    return write_atomic(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))


def write_parquet_atomic(frame: pl.DataFrame, path: Path) -> Path:
    return write_atomic(path, frame.write_parquet)
