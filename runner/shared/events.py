"""The metric event contract (schema v1), shared by the runner (which writes events) and slo
(which reads them): file names, kinds, columns, the polars schema, and the journal reader
(events.jsonl, or events.jsonl.gz once a finished run's journal is compressed).

One row per event, the same columns in events.jsonl, metrics.parquet and every report input.
A new event field is added here (and in runner/schemas/event.schema.json), nowhere else.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    import polars as pl

SCHEMA_VERSION = 1
JOURNAL_NAME = "events.jsonl"
# A finished run's journal once compressed (config journal_after_run: compress,
# runner/journal_after_run.py).
JOURNAL_GZ_NAME = "events.jsonl.gz"
# The names a run folder's journal may have, the one read first first: while both exist (a
# compression cut short) the plain one is the whole journal.
JOURNAL_NAMES = (JOURNAL_NAME, JOURNAL_GZ_NAME)
PARQUET_NAME = "metrics.parquet"
KINDS = ("api_call", "order", "phase", "health", "heartbeat")
# Column order of a recorded row; run_id and env are constant per run and added on output.
ROW_COLUMNS = ("ts", "phase", "kind", "name", "ok", "latency_ms", "error", "attempt", "symbol",
               "final")
COLUMNS = ("ts", "run_id", "env", *ROW_COLUMNS[1:])
# Columns added after schema v1 first shipped: older metrics.parquet files lack them and older
# journal lines omit them; readers supply null (slo/read.py, read_journal).  `final`: this attempt
# is the last of its logical exchange call (true: its outcome is the call's outcome; false: a
# failed attempt that was retried; null: not an exchange call, or written before the flag).
OPTIONAL_COLUMNS = ("final",)

def polars_schema() -> dict[str, Any]:
    """The v1 event schema as polars dtypes (imported lazily: polars costs ~80 ms)."""
    import polars as pl

    return {
        "ts": pl.Datetime("us", "UTC"),
        "run_id": pl.String,
        "env": pl.String,
        "phase": pl.String,
        "kind": pl.String,
        "name": pl.String,
        "ok": pl.Boolean,
        "latency_ms": pl.Float64,
        "error": pl.String,
        "attempt": pl.Int32,
        "symbol": pl.String,
        "final": pl.Boolean,
    }


# -- reading journals back (crashed runs, tests) ---------------------------------------

GZIP_MAGIC = b"\x1f\x8b"


def find_journal(folder: Path) -> Path | None:
    """The run folder's journal: events.jsonl, else events.jsonl.gz, else None."""
    for name in JOURNAL_NAMES:
        path = Path(folder, name)
        if path.is_file():
            return path
    return None


def is_gzip(path: Path) -> bool:
    """Whether the file is gzip-compressed (by its first bytes, whatever its name)."""
    with open(path, "rb") as head:
        return head.read(2) == GZIP_MAGIC


def open_journal(path: Path) -> IO[str]:
    """The journal as text lines, plain or gzip-compressed alike."""
    import gzip

    if is_gzip(path):
        return gzip.open(path, "rt", encoding="utf-8", errors="replace")
    return open(path, encoding="utf-8", errors="replace")


@dataclass
class JournalRead:
    frame: pl.DataFrame
    bad_lines: int
    first_errors: list[str]


def _iter_valid(path: Path, bad: list[str]) -> Iterator[dict[str, Any]]:
    from runner.shared.schemas import validator

    check = validator("event")
    with open_journal(path) as lines:
        for number, line in _lines(lines, bad):
            if not line.strip():
                continue
            try:
                event = json.loads(line)
            except json.JSONDecodeError as exc:
                bad.append(f"line {number}: not JSON ({exc.msg})")
                continue
            error = next(iter(check.iter_errors(event)), None)
            if error is not None:
                where = ".".join(str(p) for p in error.absolute_path) or "event"
                bad.append(f"line {number}: {where}: {error.message}")
                continue
            yield event


def _lines(lines: IO[str], bad: list[str]) -> Iterator[tuple[int, str]]:
    """(number, line) of an open journal; a compressed one cut short (or damaged) ends where it
    stops being readable, and that counts as one bad line."""
    import gzip
    import zlib

    number = 0
    try:
        for number, line in enumerate(lines, 1):
            yield number, line
    except (EOFError, zlib.error, gzip.BadGzipFile) as exc:
        why = str(exc).strip().splitlines()
        bad.append(f"line {number + 1}: the compressed journal ends early or is damaged "
                   f"({type(exc).__name__}{': ' + why[0] if why else ''})")


def read_journal(path: Path) -> JournalRead:
    """Validate every line against the event schema; skip and count the bad ones.  A line
    without an optional column (OPTIONAL_COLUMNS: written before it existed) reads it as null.
    The journal may be gzip-compressed (events.jsonl.gz); a compressed one that is cut short
    gives the events before the cut and one bad line."""
    import polars as pl

    bad: list[str] = []
    events = list(_iter_valid(Path(path), bad))
    schema = polars_schema()
    string_schema = {**schema, "ts": pl.String}
    frame = pl.DataFrame(events, schema=string_schema).with_columns(
        pl.col("ts").str.to_datetime(time_unit="us", time_zone="UTC")
    )
    return JournalRead(frame=frame, bad_lines=len(bad), first_errors=bad[:10])
