"""Atomic file writes: a temporary sibling, then a rename, so a reader never sees half a file."""

from __future__ import annotations

import os
from pathlib import Path


def write_text_atomic(text: str, path: Path) -> Path:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
    return path
