"""What becomes of a finished run's journal once the run is safely written: config
`journal_after_run` (keep | compress | drop), applied by runner/pipeline.py right after
result.json through `after_run`; `python -m runner.prune --compress-journals` compresses the
journals of folders that already exist with `compress_journal`.

A journal goes only when result.json is a finished run's, metrics.parquet reads and holds every
journaled event, and no live process holds the journal's lock; otherwise it stays
(JournalNotSafe, nothing changed).
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Any

from runner.prune_text import size
from runner.shared.events import (
    COLUMNS,
    JOURNAL_GZ_NAME,
    JOURNAL_NAME,
    OPTIONAL_COLUMNS,
    PARQUET_NAME,
)
from runner.shared.liveness import held_by_a_live_process
from runner.shared.run_end import RESULT_NAME, finished_result

CHUNK = 1 << 20
# gzip's default level 9 is twice as slow for ~8 % less: a soak's 24 MiB journal takes ~0.1 s.
GZIP_LEVEL = 6


class JournalNotSafe(Exception):
    """The journal must stay: the run is not (provably) written yet; one line."""


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


def safe_rows(folder: Path) -> int:
    """metrics.parquet's rows when the run is safely written (result.json of a finished run,
    a readable metrics.parquet, the journal's lock free); raises JournalNotSafe otherwise."""
    journal = folder / JOURNAL_NAME
    if held_by_a_live_process(journal):
        raise JournalNotSafe("its run is still running (the journal is locked)")
    if finished_result(folder) is None:
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
