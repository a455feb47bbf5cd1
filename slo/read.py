"""Find run folders and read their events lazily, skipping (and listing) what cannot be read.

A run folder is any folder under the roots holding metrics.parquet (a finished run) or
events.jsonl (the journal; a crashed run has only this).  Parquet files are checked from their
footer first (pl.read_parquet_schema: cheap, no data read) and then scanned lazily as ONE scan
over all good files, selecting only the requested columns with `ts >= since` pushed down into
the reader.  A corrupt, partial or wrong-schema parquet is skipped with its reason — and the
folder's journal, when there is one, is read instead.  Journals are read with
runner.metrics.read_journal, which validates every line and skips (counts) the bad ones.
Nothing here is fatal.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from runner.metrics import JOURNAL_NAME, PARQUET_NAME, polars_schema, read_journal

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


def discover(roots: Iterable[Path]) -> list[RunSource]:
    """Every run folder at any depth under the roots (a root may itself be a run folder)."""
    folders: dict[Path, dict[str, Path]] = {}
    for root in roots:
        root = Path(root)
        if root.is_file():
            root = root.parent
        if not root.is_dir():
            continue
        for folder, _dirs, files in os.walk(root):  # one walk for both file names
            found = {name: Path(folder, name) for name in (PARQUET_NAME, JOURNAL_NAME)
                     if name in files}
            if found:
                folders.setdefault(Path(folder).absolute(), {}).update(found)
    return [RunSource(folder=folder, parquet=files.get(PARQUET_NAME),
                      journal=files.get(JOURNAL_NAME))
            for folder, files in sorted(folders.items())]


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment


def _first_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return f"{type(error).__name__}: {text[0] if text else ''}".rstrip(": ")


def parquet_problem(path: Path, columns: list[str]) -> str | None:
    """Why this parquet cannot be scanned (footer unreadable, columns missing or of another
    type), or None when it can."""
    import polars as pl

    try:
        schema = pl.read_parquet_schema(path)
    except Exception as error:  # any unreadable footer: truncated, not parquet, unreadable
        return f"corrupt or partial parquet ({_first_line(error)})"
    expected = polars_schema()
    missing = [c for c in columns if c not in schema]
    if missing:
        return "wrong schema: missing column(s) " + ", ".join(missing)
    wrong = [f"{c} is {schema[c]}, expected {expected[c]}" for c in columns
             if c in expected and schema[c] != expected[c]]
    if wrong:
        return "wrong schema: " + "; ".join(wrong)
    return None


def empty_frame(columns: list[str]) -> pl.DataFrame:
    import polars as pl

    schema = polars_schema()
    return pl.DataFrame(schema={c: schema[c] for c in columns})


def load_events(sources: list[RunSource], since: datetime | None, columns: list[str],
                progress: Progress | None = None) -> EventData:
    """All events of the sources (from `since` on) as one LazyFrame with `columns`."""
    import polars as pl

    columns = list(dict.fromkeys(["ts", *columns]))
    unknown = [c for c in columns if c not in polars_schema()]
    if unknown:
        raise ValueError(f"unknown event column(s): {', '.join(unknown)}")
    data = EventData(frame=empty_frame(columns).lazy())
    parquets: list[Path] = []
    journals: list[pl.DataFrame] = []
    since = _utc(since) if since is not None else None
    total = len(sources)
    for done, source in enumerate(sources, 1):
        journal = source.journal
        if source.parquet is not None:
            problem = parquet_problem(source.parquet, columns)
            if problem is None:
                parquets.append(source.parquet)
                data.used.append(source.parquet)
                journal = None
            else:
                data.skipped.append({"path": str(source.parquet), "reason": problem
                                     + ("; read its events.jsonl instead" if journal else "")})
        if journal is not None:
            frame = _read_journal(journal, columns, since, data)
            if frame is not None:
                journals.append(frame)
        if progress is not None:
            progress(done, total)
    if progress is not None and total == 0:
        progress(0, 0)
    parts: list[pl.LazyFrame] = []
    if parquets:
        scan = pl.scan_parquet(parquets, hive_partitioning=False, glob=False,
                               extra_columns="ignore").select(columns)
        parts.append(scan if since is None else scan.filter(pl.col("ts") >= since))
    if journals:
        parts.append(pl.concat(journals, how="vertical").lazy())
    if parts:
        data.frame = parts[0] if len(parts) == 1 else pl.concat(parts, how="vertical")
    return data


def _read_journal(path: Path, columns: list[str], since: datetime | None,
                  data: EventData) -> Any:
    import polars as pl

    try:
        read = read_journal(path)
    except Exception as error:  # unreadable file, or events the schema passed but polars not
        data.skipped.append({"path": str(path), "reason": f"unreadable journal "
                                                          f"({_first_line(error)})"})
        return None
    data.used.append(path)
    data.journal_bad_lines += read.bad_lines
    frame = read.frame.select(columns)
    return frame if since is None else frame.filter(pl.col("ts") >= since)
