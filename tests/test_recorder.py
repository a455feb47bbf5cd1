"""The event recorder: cheap recording, a journal flushed on time, atomic parquet, safe reading."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

import polars as pl
import pytest

from runner.recorder import Recorder
from runner.shared.events import COLUMNS, read_journal


def test_rows_become_v1_columns(tmp_path):
    recorder = Recorder("run-1", "dev", tmp_path)
    recorder.record("api_call", "fetch_ticker", True, 12.5, None, 1, "BTC/USDT", phase="p")
    recorder.record("order", "create_order", False, 40.0, "InvalidOrder", 2, "ETH/USDT",
                    final=False)
    frame = recorder.frame()
    assert tuple(frame.columns) == COLUMNS
    assert frame.row(1, named=True) | {"ts": None} == {
        "ts": None, "run_id": "run-1", "env": "dev", "phase": None, "kind": "order",
        "name": "create_order", "ok": False, "latency_ms": 40.0, "error": "InvalidOrder",
        "attempt": 2, "symbol": "ETH/USDT", "final": False}
    assert frame["final"][0] is None  # not given: null


def test_journal_is_flushed_within_the_interval_without_close(tmp_path):
    recorder = Recorder("run-1", "dev", tmp_path, flush_interval_s=0.05)
    recorder.start()
    try:
        for _ in range(500):
            recorder.record("api_call", "ping", True, 1.0)
        deadline = time.monotonic() + 2.0
        while time.monotonic() < deadline:
            lines = (tmp_path / "events.jsonl").read_text().splitlines()
            if len(lines) == 500:
                break
            time.sleep(0.01)
        assert len(lines) == 500
        assert json.loads(lines[0])["ts"].endswith("+00:00")
    finally:
        recorder.close()


def test_close_writes_parquet_atomically_and_equal_to_journal(tmp_path):
    recorder = Recorder("run-1", "dev", tmp_path)
    recorder.start()
    for i in range(1000):
        recorder.record("api_call", "fetch_ohlcv", i % 10 != 0, float(i), None, 1, "BTC/USDT")
    recorder.close()
    assert not list(tmp_path.glob(".*.tmp")), "no temporary file left behind"
    parquet = pl.read_parquet(tmp_path / "metrics.parquet")
    journal = read_journal(tmp_path / "events.jsonl")
    assert journal.bad_lines == 0
    assert parquet.equals(journal.frame.select(parquet.columns).cast(parquet.schema))


def test_bad_journal_lines_are_skipped_and_counted(tmp_path):
    recorder = Recorder("run-1", "dev", tmp_path)
    recorder.start()
    recorder.record("heartbeat", "alive", True)
    recorder.close()
    path = tmp_path / "events.jsonl"
    good = path.read_text()
    wrong_kind = json.loads(good) | {"kind": "gossip"}
    path.write_text(good + "not json\n" + json.dumps(wrong_kind) + "\n" + good)
    read = read_journal(path)
    assert (read.frame.height, read.bad_lines) == (2, 2)
    assert read.first_errors[0].startswith("line 2: not JSON")
    assert read.first_errors[1].startswith("line 3: kind:")


def test_disabled_recorder_records_nothing():
    recorder = Recorder("run-1", "dev", enabled=False)
    recorder.record("api_call", "ping", True)
    assert len(recorder) == 0


def test_every_shipped_schema_is_a_valid_draft_2020_12_schema():
    from jsonschema import Draft202012Validator

    from runner.shared.schemas import load_from

    for package, names in [("runner.schemas", ["config", "event", "result"]),
                           ("slo.schemas", ["spec", "report"])]:
        for name in names:
            Draft202012Validator.check_schema(load_from(package, name))


class SimulatedJournal(Recorder):
    """The real journal loop on a simulated clock, so scheduling is tested without timing.

    A producer records a row every `gap_s`; every wake-up is `late_s` late (the GIL wait next to
    a busy producer); each write takes `write_s(n)` for the n-th write while rows keep coming.
    Just before a write lands, the age of the oldest row not yet in the "file" is recorded.
    """

    def __init__(self, run_dir: Path, write_s: Callable[[int], float], writes: int = 40,
                 gap_s: float = 0.001, late_s: float = 0.005) -> None:
        super().__init__("run-1", "dev", run_dir, flush_interval_s=0.25, phase="load")
        self.write_s, self.writes, self.gap_s, self.late_s = write_s, writes, gap_s, late_s
        self.clock = self.next_row = 1_800_000_000.0
        self.lines: list[bytes] = []
        self.ages: list[float] = []

    def advance(self, seconds: float) -> None:
        self.clock += seconds
        while self.next_row <= self.clock:
            self._rows.append((round(self.next_row * 1e6), None, "api_call", "fetch_ticker", True,
                               20.0, None, 1, "BTC/USDT", True))
            self.next_row += self.gap_s

    def _now(self) -> float:
        return self.clock

    def _wait(self, timeout: float) -> bool:
        if len(self.ages) >= self.writes:
            return True
        self.advance(timeout + self.late_s)
        return False

    def _write(self, data: bytes | memoryview) -> None:
        self.advance(self.write_s(len(self.ages)))
        self.ages.append(self.clock - self._rows[len(self.lines)][0] / 1e6)
        self.lines += bytes(data).splitlines()


@pytest.mark.parametrize("write_s", [
    lambda n: 0.1,                                 # every flush slow: 40 % of the interval
    lambda n: 0.1 if n % 3 == 2 else 0.01,         # every third flush slow
    lambda n: 0.005 if n < 20 else 0.1,            # suddenly 20x slower, and it stays so
], ids=["slow", "sometimes-slow", "suddenly-slow"])
def test_journal_schedule_keeps_the_oldest_pending_row_younger_than_the_interval(
        tmp_path, write_s):
    journal = SimulatedJournal(tmp_path, write_s)
    journal._journal_loop()
    assert len(journal.ages) == journal.writes
    assert max(journal.ages) <= journal.flush_interval_s
    rows = journal._rows[:len(journal.lines)]
    assert b"\n".join(journal.lines) + b"\n" == journal.frame(rows).write_ndjson().encode()


def test_the_simulation_sees_a_late_journal(tmp_path):
    """A write slower than the interval must break the bound: the check above can fail."""
    journal = SimulatedJournal(tmp_path, lambda n: 0.3, writes=5)
    journal._journal_loop()
    assert max(journal.ages) > journal.flush_interval_s


@pytest.mark.parametrize("where, journaled", [("frame", 15), ("after-write", 15),
                                              ("before-write", 5)])
def test_an_interrupted_flush_never_writes_a_row_twice(tmp_path, where, journaled):
    """KeyboardInterrupt before the rows are claimed leaves them for the next flush; after,
    they are never written again (if the write had not happened, the journal misses them)."""

    class Interrupted(Recorder):
        armed = True

        def _trip(self, now: str) -> None:
            if self.armed and now == where:
                self.armed = False
                raise KeyboardInterrupt

        def frame(self, rows: list[tuple] | None = None) -> pl.DataFrame:
            self._trip("frame")
            return super().frame(rows)

        def _write(self, data: bytes | memoryview) -> None:
            self._trip("before-write")
            super()._write(data)
            self._trip("after-write")

    recorder = Interrupted("run-1", "dev", tmp_path)
    for i in range(10):
        recorder.record("api_call", "ping", True, float(i))
    with pytest.raises(KeyboardInterrupt):
        recorder.flush()
    for i in range(10, 15):
        recorder.record("api_call", "ping", True, float(i))
    recorder.flush()
    recorder.close()
    latencies = [json.loads(line)["latency_ms"] for line in
                 (tmp_path / "events.jsonl").read_text().splitlines()]
    assert latencies == [float(i) for i in range(15 - journaled, 15)]
    parquet = pl.read_parquet(tmp_path / "metrics.parquet")
    assert parquet["latency_ms"].to_list() == [float(i) for i in range(15)]

