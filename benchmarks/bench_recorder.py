"""Metric recorder cost: (a) raw Recorder.record throughput with the journal on, against appending
the same tuple to a plain list; (b) a 100,000-call load phase on the paper adapter with recording
on (journal running) vs. off (Recorder(enabled=False)), interleaved, median of 3.

Usage: python benchmarks/bench_recorder.py [--quick]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

from adapters.instrumented import InstrumentedExchange
from adapters.paper import PaperExchange
from runner.phases import load
from runner.recorder import Recorder
from runner.run_data import RunData

SYMBOLS = ["BTC/USDT", "ETH/USDT"]
RECORD_TARGET = 300_000.0  # events/s, record loop with the journal thread running
LOAD_TARGET = 1.15  # on/off time ratio of the load phase


def bench_record(events: int) -> tuple[float, float]:
    """Seconds for `events` records with the journal on, and for record + close."""
    with tempfile.TemporaryDirectory(prefix="bench-rec-") as tmp:
        recorder = Recorder("bench", "dev", Path(tmp), flush_interval_s=0.25)
        recorder.start()
        record = recorder.record
        started = time.perf_counter()
        for _ in range(events):
            record("api_call", "fetch_ticker", True, 20.0, None, 1, "BTC/USDT")
        loop = time.perf_counter() - started
        recorder.close()
        total = time.perf_counter() - started
        assert (Path(tmp) / "metrics.parquet").is_file()
    return loop, total


def bench_list(events: int) -> float:
    """Baseline: append the same tuple a record would build to a plain list."""
    rows: list[tuple] = []
    append, now = rows.append, time.time_ns
    started = time.perf_counter()
    for _ in range(events):
        append((now() // 1000, None, "api_call", "fetch_ticker", True, 20.0, None, 1, "BTC/USDT"))
    return time.perf_counter() - started


def bench_load(calls: int, journal: bool) -> float:
    """Seconds of runner.phases.load.run (calls fetch_ticker, no orders) on the paper adapter."""
    with tempfile.TemporaryDirectory(prefix="bench-load-") as tmp:
        recorder = Recorder("bench", "dev", Path(tmp), flush_interval_s=0.25, enabled=journal,
                            phase="load")
        if journal:
            recorder.start()
        inner = PaperExchange(seed=42, symbols=SYMBOLS, latency={"mode": "record"},
                              faults={"error_rate": 0.0, "timeout_rate": 0.0,
                                      "rate_limit_rate": 0.0})
        exchange = InstrumentedExchange(inner, recorder, seed=42)
        ctx = SimpleNamespace(exchange=exchange, symbols=SYMBOLS, data=RunData(),
                              cancelled=False, run_id="bench")
        started = time.perf_counter()
        summary = load.run(ctx, calls=calls, orders=0)  # type: ignore[arg-type]
        elapsed = time.perf_counter() - started
        recorder.close()
    assert summary["calls"] == calls and summary["errors"] == 0, summary
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1 repetition instead of 3")
    args = parser.parse_args()
    events, reps = 1_000_000, (1 if args.quick else 3)
    calls, load_reps = 100_000, (1 if args.quick else 3)
    bench_load(1_000, True)  # warm-up: imports polars, builds the simulator's code paths
    results: list[str] = []

    loops: list[float] = []
    totals: list[float] = []
    lists: list[float] = []
    for _ in range(reps):
        lists.append(bench_list(events))
        loop, total = bench_record(events)
        loops.append(loop)
        totals.append(total)
    base, loop, total = (statistics.median(x) for x in (lists, loops, totals))

    def verdict(secs: float) -> str:
        return "PASS" if events / secs >= RECORD_TARGET else "MISS"

    print(f"(a) {events:,} events, median of {reps}, journal on (flush_interval_s=0.25)")
    print(f"{'variant':<28} {'seconds':>8} {'events/s':>11} {'x list':>7}")
    for name, secs in (("plain list.append", base), ("Recorder.record loop", loop),
                       ("Recorder.record + close()", total)):
        print(f"{name:<28} {secs:>8.3f} {events / secs:>11,.0f} {secs / base:>6.2f}x")
    print(f"target >= {RECORD_TARGET:,.0f} events/s: loop {verdict(loop)}, "
          f"record+close {verdict(total)}\n")
    for name, secs in (("recorder_events_per_s", loop), ("recorder_close_events_per_s", total)):
        results.append(f"RESULT {name} {events / secs:.0f} events/s "
                       f"target >={RECORD_TARGET:.0f} {verdict(secs)}")

    on: list[float] = []
    off: list[float] = []
    for _ in range(load_reps):
        off.append(bench_load(calls, journal=False))
        on.append(bench_load(calls, journal=True))
    t_off, t_on = statistics.median(off), statistics.median(on)
    ratio = t_on / t_off
    load_verdict = "PASS" if ratio <= LOAD_TARGET else "MISS"
    print(f"(b) load phase, {calls:,} fetch_ticker on paper (latency=record), median of "
          f"{load_reps}")
    print(f"{'variant':<28} {'seconds':>8} {'calls/s':>11} {'ratio':>7}")
    for name, secs in (("recording off", t_off), ("recording on (journal)", t_on)):
        print(f"{name:<28} {secs:>8.3f} {calls / secs:>11,.0f} {secs / t_off:>6.2f}x")
    print(f"target on/off <= {LOAD_TARGET}x: {load_verdict}\n")
    results.append(f"RESULT load_recording_overhead {ratio:.3f} x_off target <={LOAD_TARGET} "
                   f"{load_verdict}")
    print("\n".join(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
