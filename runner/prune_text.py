"""How retention output writes sizes, ages and paths (`python -m runner.prune`'s table, the
journal_after_run log lines, and the notes on folders that are never removed).

Apart so that the run-folder, selection and journal modules share one wording without importing
the command line.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

UNIT_S = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def size(count: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if count < 1024 or unit == "GiB":
            return f"{count:.0f} {unit}" if unit == "B" else f"{count:.1f} {unit}"
        count /= 1024
    raise AssertionError("unreachable")


def ago(seconds: float) -> str:
    seconds = max(seconds, 0.0)
    for unit in ("w", "d", "h", "m"):
        if seconds >= UNIT_S[unit]:
            value = seconds / UNIT_S[unit]
            return f"{value:.0f}{unit}" if value >= 10 else f"{value:.1f}".rstrip("0").rstrip(
                ".") + unit
    return f"{seconds:.0f}s"


def shown(path: Path) -> str:
    """`path` relative to the working directory when it is inside it."""
    with contextlib.suppress(ValueError):
        return str(Path(os.path.abspath(path)).relative_to(Path.cwd()))
    return str(path)
