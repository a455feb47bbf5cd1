"""What each run folder says about its run, beyond its events: how it ended (result.json), when
it lived, which code and config it ran — the facts that uptime, run completion, the reports'
run tables and the go-live verdict need.

A run folder without a result.json never said how it ended.  While its process is alive it
holds an exclusive lock on its journal (runner/recorder.py), so such a folder is `running`
when the lock is taken and `crashed` when it is free (kill -9, a power cut, an OOM kill: the
kernel releases the lock with the process).  A crashed run's last slice is followed by one
slice of downtime (slo/compute.py), and it never counts as a completed run.

Each run also yields one derived event, kind `run` / name `completion`, at its start: ok when
the run succeeded, with error `failed`, `interrupted` or `crashed` otherwise.  The `run_completion`
objective counts those; nothing else about the run's events changes.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from runner.shared.run_end import (
    CRASHED,
    RUNNING,
    SUCCEEDED,
    finished_result,
    unfinished_status,
)
from slo.settings import parse_time

if TYPE_CHECKING:
    import polars as pl

COMPLETION_KIND, COMPLETION_NAME = "run", "completion"


@dataclass
class RunInfo:
    """One run folder's facts; times are aware UTC datetimes or None."""

    folder: Path
    run_id: str | None = None
    env: str | None = None
    status: str = CRASHED
    exit_code: int | None = None
    started_at: datetime | None = None
    ended_at: datetime | None = None
    git_sha: str | None = None
    config_hash: str | None = None
    # [{name, status, reason}] from result.json; empty for a crashed run.
    phases: list[dict[str, Any]] = field(default_factory=list)
    unresolved_orders: list[str] = field(default_factory=list)
    first_event: datetime | None = None
    last_event: datetime | None = None

    @property
    def start(self) -> datetime | None:
        return self.started_at or self.first_event

    @property
    def end(self) -> datetime | None:
        return self.ended_at or self.last_event

    @property
    def crashed(self) -> bool:
        return self.status == CRASHED

    @property
    def completed(self) -> bool:
        return self.status == SUCCEEDED


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _time(value: Any) -> datetime | None:
    try:
        return parse_time(value) if value is not None else None
    except ValueError:
        return None


def read_run(folder: Path, journal: Path | None) -> RunInfo:
    """The facts result.json gives (when it is there and readable); a result-less folder is
    running or crashed (journal lock).  Never raises: an unreadable result.json reads as a
    run that never said how it ended."""
    info = RunInfo(folder=folder)
    result = finished_result(folder)
    if result is None:
        info.status = unfinished_status(journal)
        return info
    info.status = result["status"]
    info.run_id, info.env = _text(result.get("run_id")), _text(result.get("env"))
    code = result.get("exit_code")
    info.exit_code = code if isinstance(code, int) and not isinstance(code, bool) else None
    info.started_at, info.ended_at = _time(result.get("started_at")), _time(result.get("ended_at"))
    info.git_sha, info.config_hash = _text(result.get("git_sha")), _text(result.get("config_hash"))
    phases = result.get("phases")
    info.phases = [{"name": p.get("name"), "status": p.get("status"), "reason": p.get("reason")}
                   for p in phases if isinstance(p, dict)] if isinstance(phases, list) else []
    orders = result.get("orders")
    unresolved = orders.get("unresolved") if isinstance(orders, dict) else None
    info.unresolved_orders = [str(o) for o in unresolved] if isinstance(unresolved, list) else []
    return info


def _event(line: bytes) -> dict[str, Any] | None:
    try:
        event = json.loads(line)
    except ValueError:
        return None
    return event if isinstance(event, dict) and isinstance(event.get("ts"), str) else None


def journal_ends(journal: Path) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """The first and the last readable event of a journal, read from its two ends only (a
    crashed soak's journal can hold millions of lines); a torn last line is stepped over."""
    from runner.shared.events import is_gzip, open_journal

    first = last = None
    if is_gzip(journal):  # compressed after a finished run: no seeking, read it through
        try:
            with open_journal(journal) as text:
                for line in text:
                    event = _event(line.encode())
                    if event is not None:
                        first, last = first or event, event
        except (OSError, EOFError):
            pass
        return first, last
    try:
        with open(journal, "rb") as lines:
            for line in lines:
                first = _event(line)
                if first is not None:
                    break
            size = lines.seek(0, os.SEEK_END)
            back = 4096
            while first is not None and last is None and back < 4 * size + 8192:
                lines.seek(max(0, size - back))
                tail = lines.read().splitlines()[1 if back < size else 0:]
                last = next((e for e in map(_event, reversed(tail)) if e), None)
                back *= 4
    except OSError:
        return None, None
    return first, last


def _modified(path: Path) -> datetime | None:
    from datetime import timezone

    try:
        return datetime.fromtimestamp(path.stat().st_mtime, tz=timezone.utc)
    except OSError:
        return None


def _fill_from_parquet(run: RunInfo, parquet: Path) -> None:
    import polars as pl

    try:
        row = (pl.scan_parquet(parquet).select(
            pl.col("run_id").drop_nulls().first(), pl.col("env").drop_nulls().first(),
            pl.col("ts").min().alias("first"), pl.col("ts").max().alias("last"))
            .collect().row(0, named=True))
    except Exception:  # an unreadable parquet is named by slo/read.py; no facts from it here
        return
    run.run_id, run.env = run.run_id or row["run_id"], run.env or row["env"]
    run.first_event, run.last_event = row["first"], row["last"]


def run_facts(sources: list[Any]) -> list[RunInfo]:
    """RunInfo for every run folder (slo.read.RunSource).  A run without a usable result.json
    takes its run_id, env and first and last event from its journal's ends (or its parquet)."""
    runs = []
    for source in sources:
        run = read_run(source.folder, source.journal)
        if run.status in (CRASHED, RUNNING) or run.run_id is None or run.start is None:
            if source.journal is not None:
                first, last = journal_ends(source.journal)
                if first is not None and last is not None:
                    run.run_id = run.run_id or _text(first.get("run_id"))
                    run.env = run.env or _text(first.get("env"))
                    run.first_event, run.last_event = _time(first["ts"]), _time(last["ts"])
                elif run.crashed:  # killed before its first flush: still a crash, named
                    run.first_event = run.last_event = _modified(source.journal)
            elif source.parquet is not None:
                _fill_from_parquet(run, source.parquet)
        runs.append(run)
    return runs


def completion_rows(runs: list[RunInfo]) -> list[dict[str, Any]]:
    """One derived `run`/`completion` event per run that ended (or crashed), at its start."""
    rows = []
    for run in runs:
        if run.status == RUNNING or run.start is None:
            continue
        duration = (run.end - run.start).total_seconds() * 1000 if run.end else None
        rows.append({"ts": run.start, "run_id": run.run_id, "env": run.env, "phase": None,
                     "kind": COMPLETION_KIND, "name": COMPLETION_NAME, "ok": run.completed,
                     "latency_ms": max(duration, 0.0) if duration is not None else None,
                     "error": None if run.completed else run.status, "attempt": 1,
                     "symbol": None})
    return rows


def completion_frame(runs: list[RunInfo], columns: list[str]) -> pl.DataFrame:
    """completion_rows as a frame with exactly `columns` (the event schema's types)."""
    import polars as pl

    from runner.shared.events import polars_schema

    schema = polars_schema()
    rows = completion_rows(runs)
    data = {c: [row.get(c) for row in rows] for c in columns}
    return pl.DataFrame(data, schema={c: schema[c] for c in columns})


def lifetimes_frame(runs: list[RunInfo]) -> pl.DataFrame:
    """run_id, start_us, end_us, crashed per run with a known start (slo/compute.py's uptime).

    The start is the run's own (result.json's started_at, else its first event), so a run that
    began before the window is alive from the window's first slice on.  The end is left to the
    run's last event in the window (null here) unless the run never finished: then it is the
    journal's last event, followed by the crash's downtime slice."""
    import polars as pl

    from slo.budget import EPOCH, to_us

    rows = [(r.run_id, to_us(r.start - EPOCH),
             to_us(r.last_event - EPOCH) if r.status in (CRASHED, RUNNING) and r.last_event
             else None, r.crashed)
            for r in runs if r.run_id and r.start is not None]
    return pl.DataFrame(rows, schema={"run_id": pl.String, "start_us": pl.Int64,
                                      "end_us": pl.Int64, "crashed": pl.Boolean}, orient="row")
