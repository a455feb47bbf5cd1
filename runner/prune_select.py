"""What a prune removes, and removing it: the folders never removed, the selection by age
and by count, and a removal that stays inside its root (`python -m runner.prune`; the folders
come from runner/run_folders.py).

Selection: `--older-than AGE` (e.g. 14d; units s, m, h, d, w) selects what ended more than AGE
ago; `--keep-last N` keeps, per env, the N newest runs and, apart from them, the N newest
sweeps; both together remove only what is older than AGE *and* not among those N.  Neither:
nothing is selected, the folders are only listed.  Never removed, whatever the selection (and
not counted in N): a running folder (its journal is locked; a sweep with a running job), and a
folder without result.json, or a sweep without sweep_report.json, in which anything changed in
the last GRACE_S (a run that is starting holds no lock yet; on Windows, which has no flock,
this is the only sign of a live run).  Nothing outside the roots is ever removed, nor through
a symlink; a date folder left empty is removed too.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterable
from pathlib import Path

from runner.prune_text import ago
from runner.run_folders import RESULT_NAME, RUNNING, SWEEP_REPORT, Entry
from runner.shared.events import JOURNAL_NAME
from runner.shared.liveness import held_by_a_live_process

# A folder without result.json (a sweep without its report) that changed this recently is
# never removed: it may belong to a run that is starting, or to a sweep between two jobs.
GRACE_S = 3600.0


def protect(entries: Iterable[Entry], now: float) -> None:
    """Mark what is never removed (module docstring: Selection)."""
    for entry in entries:
        idle = now - entry.touched
        if any(run.status == RUNNING for run in entry.runs):
            entry.protected = "running"
        elif idle < GRACE_S and (not entry.reported if entry.kind == "sweep"
                                 else not entry.runs[0].finished):
            what = SWEEP_REPORT if entry.kind == "sweep" else RESULT_NAME
            entry.protected = (f"no {what} and changed {ago(idle)} ago: may be starting or "
                               "running")


def select(entries: list[Entry], now: float, older_than: float | None,
           keep_last: int | None, age_text: str = "") -> None:
    """Set `selected`, and a note on what is kept and why."""
    newest: set[int] = set()
    if keep_last is not None:
        groups: dict[tuple[str, str], list[Entry]] = {}
        for entry in entries:
            if entry.protected is None:
                groups.setdefault(entry.group, []).append(entry)
        for (kind, env), members in groups.items():
            members.sort(key=lambda e: (e.when, str(e.path)), reverse=True)
            for entry in members[:keep_last]:
                newest.add(id(entry))
                entry.notes.append(f"the newest {kind} of env {env}" if keep_last == 1 else
                                   f"one of the {keep_last} newest {kind}s of env {env}")
    for entry in entries:
        if entry.protected is not None:
            entry.notes.append(f"never removed: {entry.protected}")
            continue
        if older_than is None and keep_last is None:
            continue
        old = older_than is None or now - entry.when > older_than
        entry.selected = old and id(entry) not in newest
        if not old:
            entry.notes.append(f"ended less than {age_text} ago")


def within(path: Path, root: Path) -> bool:
    """`path` is `root` or inside it, both resolved."""
    real, top = os.path.realpath(path), os.path.realpath(root)
    return real == top or real.startswith(top.rstrip(os.sep) + os.sep)


def remove(entry: Entry) -> str | None:
    """Remove the entry's folder (and date folders it leaves empty, up to its root); why not,
    or None when it is gone."""
    if entry.path.is_symlink() or not within(entry.path, entry.root):
        return "outside its root (or a symlink): left alone"
    if any(held_by_a_live_process(run.path / JOURNAL_NAME) for run in entry.runs):
        return "a run in it started meanwhile: left alone"
    try:
        shutil.rmtree(entry.path)
    except OSError as exc:
        return f"{exc.strerror or type(exc).__name__} ({exc.filename or entry.path})"
    top = os.path.realpath(entry.root)
    for parent in entry.path.parents:
        if os.path.realpath(parent) == top or not within(parent, entry.root):
            break
        try:
            parent.rmdir()  # only when empty
        except OSError:
            break
    return None
