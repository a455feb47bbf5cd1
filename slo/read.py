"""Find run folders and read their events lazily, skipping (and listing) what cannot be read.

A run folder is any folder under the roots holding metrics.parquet (a finished run) or
its journal: events.jsonl (a crashed run has only this), or events.jsonl.gz (a finished run's
journal, compressed after the run: config journal_after_run; while both exist — a compression
cut short — the plain one is the journal).  Parquet files are checked from their
footer first (pl.read_parquet_schema: cheap, no data read) and then scanned lazily as ONE scan
over all good files, selecting only the requested columns with `ts >= since` pushed down into
the reader.  A parquet that lacks only optional columns (runner.shared.events.OPTIONAL_COLUMNS,
added to the schema later: written before them) is good: the files are grouped by the optional
columns they lack, one scan per group, each missing column supplied as null, and the scans
concatenated.  A corrupt, partial or wrong-schema parquet is skipped with its reason — and the
folder's journal, when there is one, is read instead.  A footer can be fine while a data page is
not: that shows only when the scan runs, so the caller then reads again with `check_pages=True`,
which decodes each parquet on its own first (the slow path, for that rare case only).
Journals are read with runner.shared.events.read_journal, which validates every line and skips
(counts) the bad ones.  Folders that cannot be listed, and run folders that hold nothing but
Hydra's `.hydra/` (killed before the first event), are listed as skipped.  Nothing here is fatal.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from runner.shared.events import (
    JOURNAL_GZ_NAME,
    JOURNAL_NAME,
    OPTIONAL_COLUMNS,
    PARQUET_NAME,
    polars_schema,
    read_journal,
)
from slo.durations import as_utc

if TYPE_CHECKING:
    import polars as pl

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class RunSource:
    """One run folder: its metrics.parquet and/or its journal."""

    folder: Path
    parquet: Path | None
    journal: Path | None

    @property
    def path(self) -> Path:
        """The file read first: metrics.parquet when present, else the journal."""
        return self.parquet or self.journal  # type: ignore[return-value]

    @property
    def kind(self) -> str:
        return "parquet" if self.parquet else "journal"


@dataclass
class EventData:
    frame: pl.LazyFrame
    used: list[Path] = field(default_factory=list)
    skipped: list[dict[str, str]] = field(default_factory=list)
    journal_bad_lines: int = 0
    # Files read with something left out: bad journal lines, out-of-contract parquet rows, an
    # unreadable result.json ({path, reason}); `invalid_events` counts those parquet rows.
    partly_read: list[dict[str, str]] = field(default_factory=list)
    invalid_events: int = 0
    parquets: list[Path] = field(default_factory=list)


def read_errors() -> tuple[type[BaseException], ...]:
    """What reading a parquet's data can raise (polars' own errors, a file gone or unreadable,
    a panic in polars' Rust code)."""
    from polars.exceptions import PanicException, PolarsError

    return PolarsError, PanicException, OSError


def _no_events_reason(names: set[str]) -> str | None:
    """Why a folder holding `.hydra/` but no event file was not read; None when that is normal
    (a plan_only run, an invalid sweep job, one stopped before it started)."""
    if names & {"plan.json", "error.txt", "interrupted.txt"}:
        return None
    return ("no metrics.parquet or events.jsonl: the run left only its .hydra/ (killed or "
            "crashed before its first event)")


def discover(roots: Iterable[Path], skipped: list[dict[str, str]] | None = None
             ) -> list[RunSource]:
    """Every run folder at any depth under the roots (a root may itself be a run folder).

    `skipped`, when given, receives the folders that could not be listed and the run folders
    that hold no event file ({path, reason})."""
    folders: dict[Path, dict[str, Path]] = {}
    problems: list[dict[str, str]] = []

    def unlistable(error: OSError) -> None:
        problems.append({"path": os.path.normpath(error.filename),
                         "reason": f"folder cannot be listed ({error.strerror or error})"})

    for root in roots:
        root = Path(root)
        if root.is_file():
            root = root.parent
        if not root.is_dir():
            continue
        for folder, dirs, files in os.walk(root, onerror=unlistable):  # one walk, both names
            found = {name: Path(folder, name)
                     for name in (PARQUET_NAME, JOURNAL_NAME, JOURNAL_GZ_NAME) if name in files}
            if found:
                folders.setdefault(Path(folder).absolute(), {}).update(found)
            elif ".hydra" in dirs:
                reason = _no_events_reason(set(files))
                if reason:
                    problems.append({"path": os.path.normpath(folder), "reason": reason})
            dirs[:] = [d for d in dirs if d != ".hydra"]  # Hydra's snapshot holds no runs
    if skipped is not None:  # overlapping roots meet a folder twice: name it once
        skipped += {p["path"]: p for p in problems}.values()
    return [RunSource(folder=folder, parquet=files.get(PARQUET_NAME),
                      journal=files.get(JOURNAL_NAME) or files.get(JOURNAL_GZ_NAME))
            for folder, files in sorted(folders.items())]


def first_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return f"{type(error).__name__}: {text[0] if text else ''}".rstrip(": ")


def parquet_check(path: Path, columns: list[str]) -> tuple[str | None, tuple[str, ...]]:
    """(why this parquet cannot be scanned — footer unreadable, columns missing or of another
    type — or None when it can; the optional columns of `columns` it lacks, to be read as
    null)."""
    import polars as pl

    try:
        schema = pl.read_parquet_schema(path)
    except Exception as error:  # any unreadable footer: truncated, not parquet, unreadable
        return f"corrupt or partial parquet ({first_line(error)})", ()
    expected = polars_schema()
    absent = [c for c in columns if c not in schema]
    optional = tuple(c for c in absent if c in OPTIONAL_COLUMNS)
    missing = [c for c in absent if c not in OPTIONAL_COLUMNS]
    if missing:
        return "wrong schema: missing column(s) " + ", ".join(missing), optional
    wrong = [f"{c} is {schema[c]}, expected {expected[c]}" for c in columns
             if c in expected and c in schema and schema[c] != expected[c]]
    if wrong:
        return "wrong schema: " + "; ".join(wrong), optional
    return None, optional


def parquet_problem(path: Path, columns: list[str]) -> str | None:
    """Why this parquet cannot be scanned, or None when it can (lacking only optional columns
    is fine: see parquet_check)."""
    return parquet_check(path, columns)[0]


def _scan(paths: list[Path], columns: list[str], lacking: tuple[str, ...] = ()) -> pl.LazyFrame:
    """One scan of parquets that all lack exactly the optional columns `lacking`: `columns`,
    in order, those it lacks as typed nulls."""
    import polars as pl

    scan = pl.scan_parquet(paths, hive_partitioning=False, glob=False, extra_columns="ignore")
    if not lacking:
        return scan.select(columns)
    schema = polars_schema()
    return scan.select(c for c in columns if c not in lacking).with_columns(
        pl.lit(None, schema[c]).alias(c) for c in lacking).select(columns)


def empty_frame(columns: list[str]) -> pl.DataFrame:
    import polars as pl

    schema = polars_schema()
    return pl.DataFrame(schema={c: schema[c] for c in columns})


def page_problem(path: Path, columns: list[str], since: datetime | None,
                 lacking: tuple[str, ...] = ()) -> str | None:
    """Why this parquet's data (not its footer) cannot be read, or None: it is decoded whole,
    as the scan would, one file at a time (`lacking`: the optional columns it has not)."""
    import polars as pl

    try:
        scan = _scan([path], columns, lacking)
        if since is not None:
            scan = scan.filter(pl.col("ts") >= since)
        scan.collect(engine="streaming")
    except read_errors() as error:
        return f"corrupt data pages ({first_line(error)})"
    return None


def load_events(sources: list[RunSource], since: datetime | None, columns: list[str],
                progress: Progress | None = None, *, check_pages: bool = False) -> EventData:
    """All events of the sources (from `since` on) as one LazyFrame with `columns`.

    `check_pages`: decode each parquet on its own first, and treat one that fails like a
    corrupt footer (the caller's retry after the one scan failed)."""
    import polars as pl

    columns = list(dict.fromkeys(["ts", *columns]))
    unknown = [c for c in columns if c not in polars_schema()]
    if unknown:
        raise ValueError(f"unknown event column(s): {', '.join(unknown)}")
    data = EventData(frame=empty_frame(columns).lazy())
    parquets: list[Path] = []
    groups: dict[tuple[str, ...], list[Path]] = {}  # optional columns lacking -> parquets
    journals: list[pl.DataFrame] = []
    since = as_utc(since) if since is not None else None
    total = len(sources)
    for done, source in enumerate(sources, 1):
        journal = source.journal
        if source.parquet is not None:
            problem, lacking = parquet_check(source.parquet, columns)
            if problem is None and check_pages:
                problem = page_problem(source.parquet, columns, since, lacking)
            if problem is None:
                parquets.append(source.parquet)
                groups.setdefault(lacking, []).append(source.parquet)
                data.used.append(source.parquet)
                journal = None
            else:
                data.skipped.append({"path": str(source.parquet), "reason": problem
                                     + (f"; read its {journal.name} instead" if journal else "")})
        if journal is not None:
            frame = _read_journal(journal, columns, since, data)
            if frame is not None:
                journals.append(frame)
        if progress is not None:
            progress(done, total)
    if progress is not None and total == 0:
        progress(0, 0)
    parts: list[pl.LazyFrame] = []
    for lacking, paths in groups.items():  # one group unless old files lack optional columns
        scan = _scan(paths, columns, lacking)
        parts.append(scan if since is None else scan.filter(pl.col("ts") >= since))
    if journals:
        parts.append(pl.concat(journals, how="vertical").lazy())
    if parts:
        data.frame = parts[0] if len(parts) == 1 else pl.concat(parts, how="vertical")
    data.parquets = parquets
    return data


def _read_journal(path: Path, columns: list[str], since: datetime | None,
                  data: EventData) -> Any:
    import polars as pl

    try:
        read = read_journal(path)
    except Exception as error:  # unreadable file, or events the schema passed but polars not
        data.skipped.append({"path": str(path), "reason": f"unreadable journal "
                                                          f"({first_line(error)})"})
        return None
    data.used.append(path)
    data.journal_bad_lines += read.bad_lines
    if read.bad_lines:
        first = read.first_errors[0] if read.first_errors else ""
        data.partly_read.append({"path": str(path), "reason": f"{read.bad_lines} invalid "
                                 f"line(s) left out (first: {first})"})
    frame = read.frame.select(columns)
    return frame if since is None else frame.filter(pl.col("ts") >= since)
