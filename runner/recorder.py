"""The recorder: metric events (runner/shared/events.py) kept cheaply in memory, journaled
crash-safely, and written as metrics.parquet at the end.

Recording sits on the hot path (a load phase emits 10^5 events), so `record` only appends one
tuple to a list — an atomic operation under the GIL, safe from any thread.  A background thread
turns the rows added since its last visit into NDJSON (via polars, column-wise) and appends them,
timed by deadline so that a `kill -9` loses at most the events of the last `flush_interval_s`.
`close` writes metrics.parquet through a temporary file and a rename, so a reader never sees half
a file.
"""

from __future__ import annotations

import io
import logging
import os
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from runner.shared.events import JOURNAL_NAME, PARQUET_NAME, ROW_COLUMNS, polars_schema
from runner.shared.files import write_parquet_atomic
from runner.shared.liveness import hold_while_alive

if TYPE_CHECKING:
    import polars as pl

_log = logging.getLogger(__name__)


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
    # (end row index, frame) per journaled slice; reused for metrics.parquet (rows convert once).
    _chunks: list[tuple[int, pl.DataFrame]] = field(default_factory=list, repr=False)
    _journal_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _stop: threading.Event = field(default_factory=threading.Event, repr=False)
    _sync_due: threading.Event = field(default_factory=threading.Event, repr=False)
    _threads: list[threading.Thread] = field(default_factory=list, repr=False)
    _lock_fd: int | None = field(default=None, repr=False)  # held while alive: release()
    _fd: int | None = field(default=None, repr=False)
    _bound: _PhaseBinding = field(default_factory=_PhaseBinding, repr=False)
    # Journal flush lead, as fractions of flush_interval_s: at least LEAD_MIN (the margin for a
    # flush slower than any recent one), at most LEAD_MAX (an idle journal polls no faster).
    LEAD_MIN: ClassVar[float] = 0.5
    LEAD_MAX: ClassVar[float] = 0.8

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
        final: bool | None = None,
    ) -> None:
        """One event.  `final` only for exchange calls (api_call, order): whether this attempt is
        the last of its logical call (runner/shared/events.py); None for every other kind."""
        if self.enabled:
            self._rows.append((time.time_ns() // 1000, phase or self._bound.phase or self.phase,
                               kind, name, ok, latency_ms, error, attempt, symbol, final))

    def bind_phase(self, phase: str | None) -> None:
        """Attribute this thread's events to `phase`, even after the run has moved on."""
        self._bound.phase = phase

    def current_phase(self) -> str | None:
        """The phase this thread's events are attributed to (the order ledger notes it)."""
        return self._bound.phase or self.phase

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

    @property
    def _journaled(self) -> int:
        """How many rows flushes have claimed: the end index of the last chunk."""
        return self._chunks[-1][0] if self._chunks else 0

    def start(self) -> None:
        """Start the journal thread and its fsync helper (no-op without a run folder)."""
        if self.run_dir is None or self._threads:
            return
        import polars  # noqa: F401  (here: a first import under a busy producer took seconds)

        self.journal_path.touch()
        self._lock_fd = hold_while_alive(self.journal_path)
        self._threads = [threading.Thread(target=self._journal_loop, name="journal", daemon=True),
                         threading.Thread(target=self._sync_loop, name="journal-fsync",
                                          daemon=True)]
        for thread in self._threads:
            thread.start()

    def _journal_loop(self) -> None:
        """Flush by deadline, not by period.

        The promise is that no row older than `flush_interval_s` is missing from the file, so a
        flush must *land* before the oldest pending row reaches that age: it starts `lead`
        seconds before that deadline, twice the slowest of the last 8 flushes measured from the
        intended wake-up to the data being in the file (kept within LEAD_MIN..LEAD_MAX of the
        interval).  That includes the wake-up itself: next
        to a busy producer thread, the journal thread waits up to sys.getswitchinterval() for
        the GIL after every sleep (and after every system call it makes while flushing).
        """
        bound = self.flush_interval_s
        took: deque[float] = deque([0.0], maxlen=8)
        failing = False
        while True:
            lead = min(max(2 * max(took), self.LEAD_MIN), self.LEAD_MAX) * bound
            now = self._now()
            rows, done = self._rows, self._journaled
            oldest = rows[done][0] / 1e6 if len(rows) > done else now
            timeout = min(max(oldest + bound - lead - now, 0.0), bound)  # clamp: clock jumps
            if self._wait(timeout):
                return
            try:
                written, landed = self._flush()
            except Exception:  # disk full, say: keep the thread, retry after an interval
                if not failing:
                    _log.exception("journal flush failed; retrying every %s s", bound)
                failing = True
                if self._wait(bound):
                    return
                continue
            failing = False
            if written:
                took.append(min(max(landed - (now + timeout), 0.0), bound) / bound)

    def _sync_loop(self) -> None:
        """fsync after writes, off the journal thread: it guards against power loss, not against
        kill -9, and can stall for seconds under writeback pressure."""
        while True:
            self._sync_due.wait()
            if self._stop.is_set():
                return
            self._sync_due.clear()
            try:
                os.fsync(self._fd)  # opened before _sync_due is first set
            except OSError:
                _log.warning("fsync of %s failed", self.journal_path, exc_info=True)

    def _now(self) -> float:
        """Wall clock, the clock of the rows' ts (a seam for deterministic tests)."""
        return time.time()

    def _wait(self, timeout: float) -> bool:
        """Sleep up to `timeout`; True when the recorder is closing."""
        return self._stop.wait(timeout)

    def flush(self) -> int:
        """Append rows not yet journaled; returns how many were written."""
        return self._flush()[0]

    def _flush(self) -> tuple[int, float]:
        """(rows written, wall time when they were in the file)."""
        if self.run_dir is None:
            return 0, 0.0
        with self._journal_lock:
            start, end = self._journaled, len(self._rows)
            if end == start:
                return 0, 0.0
            frame = self.frame(self._rows[start:end])
            data = io.BytesIO()  # write_ndjson() would return a str: decode + encode, 2 copies
            frame.write_ndjson(data)
            # One append claims the rows for journal and parquet.  An exception before it leaves
            # them to the next flush; after it, they are never written again (an interrupted
            # write can lose them from the journal, never duplicate them).
            self._chunks.append((end, frame))
            self._write(data.getbuffer())
            return end - start, self._now()

    def _write(self, data: bytes | memoryview) -> None:
        """Append to the journal with one system call: each one gives up the GIL, and taking it
        back from a busy producer thread costs up to sys.getswitchinterval() (5 ms)."""
        if self._fd is None:
            flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | getattr(os, "O_BINARY", 0)
            self._fd = os.open(self.journal_path, flags, 0o666)
        view = memoryview(data)
        while view:
            view = view[os.write(self._fd, view):]
        self._sync_due.set()

    def release(self) -> None:
        """Give up the journal's lock once result.json is written: until then a reader sees a
        live run (slo/runs.py), afterwards a finished one.  The kernel releases it on any
        death of the process, which is how a reader tells a crash from a run still going."""
        fd, self._lock_fd = self._lock_fd, None
        if fd is not None:
            os.close(fd)

    # -- output --------------------------------------------------------------------------

    def frame(self, rows: list[tuple] | None = None) -> pl.DataFrame:
        """Rows as a v1 event DataFrame (all rows when none are given).

        Built column by column from typed Series, which is ~2.5× faster than polars' row
        constructor (the journal thread builds one per flush).  Constants come from repeated
        lists, not `pl.repeat`: that runs a query, 9 ms instead of 0.2 ms next to a busy
        producer thread (every GIL hand-back costs up to sys.getswitchinterval() there).
        """
        import polars as pl

        rows = self._rows if rows is None else rows
        schema = polars_schema()
        height = len(rows)
        series = [pl.Series("ts", [row[0] for row in rows], pl.Int64).cast(schema["ts"]),
                  pl.Series("run_id", [self.run_id] * height, pl.String),
                  pl.Series("env", [self.env] * height, pl.String)]
        series += [pl.Series(name, [row[i] for row in rows], schema[name], strict=False)
                   for i, name in enumerate(ROW_COLUMNS[1:], 1)]
        return pl.DataFrame(series)

    def close(self) -> Path | None:
        """Stop the journal threads, flush, fsync, and write metrics.parquet atomically."""
        self._stop.set()
        self._sync_due.set()
        for thread in self._threads:
            thread.join()
        self._threads = []
        if self.run_dir is None:
            return None
        self.flush()
        if self._fd is not None:
            os.fsync(self._fd)
            os.close(self._fd)
            self._fd = None
        import polars as pl

        frames = [frame for _, frame in self._chunks]
        everything = pl.concat(frames) if frames else self.frame([])
        return write_parquet_atomic(everything, self.run_dir / PARQUET_NAME)
