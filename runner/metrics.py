"""Metric events (schema v1): a cheap in-memory recorder, a crash-safe journal and the parquet file.

Recording sits on the hot path (a load phase emits 10^5 events), so `record` only appends one
tuple to a list — an atomic operation under the GIL, safe from any thread.  A background thread
turns the rows added since its last visit into NDJSON (via polars, column-wise) every
`flush_interval_s`, so a `kill -9` loses at most that much.  `close` writes metrics.parquet through
a temporary file and a rename, so a reader never sees half a file.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import polars as pl

SCHEMA_VERSION = 1
JOURNAL_NAME = "events.jsonl"
PARQUET_NAME = "metrics.parquet"
KINDS = ("api_call", "order", "phase", "health", "heartbeat")
# Column order of a recorded row; run_id and env are constant per run and added on output.
ROW_COLUMNS = ("ts", "phase", "kind", "name", "ok", "latency_ms", "error", "attempt", "symbol")
COLUMNS = ("ts", "run_id", "env", *ROW_COLUMNS[1:])


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
    }


class _PhaseBinding(threading.local):
    """Per-thread phase name; the class default makes an unbound lookup cheap (no exception)."""

    phase: str | None = None


@dataclass
class Recorder:
    """Collects events for one run; optionally journals them to `run_dir/events.jsonl`."""

    run_id: str
    env: str
    run_dir: Path | None = None
    flush_interval_s: float = 0.25
    enabled: bool = True
    phase: str | None = None
    _rows: list[tuple] = field(default_factory=list, repr=False)
    _journaled: int = field(default=0, repr=False)
    _chunks: list[pl.DataFrame] = field(default_factory=list, repr=False)
    _journal_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _stop: threading.Event = field(default_factory=threading.Event, repr=False)
    _thread: threading.Thread | None = field(default=None, repr=False)
    _bound: _PhaseBinding = field(default_factory=_PhaseBinding, repr=False)

    # -- hot path ------------------------------------------------------------------------

    def record(
        self,
        kind: str,
        name: str,
        ok: bool,
        latency_ms: float | None = None,
        error: str | None = None,
        attempt: int = 1,
        symbol: str | None = None,
        phase: str | None = None,
    ) -> None:
        if self.enabled:
            self._rows.append((time.time_ns() // 1000, phase or self._bound.phase or self.phase,
                               kind, name, ok, latency_ms, error, attempt, symbol))

    def bind_phase(self, phase: str | None) -> None:
        """Attribute this thread's events to `phase`, even after the run has moved on."""
        self._bound.phase = phase

    def __len__(self) -> int:
        return len(self._rows)

    def counts_by_kind(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for row in self._rows:
            counts[row[2]] = counts.get(row[2], 0) + 1
        return counts

    def exchange_call_stats(self, since: int) -> tuple[int, int, int]:
        """(attempts, retried attempts, failed attempts) of api_call/order rows from `since` on."""
        attempts = retried = failed = 0
        for row in self._rows[since:]:
            if row[2] in ("api_call", "order"):
                attempts += 1
                retried += row[7] > 1
                failed += not row[4]
        return attempts, retried, failed

    # -- journal -------------------------------------------------------------------------

    @property
    def journal_path(self) -> Path | None:
        return self.run_dir / JOURNAL_NAME if self.run_dir else None

    def start(self) -> None:
        """Start the background journal writer (no-op without a run folder)."""
        if self.run_dir is None or self._thread is not None:
            return
        self.journal_path.touch()
        self._thread = threading.Thread(target=self._journal_loop, name="journal", daemon=True)
        self._thread.start()

    def _journal_loop(self) -> None:
        while not self._stop.wait(self.flush_interval_s):
            self.flush()

    def flush(self) -> int:
        """Append rows not yet journaled; returns how many were written."""
        if self.run_dir is None:
            return 0
        with self._journal_lock:
            end = len(self._rows)
            if end == self._journaled:
                return 0
            frame = self.frame(self._rows[self._journaled:end])
            with open(self.journal_path, "ab") as out:
                frame.write_ndjson(out)
                out.flush()
                os.fsync(out.fileno())
            self._chunks.append(frame)  # reused for metrics.parquet: rows convert only once
            written, self._journaled = end - self._journaled, end
            return written

    # -- output --------------------------------------------------------------------------

    def frame(self, rows: list[tuple] | None = None) -> pl.DataFrame:
        """Rows as a v1 event DataFrame (all rows when none are given)."""
        import polars as pl

        schema = polars_schema()
        row_schema = {name: schema[name] for name in ROW_COLUMNS}
        row_schema["ts"] = pl.Int64
        frame = pl.DataFrame(self._rows if rows is None else rows, schema=row_schema, orient="row")
        return frame.select(
            pl.col("ts").cast(pl.Datetime("us", "UTC")),
            pl.lit(self.run_id, pl.String).alias("run_id"),
            pl.lit(self.env, pl.String).alias("env"),
            *ROW_COLUMNS[1:],
        )

    def close(self) -> Path | None:
        """Stop the journal thread, flush, and write metrics.parquet atomically."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        if self.run_dir is None:
            return None
        self.flush()
        import polars as pl

        everything = pl.concat(self._chunks) if self._chunks else self.frame([])
        return write_parquet_atomic(everything, self.run_dir / PARQUET_NAME)


def write_parquet_atomic(frame: pl.DataFrame, path: Path) -> Path:
    """Write via a temporary sibling and rename, so readers never see a partial file."""
    tmp = path.with_name(f".{path.name}.tmp")
    frame.write_parquet(tmp)
    os.replace(tmp, path)
    return path


# -- reading journals back (crashed runs, tests) ---------------------------------------


@dataclass
class JournalRead:
    frame: pl.DataFrame
    bad_lines: int
    first_errors: list[str]


def _iter_valid(path: Path, bad: list[str]) -> Iterator[dict[str, Any]]:
    from runner.schemas import validator

    check = validator("event")
    with open(path, encoding="utf-8", errors="replace") as lines:
        for number, line in enumerate(lines, 1):
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


def read_journal(path: Path) -> JournalRead:
    """Validate every line against the event schema; skip and count the bad ones."""
    import polars as pl

    bad: list[str] = []
    events = list(_iter_valid(Path(path), bad))
    schema = polars_schema()
    string_schema = {**schema, "ts": pl.String}
    frame = pl.DataFrame(events, schema=string_schema).with_columns(
        pl.col("ts").str.to_datetime(time_unit="us", time_zone="UTC")
    )
    return JournalRead(frame=frame, bad_lines=len(bad), first_errors=bad[:10])
