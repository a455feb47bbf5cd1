"""How a run folder says its run ended, read the same way by `python -m slo` (slo/runs.py) and
`python -m runner.prune` (runner/run_folders.py).

result.json is written last and atomically; its `status` is one of ENDED (runner/verdict.py
decides which).  A folder without a readable one never said how it ended: `running` while its
process still holds the journal's lock (runner/shared/liveness.py), `crashed` otherwise.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from runner.shared.liveness import held_by_a_live_process

RESULT_NAME = "result.json"
SUCCEEDED, FAILED, INTERRUPTED = "succeeded", "failed", "interrupted"
ENDED = (SUCCEEDED, FAILED, INTERRUPTED)
RUNNING, CRASHED = "running", "crashed"


def finished_result(folder: Path) -> dict[str, Any] | None:
    """result.json when it reads as a finished run's (a status of ENDED), else None; never
    raises."""
    try:
        result = json.loads((Path(folder) / RESULT_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError):
        return None
    return result if isinstance(result, dict) and result.get("status") in ENDED else None


def unfinished_status(journal: Path | None) -> str:
    """A result-less run: RUNNING while a live process holds `journal`'s lock, else CRASHED."""
    return RUNNING if held_by_a_live_process(journal) else CRASHED
