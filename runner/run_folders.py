"""Finding run folders and sweeps, and what each is: status, env, date and size (what
`python -m runner.prune` lists; selecting and removing are runner/prune_select.py's).

What is listed (under outputs/runs and outputs/sweeps, or the roots given): every run folder (a
folder holding .hydra/, result.json, metrics.parquet or a journal), and every sweep as a whole
(a folder holding Hydra's multirun.yaml: its job folders and sweep_report go together, so a
report never describes jobs that are gone).  Symlinks are never followed (a root given as a
symlink is, once).

Status: result.json's (succeeded, failed, interrupted); without one, `running` while a live
process holds the journal's lock (runner/shared/liveness.py), else `crashed` (`invalid`,
`not_started`, `plan_only` for the folders of runs that never started).  A sweep's status is
its jobs' worst.  Date: when the run ended (result.json), else when anything in it last
changed.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from runner.shared.events import JOURNAL_GZ_NAME, JOURNAL_NAME, PARQUET_NAME, find_journal
from runner.shared.liveness import held_by_a_live_process
from runner.shared.run_end import CRASHED, ENDED, RESULT_NAME, RUNNING, finished_result

SWEEP_MARKER = "multirun.yaml"  # Hydra writes it into every sweep root (runner/run_folder.py)
SWEEP_REPORT = "sweep_report.json"
# A sweep's status is its jobs' worst, in this order.
WORST_FIRST = (RUNNING, CRASHED, "interrupted", "failed", "invalid", "not_started", "plan_only",
               "succeeded")


@dataclass
class RunFolder:
    """One run folder: a run, or one job of a sweep."""

    path: Path
    status: str
    env: str | None
    ended: float | None  # result.json's ended_at (epoch seconds)

    @property
    def finished(self) -> bool:
        return self.status in ENDED


@dataclass
class Entry:
    """What is listed and removed as one: a run folder, or a sweep with its jobs."""

    path: Path
    root: Path
    kind: str  # run | sweep
    runs: list[RunFolder]
    size: int = 0
    touched: float = 0.0  # newest mtime of anything in it
    reported: bool = True  # a sweep's sweep_report.json exists
    protected: str | None = None  # why it is never removed
    notes: list[str] = field(default_factory=list)
    selected: bool = False

    @property
    def status(self) -> str:
        statuses = {run.status for run in self.runs} or {CRASHED}
        return next(s for s in WORST_FIRST if s in statuses)

    @property
    def env(self) -> str:
        return ",".join(sorted({run.env for run in self.runs if run.env})) or "-"

    @property
    def when(self) -> float:
        ends = [run.ended for run in self.runs if run.ended is not None]
        return max(ends) if ends and all(r.finished for r in self.runs) else self.touched

    @property
    def group(self) -> tuple[str, str]:
        return self.kind, self.env


def is_run_folder(names: set[str]) -> bool:
    return bool(names & {".hydra", RESULT_NAME, PARQUET_NAME, JOURNAL_NAME, JOURNAL_GZ_NAME})


def _epoch(text: Any) -> float | None:
    if not isinstance(text, str):
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return (moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)).timestamp()


def _journal_env(journal: Path | None) -> str | None:
    if journal is None:
        return None
    from runner.shared.events import open_journal

    try:
        with open_journal(journal) as lines:
            first = json.loads(next(lines, "") or "null")
    except (OSError, ValueError, EOFError):
        return None
    return first.get("env") if isinstance(first, dict) else None


def _snapshot_env(folder: Path) -> str | None:
    """env.name from Hydra's snapshot (a run that wrote no event and no result)."""
    try:
        text = (folder / ".hydra" / "config.yaml").read_text(encoding="utf-8")
    except OSError:
        return None
    import yaml

    try:
        env = (yaml.safe_load(text) or {}).get("env")
    except (yaml.YAMLError, AttributeError):
        return None
    name = env.get("name") if isinstance(env, dict) else None
    return name if isinstance(name, str) and "${" not in name else None


def read_folder(folder: Path) -> RunFolder:
    """A run folder's status, env and end (module docstring: Status)."""
    try:
        names = set(os.listdir(folder))
    except OSError:
        names = set()
    result = finished_result(folder)
    journal = find_journal(folder)
    if JOURNAL_NAME in names and held_by_a_live_process(folder / JOURNAL_NAME):
        status = RUNNING
    elif result is not None:
        status = result["status"]
    elif journal is not None or PARQUET_NAME in names:
        status = CRASHED
    elif "error.txt" in names:
        status = "invalid"
    elif "interrupted.txt" in names:
        status = "not_started"
    elif "plan.json" in names:
        status = "plan_only"
    else:
        status = CRASHED  # only .hydra/: killed before its first event
    env = result.get("env") if result else None
    env = env if isinstance(env, str) and env else (_journal_env(journal)
                                                    or _snapshot_env(folder))
    return RunFolder(path=folder, status=status, env=env,
                     ended=_epoch(result.get("ended_at")) if result else None)


def _measure(entry: Entry) -> None:
    """Size and newest mtime of everything in the entry (lstat: no symlink is followed)."""
    total, newest = 0, 0.0
    for folder, dirs, files in os.walk(entry.path, followlinks=False):
        for name in [*files, *dirs, "."]:
            try:
                stat = os.lstat(os.path.join(folder, name))
            except OSError:
                continue
            newest = max(newest, stat.st_mtime)
            if name in files:
                total += stat.st_size
    entry.size, entry.touched = total, newest


def _sweep_runs(sweep: Path) -> list[RunFolder]:
    runs = []
    for folder, dirs, files in os.walk(sweep, followlinks=False):
        if Path(folder) != sweep and is_run_folder({*files, *dirs}):
            runs.append(read_folder(Path(folder)))
            dirs[:] = []
        else:
            dirs[:] = sorted(d for d in dirs if d != ".hydra")
    return runs


def find_entries(root: Path, problems: list[str]) -> list[Entry]:
    """Every run folder and sweep under `root` (the root itself may be one)."""
    entries = []

    def unlistable(error: OSError) -> None:
        problems.append(f"{error.filename}: cannot be listed ({error.strerror or error})")

    for folder, dirs, files in os.walk(root, onerror=unlistable, followlinks=False):
        path, names = Path(folder), {*files, *dirs}
        if SWEEP_MARKER in files:
            entries.append(Entry(path=path, root=root, kind="sweep", runs=_sweep_runs(path),
                                 reported=SWEEP_REPORT in files))
            dirs[:] = []
        elif is_run_folder(names):
            entries.append(Entry(path=path, root=root, kind="run", runs=[read_folder(path)]))
            dirs[:] = []
        else:
            dirs[:] = sorted(dirs)
    for entry in entries:
        _measure(entry)
    return entries

