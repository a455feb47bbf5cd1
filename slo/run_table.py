"""The reports' per-run view: which run folders the window holds, how each ended, which code
and config it ran, and how much of each objective's budget it burned; and the crashed ones.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from slo.budget import EPOCH
from slo.causes import relative
from slo.runs import RunInfo

MAX_ROWS = 200  # newest first; runs that burned budget or did not succeed are always kept


def in_window(runs: list[RunInfo], start: datetime, end: datetime,
              envs: list[str] | None = None) -> list[RunInfo]:
    """Runs whose lifetime overlaps [start, end) (and whose env is judged)."""
    return [r for r in runs if r.start is not None and r.end is not None
            and r.start < end and r.end >= start and (not envs or r.env in envs)]


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def runs_table(runs: list[RunInfo], events: dict[str | None, int],
               bad_by_run: dict[str, dict[str, int]], base: Path) -> list[dict[str, Any]]:
    """report.schema.json's runs_table: newest first, at most MAX_ROWS rows."""
    rows = []
    for run in sorted(runs, key=lambda r: r.start or EPOCH, reverse=True):
        bad = {name: per_run.get(run.run_id, 0) for name, per_run in bad_by_run.items()
               if run.run_id}
        rows.append({"folder": relative(run.folder, base),
                     "run_id": run.run_id or run.folder.name,
                     "env": run.env or "unknown", "started_at": _iso(run.start),
                     "ended_at": _iso(run.ended_at), "status": run.status,
                     "exit_code": run.exit_code, "git_sha": run.git_sha,
                     "config_hash": run.config_hash, "events": int(events.get(run.run_id, 0)),
                     "bad": bad})
    if len(rows) <= MAX_ROWS:
        return rows
    keep = [r for r in rows if r["status"] != "succeeded" or any(r["bad"].values())]
    rest = [r for r in rows if r not in keep][:max(0, MAX_ROWS - len(keep))]
    return sorted([*keep, *rest], key=lambda r: r["started_at"] or "", reverse=True)


def crashed_list(runs: list[RunInfo], base: Path) -> list[dict[str, Any]]:
    """report.schema.json's crashed: every crashed run, with its last event."""
    return [{"folder": relative(r.folder, base), "run_id": r.run_id or r.folder.name,
             "env": r.env or "unknown", "last_event": _iso(r.last_event)}
            for r in runs if r.crashed]
