"""Nightly SLO report computation (slo/) against DuckDB, pandas and a pure-Python loop, on
generated run folders in the real metrics.parquet format; peak RSS of the nightly at 100M events.

Data: parts of 100 run folders x 10,000 events (1M events) each; --quick reads 1 part, the full
run 10 parts (10M) plus 100 parts (100M) for the RSS check, which runs in a subprocess.
See benchmarks/README.md for exactly what each contender computes and times.
Usage: python benchmarks/bench_slo.py [--quick] [--rss] [--data DIR] [--rss-parts N]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import polars as pl
from omegaconf import OmegaConf

from runner.shared.events import COLUMNS, polars_schema
from runner.shared.files import write_parquet_atomic
from slo.budget import EPOCH
from slo.compute import assess, make_grid
from slo.read import discover, load_events
from slo.retries import retry_summary
from slo.runs import run_facts
from slo.settings import EVENT_COLUMNS
from slo.spec import load_objectives

SPEC_FILE = Path(__file__).resolve().parents[1] / "conf" / "slo" / "default.yaml"
FOLDERS, EVENTS = 100, 10_000  # per part
MIN_US, DAY_US = 60_000_000, 86_400_000_000
UPTIME_NAMES = ("alive", "disk_space", "memory", "exchange_ping", "clock_skew")
NAMES = ("system_uptime", "api_response_time", "trade_execution_time", "error_rate")
DUCK_TARGET, PANDAS_TARGET, RSS_TARGET = 1.0, 20.0, 1024.0


# -- data ------------------------------------------------------------------------------


def pick(u: pl.Expr, choices: list[tuple[float, str]]) -> pl.Expr:
    """choices[k] where u < its cumulative probability (the last one otherwise)."""
    expr, edge = None, 0.0
    for p, value in choices[:-1]:
        edge += p
        expr = (pl.when(u < edge) if expr is None else expr.when(u < edge)).then(pl.lit(value))
    return expr.otherwise(pl.lit(choices[-1][1])) if expr is not None else pl.lit(choices[0][1])


def run_frame(i: int, now_us: int) -> tuple[str, pl.DataFrame]:
    """Run i: 10,000 events over 15-45 min, starting in the last 7 days (seeded by i)."""
    rnd = random.Random(i)
    start = now_us - rnd.randrange(7 * DAY_US - 3_600_000_000)
    duration = rnd.randrange(15, 45) * MIN_US
    env = ("dev", "staging", "prod")[i % 3]
    stamp = datetime.fromtimestamp(start / 1e6, timezone.utc)
    folder = f"{stamp:%Y-%m-%d}/{stamp:%H-%M-%S}_{env}_{i}"

    def u(k: int) -> pl.Expr:  # uniform (0, 1], vectorised and seeded, no numpy
        return ((pl.int_range(EVENTS).hash(seed=i * 16 + k) // 2048).cast(pl.Float64) + 1) / 2**53

    z = (-2 * u(1).log()).sqrt() * (2 * math.pi * u(2)).cos()  # standard normal (Box-Muller)
    kind, ok = pl.col("kind"), pl.col("ok")
    mu_sigma = {"api_call": (80, 0.8), "order": (250, 0.6), "health": (5, 1.0),
                "phase": (60_000, 0.5)}
    latency = pl.lit(None, pl.Float64)
    for k, (median, sigma) in mu_sigma.items():
        latency = pl.when(kind == k).then((math.log(median) + sigma * z).exp()).otherwise(latency)
    exchange = kind.is_in(["api_call", "order"])
    frame = pl.select(
        ts=(start + pl.int_range(EVENTS) * duration // EVENTS).cast(pl.Datetime("us", "UTC")),
        kind=pick(u(0), [(0.90, "api_call"), (0.02, "order"), (0.05, "health"),
                         (0.02, "heartbeat"), (0.01, "phase")]),
        u3=u(3), u4=u(4), u5=u(5),
    ).with_columns(
        run_id=pl.lit(f"{stamp:%Y%m%dT%H%M%SZ}-{env}-{i:06x}"), env=pl.lit(env),
        phase=pick(pl.col("u5"), [(0.8, "load"), (0.1, "market_data"), (0.1, "orders")]),
        name=pl.when(kind == "api_call").then(pick(pl.col("u3"), [
            (0.6, "fetch_ticker"), (0.2, "fetch_ohlcv"), (0.1, "fetch_balance"),
            (0.1, "fetch_order")]))
        .when(kind == "order").then(pick(pl.col("u3"), [(0.8, "create_order"),
                                                          (0.2, "cancel_order")]))
        .when(kind == "health").then(pick(pl.col("u3"), [(0.25, n) for n in UPTIME_NAMES[1:]]))
        .when(kind == "heartbeat").then(pl.lit("alive"))
        .otherwise(pick(pl.col("u3"), [(0.2, p) for p in ("preflight", "market_data", "load",
                                                           "orders", "teardown")])),
        ok=(kind == "heartbeat") | (pl.col("u4") < pl.when(kind == "health").then(0.999)
                                    .otherwise(0.99)),
        latency_ms=latency,
    ).with_columns(
        error=pl.when(~ok & exchange).then(pick(pl.col("u5"), [
            (0.5, "RequestTimeout"), (0.3, "RateLimitExceeded"), (0.2, "ExchangeError")]))
        .when(~ok).then(pl.lit("Unhealthy")),
        attempt=pl.when(exchange & (pl.col("u5") < 0.03)).then(2).otherwise(1).cast(pl.Int32),
        symbol=pl.when(exchange).then(pick(pl.col("u3"), [(0.5, "BTC/USDT"), (0.5, "ETH/USDT")])),
        final=pl.when(exchange).then(pl.lit(True)),  # each exchange row a call's last attempt
    ).select(COLUMNS)
    return folder, frame


def generate(data: Path, parts: int, now_us: int) -> list[Path]:
    """Part roots data/part-NNN (reused when complete: marked by a DONE file)."""
    roots = []
    for part in range(parts):
        root = data / f"part-{part:03d}"
        roots.append(root)
        if (root / "DONE").exists():
            continue
        shutil.rmtree(root, ignore_errors=True)
        for i in range(part * FOLDERS, (part + 1) * FOLDERS):
            folder, frame = run_frame(i, now_us)
            assert frame.schema == polars_schema(), frame.schema
            (root / "runs" / folder).mkdir(parents=True)
            write_parquet_atomic(frame, root / "runs" / folder / "metrics.parquet")
            first, last = frame["ts"].min(), frame["ts"].max()
            (root / "runs" / folder / "result.json").write_text(json.dumps({
                "run_id": frame["run_id"][0], "env": frame["env"][0], "status": "succeeded",
                "exit_code": 0, "started_at": first.isoformat(), "ended_at": last.isoformat(),
                "phases": []}), encoding="utf-8")
        (root / "DONE").touch()
    return roots


# -- the contenders --------------------------------------------------------------------


def load_spec():
    return load_objectives(OmegaConf.to_container(OmegaConf.load(SPEC_FILE)))


def slis(roots: list[Path], spec, as_of: datetime) -> tuple[list[dict], object]:
    """The same work as the other contenders: discover -> load_events -> the objectives'
    numbers (no run facts, contributors or retry figures)."""
    sources = discover(roots)
    since = EPOCH + timedelta(microseconds=make_grid(spec, as_of).start_us)
    data = load_events(sources, since, list(dict.fromkeys([*EVENT_COLUMNS, *spec.columns])))
    return assess(data.frame, spec, as_of).objectives, data


def nightly(roots: list[Path], spec, as_of: datetime) -> tuple[list[dict], object]:
    """slo/nightly.py's computation: discover -> run facts -> load_events(since, columns) ->
    assess with contributors (one read) -> retry figures."""
    sources = discover(roots)
    runs = run_facts(sources)
    since = EPOCH + timedelta(microseconds=make_grid(spec, as_of).start_us)
    data = load_events(sources, since, list(dict.fromkeys([*EVENT_COLUMNS, *spec.columns])))
    assessment = assess(data.frame, spec, as_of, runs=runs, explain=True)
    retry_summary(data.frame, since, as_of)
    return assessment.objectives, data


def windows(as_of_us: int) -> tuple[int, int]:
    """(start of the 7 d windows, start of the 30 d uptime window aligned to its 1 min slices)."""
    return as_of_us - 7 * DAY_US, (as_of_us - 30 * DAY_US) // MIN_US * MIN_US


SQL = """
WITH ev AS (SELECT epoch_us(ts) AS t, run_id, kind, name, ok, latency_ms
            FROM read_parquet({files}) WHERE epoch_us(ts) >= {month} AND epoch_us(ts) < {as_of}),
occ AS (SELECT
    count(*) FILTER (kind = 'api_call' AND ok), count(*) FILTER (kind = 'api_call' AND ok
      AND latency_ms < 500),
    count(*) FILTER (kind = 'order' AND name = 'create_order' AND ok),
    count(*) FILTER (kind = 'order' AND name = 'create_order' AND ok AND latency_ms < 1000),
    count(*) FILTER (kind IN ('api_call', 'order')),
    count(*) FILTER (kind IN ('api_call', 'order') AND ok)
  FROM ev WHERE t >= {week}),
life AS (SELECT min(t) // {minute} AS a, max(t) // {minute} AS b FROM ev GROUP BY run_id),
expected AS (SELECT DISTINCT unnest(range(a, b + 1)) AS m FROM life),
slices AS (SELECT t // {minute} AS m, bool_and(ok) AS good FROM ev
           WHERE kind IN ('heartbeat', 'health') AND name IN {names} GROUP BY 1)
SELECT (SELECT count(*) FROM expected),
       (SELECT count(*) FROM expected JOIN slices USING (m) WHERE good), occ.* FROM occ
"""


def duckdb_slis(roots: list[Path], as_of_us: int) -> dict[str, tuple[int, int]]:
    import duckdb

    week, month = windows(as_of_us)
    files = [f"{r}/**/metrics.parquet" for r in roots]
    row = duckdb.connect().execute(SQL.format(
        files=files, month=month, as_of=as_of_us, week=week, minute=MIN_US,
        names=UPTIME_NAMES)).fetchone()
    return {n: (row[2 * k], row[2 * k + 1]) for k, n in enumerate(NAMES)}


def pandas_slis(files: list[Path], as_of_us: int) -> dict[str, tuple[int, int]]:
    import pandas as pd

    week, month = windows(as_of_us)
    cols = ["ts", "run_id", "kind", "name", "ok", "latency_ms"]
    df = pd.concat([pd.read_parquet(f, columns=cols) for f in files], ignore_index=True)
    df["t"] = df["ts"].dt.as_unit("us").astype("int64")
    df = df[(df["t"] >= month) & (df["t"] < as_of_us)]
    df["m"] = df["t"] // MIN_US
    w = df[df["t"] >= week]
    api, order = w["kind"] == "api_call", (w["kind"] == "order") & (w["name"] == "create_order")
    life = df.groupby("run_id")["m"].agg(["min", "max"])
    expected = {m for a, b in zip(life["min"], life["max"], strict=True) for m in range(a, b + 1)}
    up = df[df["kind"].isin(["heartbeat", "health"]) & df["name"].isin(UPTIME_NAMES)]
    good = up.groupby("m")["ok"].all()
    return {"system_uptime": (len(expected), int(good[good].index.isin(expected).sum())),
            "api_response_time": (int((api & w["ok"]).sum()),
                                  int((api & w["ok"] & (w["latency_ms"] < 500)).sum())),
            "trade_execution_time": (int((order & w["ok"]).sum()),
                                     int((order & w["ok"] & (w["latency_ms"] < 1000)).sum())),
            "error_rate": (int((api | (w["kind"] == "order")).sum()),
                           int(((api | (w["kind"] == "order")) & w["ok"]).sum()))}


class SLOMonitor:
    """The original system's style: one event dict at a time, counters per SLO."""

    def __init__(self, as_of: datetime) -> None:
        self.as_of, self.week = as_of, as_of - timedelta(days=7)
        self.month = as_of - timedelta(days=30)
        self.counts = {n: [0, 0] for n in NAMES[1:]}
        self.lives: dict[str, list[int]] = {}
        self.minutes: dict[int, bool] = {}

    def record(self, e: dict) -> None:
        ts = e["ts"]
        if not self.month <= ts < self.as_of:
            return
        minute = int(ts.timestamp()) // 60
        life = self.lives.setdefault(e["run_id"], [minute, minute])
        life[0], life[1] = min(life[0], minute), max(life[1], minute)
        kind, ok = e["kind"], e["ok"]
        if kind in ("heartbeat", "health") and e["name"] in UPTIME_NAMES:
            self.minutes[minute] = self.minutes.get(minute, True) and ok
        if ts < self.week or kind not in ("api_call", "order"):
            return
        self.counts["error_rate"][0] += 1
        self.counts["error_rate"][1] += ok
        latency = e["latency_ms"]
        if kind == "api_call" and ok:
            self.counts["api_response_time"][0] += 1
            self.counts["api_response_time"][1] += latency is not None and latency < 500
        elif kind == "order" and ok and e["name"] == "create_order":
            self.counts["trade_execution_time"][0] += 1
            self.counts["trade_execution_time"][1] += latency is not None and latency < 1000

    def report(self) -> dict[str, tuple[int, int]]:
        expected = {m for a, b in self.lives.values() for m in range(a, b + 1)}
        good = sum(1 for m in expected if self.minutes.get(m))
        return {"system_uptime": (len(expected), good),
                **{n: (v, g) for n, (v, g) in self.counts.items()}}


# -- measuring -------------------------------------------------------------------------


def timed(fn, reps: int):
    """(median seconds of reps calls, last result)."""
    times, out = [], None
    for _ in range(reps):
        started = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times), out


def child_rss(roots: list[Path], as_of: datetime) -> tuple[float, float, float]:
    """(seconds, peak RSS MiB, ru_maxrss MiB) of the nightly computation in a fresh interpreter.

    The peak is the child's own VmHWM: Linux carries the parent's RSS across fork/vfork + exec
    into the child's ru_maxrss (RUSAGE_CHILDREN, wait4), which is printed alongside."""
    proc = subprocess.Popen([sys.executable, __file__, "--as-of", as_of.isoformat(), "--child",
                             *map(str, roots)], stdout=subprocess.PIPE, text=True)
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)  # this child's own rusage (ru_maxrss: KiB)
    if status != 0:
        sys.exit(f"child failed ({status}): {out}")
    secs, hwm = out.split()[-2:]
    return float(secs), int(hwm) / 1024, usage.ru_maxrss / 1024


def counts(objectives: list[dict]) -> dict[str, tuple[int, int]]:
    """The four event objectives the other contenders compute (run_completion is per run)."""
    return {o["name"]: (o["valid"], o["good"]) for o in objectives if o["name"] in NAMES}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1M events, no 100M RSS check")
    parser.add_argument("--rss", action="store_true", help="only the 100M peak-RSS check")
    parser.add_argument("--data", type=Path, help="keep/reuse generated run folders here")
    parser.add_argument("--rss-parts", type=int, default=100, help="parts (1M events) for RSS")
    parser.add_argument("--as-of", help=argparse.SUPPRESS)
    parser.add_argument("--child", nargs="+", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    spec = load_spec()
    if args.child:
        secs, _ = timed(lambda: nightly(args.child, spec, datetime.fromisoformat(args.as_of)), 1)
        status = Path("/proc/self/status").read_text().split()
        print(f"CHILD {secs:.3f} {status[status.index('VmHWM:') + 1]}")  # peak RSS, KiB
        return 0

    data = args.data or Path(tempfile.mkdtemp(prefix="bench-slo-"))
    data.mkdir(parents=True, exist_ok=True)
    free = shutil.disk_usage(data).free / 2**30
    now_us = time.time_ns() // 1000
    parts, reps = (1, 1) if args.quick else (10, 3)
    results: list[str] = []
    try:
        if not args.rss:
            started = time.perf_counter()
            roots = generate(data, parts, now_us)
            print(f"data: {parts * FOLDERS:,} run folders x {EVENTS:,} events in {data} "
                  f"(generated/reused in {time.perf_counter() - started:.1f} s, not timed)")
            as_of = datetime.now(timezone.utc)
            as_of_us = (as_of - datetime(1970, 1, 1, tzinfo=timezone.utc)) // timedelta(
                microseconds=1)
            rows = run_all(roots, spec, as_of, as_of_us, reps, results)
            print(rows)
        if args.rss or not args.quick:
            need = args.rss_parts * 0.02 + 10  # ~20 MB per part, plus 10 GB left free
            if free < need:
                print(f"RSS check skipped: {free:.0f} GB free, needs ~{need:.0f} GB")
            else:
                started = time.perf_counter()
                roots = generate(data, args.rss_parts, now_us)
                print(f"RSS data: {args.rss_parts * FOLDERS:,} folders "
                      f"({args.rss_parts}M events), {time.perf_counter() - started:.0f} s")
                secs, mib, maxrss = child_rss(roots, datetime.now(timezone.utc))
                verdict = "PASS" if mib <= RSS_TARGET else "MISS"
                print(f"nightly computation in a subprocess, {args.rss_parts}M events: "
                      f"{secs:.2f} s, peak RSS (VmHWM) {mib:.0f} MiB (target <= "
                      f"{RSS_TARGET:.0f}); ru_maxrss {maxrss:.0f} MiB (includes parent's RSS)")
                results.append(f"RESULT slo_peak_rss_{args.rss_parts}m {mib:.0f} MiB target "
                               f"<={RSS_TARGET:.0f} {verdict}")
    finally:
        if args.data is None:
            shutil.rmtree(data, ignore_errors=True)
    print("\n".join(results))
    return 0


def run_all(roots: list[Path], spec, as_of: datetime, as_of_us: int, reps: int,
            results: list[str]) -> str:
    files = [s.parquet for s in discover(roots)]
    nightly(roots, spec, as_of)  # warm-up: imports, page cache
    t_slo, (objectives, loaded) = timed(lambda: slis(roots, spec, as_of), reps)
    expected = counts(objectives)
    t_all, (explained, _) = timed(lambda: nightly(roots, spec, as_of), reps)
    table = [("nightly SLIs (discover+load+assess), the compared work", t_slo, "-", True),
             ("  whole nightly: + run facts, contributors, retries (not in ratios)", t_all,
              f"{t_all / t_slo:.2f}x", counts(explained) == expected)]
    with tempfile.TemporaryDirectory() as tmp:
        from slo.report import nightly_report, write_report

        report = nightly_report(spec, objectives, as_of, runs=len(loaded.used), data_quality={
            "files_read": len(loaded.used), "journals_read": 0, "skipped": [],
            "journal_bad_lines": 0})
        t_write, _ = timed(lambda: write_report(report, Path(tmp) / "r", html=True), 1)
    table.append(("  + write_report json/md/html (not in ratios)", t_write, "-", "-"))
    t_duck = t_pd = None
    try:
        duckdb_slis(roots, as_of_us)
        t_duck, got = timed(lambda: duckdb_slis(roots, as_of_us), reps)
        table.append(("DuckDB: one SQL query, 4 SLIs", t_duck, f"{t_slo / t_duck:.2f}x",
                      got == expected))
    except ImportError:
        print("DuckDB skipped: duckdb not installed (pip install duckdb)")
    try:
        t_pd, got = timed(lambda: pandas_slis(files, as_of_us), 1)
        table.append(("pandas: read_parquet per file + concat", t_pd,
                      f"{t_pd / t_slo:.1f}x", got == expected))
    except ImportError:
        print("pandas skipped: pandas/pyarrow not installed (pip install pandas pyarrow)")
    part = [s.parquet for s in discover(roots[:1])]  # 1M events
    events = [e for f in part for e in pl.read_parquet(f).iter_rows(named=True)]
    monitor = SLOMonitor(as_of)
    t_py, _ = timed(lambda: [monitor.record(e) for e in events], 1)
    same = monitor.report() == expected if len(roots) == 1 else "n/a"
    scale = len(files) / len(part)
    table.append((f"pure-Python SLOMonitor loop, {len(events):,} events", t_py, "-", same))
    table.append((f"  extrapolated x{scale:.0f} ({len(files) * EVENTS:,} events)", t_py * scale,
                  f"{t_py * scale / t_slo:.0f}x", "n/a"))  # x1 with --quick: measured
    lines = [f"{len(files) * EVENTS:,} events, median of {reps} (after 1 warm-up); "
             f"Python {sys.version.split()[0]}, polars {pl.__version__}, {os.cpu_count()} cores",
             f"{'contender':<52} {'seconds':>8} {'ratio':>7}  same counts"]
    lines += [f"{n:<52} {s:>8.3f} {r:>7}  {c}" for n, s, r, c in table]
    lines.append("ratios: DuckDB row = nightly/duckdb; pandas = pandas/nightly; "
                 "python = python/nightly")
    if t_duck:
        ratio = t_slo / t_duck
        results.append(f"RESULT slo_vs_duckdb {ratio:.2f} ratio target <={DUCK_TARGET} "
                       f"{'PASS' if ratio <= DUCK_TARGET else 'MISS'}")
    if t_pd:
        speedup = t_pd / t_slo
        results.append(f"RESULT pandas_vs_slo {speedup:.1f} speedup target >={PANDAS_TARGET:.0f} "
                       f"{'PASS' if speedup >= PANDAS_TARGET else 'MISS'}")
    for name, (v, g) in expected.items():
        lines.append(f"  {name}: valid {v:,} good {g:,}")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
