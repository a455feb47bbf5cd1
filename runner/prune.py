"""Retention: list and prune run folders (`python -m runner.prune`), and what becomes of a run's
journal once the run is safely written (config `journal_after_run`, applied by
runner/pipeline.py right after result.json; `--compress-journals` does the same for folders
that already exist).

    python -m runner.prune                                list run folders and sweeps, with sizes
    python -m runner.prune --older-than 14d               dry run: what would be removed
    python -m runner.prune --older-than 14d --keep-last 5 --yes       remove it
    python -m runner.prune --compress-journals --yes      gzip the journals of finished runs

What is listed (under outputs/runs and outputs/sweeps, or the roots given): every run folder (a
folder holding .hydra/, result.json, metrics.parquet or a journal), and every sweep as a whole
(a folder holding Hydra's multirun.yaml: its job folders and sweep_report go together, so a
report never describes jobs that are gone).  Symlinks are never followed (a root given as a
symlink is, once), and nothing outside the roots is ever removed; a date folder left empty is
removed too.

Status: result.json's (succeeded, failed, interrupted); without one, `running` while a live
process holds the journal's lock (runner/shared/liveness.py), else `crashed` (`invalid`,
`not_started`, `plan_only` for the folders of runs that never started).  A sweep's status is
its jobs' worst.  Date: when the run ended (result.json), else when anything in it last
changed.

Selection: `--older-than AGE` (e.g. 14d; units s, m, h, d, w) selects what ended more than AGE
ago; `--keep-last N` keeps, per env, the N newest runs and, apart from them, the N newest
sweeps; both together remove only what is older than AGE *and* not among those N.  Neither:
nothing is selected, the folders are only listed.  Never removed, whatever the selection (and
not counted in N): a running folder (its journal is locked; a sweep with a running job), and a
folder without result.json, or a sweep without sweep_report.json, in which anything changed in
the last GRACE_S (a run that is starting holds no lock yet; on Windows, which has no flock,
this is the only sign of a live run).

A dry run unless `--yes`: it prints what would be removed and the bytes that would be freed.
Exit codes: 0 ok, 1 a folder or journal could not be removed or compressed (the others were),
2 bad arguments (one `error:` line, nothing done).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import shutil
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, NoReturn

from runner.shared.errors import EXIT_INVALID
from runner.shared.events import (
    COLUMNS,
    JOURNAL_GZ_NAME,
    JOURNAL_NAME,
    OPTIONAL_COLUMNS,
    PARQUET_NAME,
    find_journal,
)
from runner.shared.liveness import held_by_a_live_process

RESULT_NAME = "result.json"
SWEEP_MARKER = "multirun.yaml"  # Hydra writes it into every sweep root (runner/run_folder.py)
SWEEP_REPORT = "sweep_report.json"
DEFAULT_ROOTS = (Path("outputs/runs"), Path("outputs/sweeps"))
ENDED = ("succeeded", "failed", "interrupted")
RUNNING, CRASHED = "running", "crashed"
# A sweep's status is its jobs' worst, in this order.
WORST_FIRST = (RUNNING, CRASHED, "interrupted", "failed", "invalid", "not_started", "plan_only",
               "succeeded")
# A folder without result.json (a sweep without its report) that changed this recently is
# never removed: it may belong to a run that is starting, or to a sweep between two jobs.
GRACE_S = 3600.0
AGE = re.compile(r"^(\d+(?:\.\d+)?)([smhdw])$")
UNIT_S = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
CHUNK = 1 << 20
# gzip's default level 9 is twice as slow for ~8 % less: a soak's 24 MiB journal takes ~0.1 s.
GZIP_LEVEL = 6


class JournalNotSafe(Exception):
    """The journal must stay: the run is not (provably) written yet; one line."""


# -- the journal of a finished run ------------------------------------------------------------


def parquet_rows(path: Path) -> int:
    """Rows of a metrics.parquet whose footer reads and holds the event columns; raises
    JournalNotSafe otherwise (its footer and row count only: no data page is decoded)."""
    import polars as pl

    try:
        schema = pl.read_parquet_schema(path)
        rows = pl.scan_parquet(path).select(pl.len()).collect().item()
    except Exception as exc:
        raise JournalNotSafe(f"{PARQUET_NAME} cannot be read ({type(exc).__name__})") from None
    missing = [c for c in COLUMNS if c not in schema and c not in OPTIONAL_COLUMNS]
    if missing:
        raise JournalNotSafe(f"{PARQUET_NAME} lacks column(s) {', '.join(missing)}")
    return int(rows)


def read_result(folder: Path) -> dict[str, Any] | None:
    """result.json when it reads as a finished run's (a status of ENDED), else None."""
    try:
        result = json.loads((folder / RESULT_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError):
        return None
    return result if isinstance(result, dict) and result.get("status") in ENDED else None


def safe_rows(folder: Path) -> int:
    """metrics.parquet's rows when the run is safely written (result.json of a finished run,
    a readable metrics.parquet, the journal's lock free); raises JournalNotSafe otherwise."""
    journal = folder / JOURNAL_NAME
    if held_by_a_live_process(journal):
        raise JournalNotSafe("its run is still running (the journal is locked)")
    if read_result(folder) is None:
        raise JournalNotSafe(f"no readable {RESULT_NAME} of a finished run")
    if not (folder / PARQUET_NAME).is_file():
        raise JournalNotSafe(f"no {PARQUET_NAME}")
    return parquet_rows(folder / PARQUET_NAME)


def _check_lines(lines: int, rows: int) -> None:
    # Every journaled event is in metrics.parquet (an interrupted flush can leave one out of the
    # journal, never the other way round), so more lines than rows means a mismatch.
    if lines > rows:
        raise JournalNotSafe(f"the journal has {lines} lines but {PARQUET_NAME} only {rows} "
                             "rows")


def compress_journal(folder: Path) -> tuple[int, int]:
    """events.jsonl -> events.jsonl.gz (gzip; through a temporary file, fsynced, then renamed;
    the original is unlinked last and its mtime kept).  (bytes before, bytes after); raises
    JournalNotSafe (nothing changed) when the run is not safely written."""
    import gzip

    from runner.shared.files import write_atomic

    rows = safe_rows(folder)
    journal, target = folder / JOURNAL_NAME, folder / JOURNAL_GZ_NAME
    stat = journal.stat()
    lines = 0

    def write(tmp: Path) -> None:
        nonlocal lines
        with open(journal, "rb") as source, open(tmp, "wb") as raw:
            with gzip.GzipFile(filename=JOURNAL_NAME, fileobj=raw, mode="wb",
                               compresslevel=GZIP_LEVEL, mtime=int(stat.st_mtime)) as packed:
                while chunk := source.read(CHUNK):
                    lines += chunk.count(b"\n")
                    packed.write(chunk)
            _check_lines(lines, rows)  # before the rename: a mismatch changes nothing
            raw.flush()
            os.fsync(raw.fileno())
        os.utime(tmp, ns=(stat.st_atime_ns, stat.st_mtime_ns))

    write_atomic(target, write)
    with contextlib.suppress(FileNotFoundError):  # a concurrent compression got there first
        journal.unlink()
    return stat.st_size, target.stat().st_size


def drop_journal(folder: Path) -> int:
    """Unlink events.jsonl once the run is safely written; the bytes freed.  Raises
    JournalNotSafe (nothing changed) otherwise."""
    rows = safe_rows(folder)
    journal = folder / JOURNAL_NAME
    lines = 0
    with open(journal, "rb") as source:
        while chunk := source.read(CHUNK):
            lines += chunk.count(b"\n")
    _check_lines(lines, rows)
    size = journal.stat().st_size
    journal.unlink()
    return size


def after_run(run_dir: Path, mode: str, log: Any) -> None:
    """journal_after_run for the run just written (runner/pipeline.py, after result.json and
    the lock's release).  Never raises: a journal that cannot go stays, with a warning."""
    if mode == "keep" or not (run_dir / JOURNAL_NAME).is_file():
        return
    try:
        if mode == "drop":
            freed = drop_journal(run_dir)
            log.debug(f"journal_after_run=drop: {JOURNAL_NAME} removed ({size(freed)})")
        else:
            before, after = compress_journal(run_dir)
            log.debug(f"journal_after_run=compress: {JOURNAL_NAME} -> {JOURNAL_GZ_NAME} "
                      f"({size(before)} -> {size(after)})")
    except JournalNotSafe as exc:
        log.warning(f"journal_after_run={mode}: {JOURNAL_NAME} kept: {exc}")
    except Exception as exc:  # a full disk, say: the journal simply stays
        log.warning(f"journal_after_run={mode}: {JOURNAL_NAME} kept: {type(exc).__name__}: "
                    f"{exc}")


# -- finding run folders ----------------------------------------------------------------------


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
    result = read_result(folder)
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


# -- selecting ---------------------------------------------------------------------------------


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


# -- removing ----------------------------------------------------------------------------------


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


# -- output ------------------------------------------------------------------------------------


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


def table(entries: list[Entry], *, apply: bool) -> str:
    from runner.shared.tables import format_table

    verb = "remove" if apply else "would remove"
    rows = [[verb if e.selected else "keep",
             datetime.fromtimestamp(e.when).strftime("%Y-%m-%d %H:%M"), e.env, e.status,
             size(e.size), shown(e.path),
             "; ".join([f"sweep of {len(e.runs)} job(s)"] * (e.kind == "sweep") + e.notes)]
            for e in entries]
    return format_table(["action", "date", "env", "status", "size", "folder", "note"], rows)


# -- the command -------------------------------------------------------------------------------


class Parser(argparse.ArgumentParser):
    """argparse with one `error:` line (exit 2) instead of a usage block."""

    def error(self, message: str) -> NoReturn:
        fail(message)


def fail(message: str) -> NoReturn:
    print(f"error: {message}", file=sys.stderr)
    raise SystemExit(EXIT_INVALID)


def parse_age(text: str) -> float:
    found = AGE.match(text.strip())
    if not found:
        fail(f"--older-than: {text!r} is not allowed; allowed: a number and a unit s, m, h, d "
             "or w (e.g. 14d, 12h)")
    return float(found[1]) * UNIT_S[found[2]]


def parse_count(text: str) -> int:
    if not re.fullmatch(r"\d+", text.strip()) or int(text) < 1:
        fail(f"--keep-last: {text!r} is not allowed; allowed: a whole number >= 1")
    return int(text)


def parser() -> Parser:
    parse = Parser(prog="python -m runner.prune", allow_abbrev=False,
                   description="List run folders and sweeps (date, env, status, size) and "
                   "remove the selected ones; a dry run unless --yes. A running folder is "
                   "never removed, nor anything outside the roots.",
                   epilog="Semantics: the Retention section of docs/OPERATIONS.md.")
    parse.add_argument("roots", nargs="*", type=Path, metavar="ROOT",
                       help="folders to search (default: outputs/runs outputs/sweeps)")
    parse.add_argument("--older-than", metavar="AGE",
                       help="select what ended more than AGE ago (e.g. 14d; s, m, h, d, w)")
    parse.add_argument("--keep-last", metavar="N",
                       help="keep the N newest runs (and sweeps) of each env")
    parse.add_argument("--compress-journals", action="store_true",
                       help="gzip the events.jsonl of every finished run that stays")
    parse.add_argument("--yes", "--apply", dest="apply", action="store_true",
                       help="do it (default: a dry run that changes nothing)")
    return parse


def roots_of(given: list[Path]) -> list[Path]:
    for root in given:
        if not root.exists():
            fail(f"{root}: no such folder; allowed: a folder holding run folders (such as "
                 "outputs/runs)")
        if not root.is_dir():
            fail(f"{root}: is a file, not a folder; allowed: a folder holding run folders")
    return given or [root for root in DEFAULT_ROOTS if root.is_dir()]


def collect(roots: list[Path], problems: list[str]) -> list[Entry]:
    entries: dict[str, Entry] = {}
    for root in roots:
        for entry in find_entries(root, problems):
            entries.setdefault(os.path.realpath(entry.path), entry)  # overlapping roots
    return sorted(entries.values(), key=lambda e: (e.when, str(e.path)))


def compress_all(entries: list[Entry], *, apply: bool,
                 say: Callable[[str], None]) -> tuple[int, int, int, int]:
    """--compress-journals over the entries that stay: (journals, bytes before, bytes after,
    failures)."""
    count = before = after = failed = 0
    for entry in entries:
        if entry.selected or entry.protected:
            continue
        for run in entry.runs:
            journal = run.path / JOURNAL_NAME
            if not run.finished or not journal.is_file():
                continue
            if not apply:
                count, before = count + 1, before + journal.stat().st_size
                say(f"would compress  {shown(journal)}  {size(journal.stat().st_size)}")
                continue
            try:
                was, now = compress_journal(run.path)
            except JournalNotSafe as exc:
                say(f"kept            {shown(journal)}: {exc}")
                continue
            except OSError as exc:
                failed += 1
                say(f"failed          {shown(journal)}: {exc.strerror or exc}")
                continue
            count, before, after = count + 1, before + was, after + now
            say(f"compressed      {shown(journal)}  {size(was)} -> {size(now)}")
    return count, before, after, failed


def main(argv: list[str] | None = None, now: float | None = None) -> int:
    args = parser().parse_args(argv)
    older_than = parse_age(args.older_than) if args.older_than is not None else None
    keep_last = parse_count(args.keep_last) if args.keep_last is not None else None
    roots = roots_of(args.roots)
    where = ", ".join(shown(r) for r in (args.roots or list(DEFAULT_ROOTS)))
    now = time.time() if now is None else now
    problems: list[str] = []
    entries = collect(roots, problems)
    for problem in problems:
        print(f"warning: {problem}", file=sys.stderr)
    if not entries:
        print(f"no run folders under {where}")
        return 0
    protect(entries, now)
    select(entries, now, older_than, keep_last, args.older_than or "")
    print(table(entries, apply=args.apply))
    print()
    chosen = [e for e in entries if e.selected]
    total, freed = sum(e.size for e in entries), sum(e.size for e in chosen)
    code = 0
    if older_than is None and keep_last is None:
        print(f"{len(entries)} folders, {size(total)}; select with "
              "--older-than AGE and/or --keep-last N (a dry run until --yes)")
    elif not args.apply:
        print(f"dry run: would remove {len(chosen)} of {len(entries)} folders ({size(freed)} "
              f"of {size(total)}); nothing was removed"
              + ("; pass --yes to remove them" if chosen else ""))
    else:
        gone = 0
        for entry in chosen:
            why = remove(entry)
            if why is None:
                gone += 1
            else:
                entry.selected = False
                freed -= entry.size
                code = 1
                print(f"not removed: {shown(entry.path)}: {why}", file=sys.stderr)
        print(f"removed {gone} of {len(entries)} folders, freed {size(freed)}")
    if args.compress_journals:
        count, before, after, failed = compress_all(entries, apply=args.apply, say=print)
        code = code or (1 if failed else 0)
        if not args.apply:
            print(f"dry run: would compress {count} journal(s) ({size(before)}); nothing was "
                  "compressed" + ("; pass --yes to compress them" if count else ""))
        else:
            print(f"compressed {count} journal(s): {size(before)} -> {size(after)}, freed "
                  f"{size(before - after)}")
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
