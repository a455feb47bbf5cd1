"""Journal loss under kill -9: how old is the newest journaled event when the process dies?

A child process runs a real `runner.recorder.Recorder` (run folder in a temporary directory, flush
interval `journal_flush_s` from conf/config.yaml) under a producer thread recording ~40,000
realistic api_call events/s, busy-paced (it never sleeps: like a load phase it keeps the GIL
busy), plus a heartbeat thread.  The parent SIGKILLs it at a random moment and reads
events.jsonl back.  Loss window = kill wall time (taken after `os.kill` returns) minus the ts of
the newest journaled event, or of the first produced event if none was journaled yet: every
event older than that is in the file, so no event older than the window was lost.  A kill only
counts if the producer recorded an event within 50 ms before it (read from shared memory).  The
old journal (fixed-period loop, row-wise frame, open/write/fsync per flush) runs as a baseline
with the same kill delays, interleaved.  `--soak N` also kills N real `python -m runner
experiment=soak` runs per variant during their load phase (~100,000 events/s).

Usage: python benchmarks/bench_journal_loss.py [--quick] [--kills N] [--rate R] [--soak N]
"""

from __future__ import annotations

import argparse
import itertools
import json
import mmap
import os
import random
import signal
import statistics
import struct
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import yaml

from runner.recorder import Recorder
from runner.shared.events import JOURNAL_NAME, ROW_COLUMNS, polars_schema

ROOT = Path(__file__).resolve().parents[1]
SYMBOLS = ("BTC/USDT", "ETH/USDT")
STATE = struct.Struct("<qqq")  # first event ts (µs), latest event ts (µs), events produced
PRODUCING_S = 0.05  # a kill counts if the producer recorded an event this recently
EPOCH, MICROSECOND = datetime(1970, 1, 1, tzinfo=timezone.utc), timedelta(microseconds=1)


def conf_flush_s() -> float:
    """The default `journal_flush_s` from conf/config.yaml (what a run uses)."""
    return float(yaml.safe_load((ROOT / "conf" / "config.yaml").read_text())["journal_flush_s"])


# -- the old journal, reproduced as the baseline ---------------------------------------------


class LegacyRecorder(Recorder):
    """The journal before the deadline fix: sleep `flush_interval_s` after each flush, build the
    frame row-wise, open/write/fsync/close the file inside the flush."""

    def _journal_loop(self) -> None:
        while not self._stop.wait(self.flush_interval_s):
            self.flush()

    def _flush(self) -> tuple[int, float]:
        if self.run_dir is None:
            return 0, 0.0
        with self._journal_lock:
            start, end = self._journaled, len(self._rows)
            if end == start:
                return 0, 0.0
            frame = self.frame(self._rows[start:end])
            with open(self.journal_path, "ab") as out:
                frame.write_ndjson(out)
                out.flush()
                os.fsync(out.fileno())
            self._chunks.append((end, frame))
            return end - start, self._now()

    def frame(self, rows: list[tuple] | None = None) -> Any:
        import polars as pl

        schema = polars_schema()
        row_schema = {name: schema[name] for name in ROW_COLUMNS}
        row_schema["ts"] = pl.Int64
        frame = pl.DataFrame(self._rows if rows is None else rows, schema=row_schema, orient="row")
        return frame.select(pl.col("ts").cast(pl.Datetime("us", "UTC")),
                            pl.lit(self.run_id, pl.String).alias("run_id"),
                            pl.lit(self.env, pl.String).alias("env"), *ROW_COLUMNS[1:])


def patch_legacy() -> None:
    """Make every Recorder in this process journal the old way (for `--soak`)."""
    for name in ("_journal_loop", "_flush", "frame"):
        setattr(Recorder, name, LegacyRecorder.__dict__[name])


# -- child: a recorder under load, until killed ---------------------------------------------


def child(run_dir: Path, state_path: Path, rate: float, legacy: bool, seed: int) -> None:
    import polars  # noqa: F401  (a run has imported it long before its load phase)

    cls = LegacyRecorder if legacy else Recorder
    recorder = cls("bench-journal-loss", "dev", run_dir, flush_interval_s=conf_flush_s(),
                   phase="load")
    recorder.start()
    for _ in range(100):  # earlier phases: the journal has flushed before
        recorder.record("health", "disk_space", True, 1.0, phase="preflight")
    recorder.flush()
    with open(state_path, "r+b") as file:
        state = mmap.mmap(file.fileno(), STATE.size)

    def beat() -> None:
        while True:
            recorder.record("heartbeat", "alive", True)
            time.sleep(1.0)

    threading.Thread(target=beat, daemon=True).start()
    rnd = random.Random(seed)
    record, lognormal, now_us = recorder.record, rnd.lognormvariate, time.time_ns
    print("READY", flush=True)
    started, produced = time.perf_counter(), 0
    STATE.pack_into(state, 0, now_us() // 1000, now_us() // 1000, 0)
    while True:  # busy pacing: catch up to `rate` events/s, never sleep
        due = int((time.perf_counter() - started) * rate)
        while produced < due:
            ok = rnd.random() >= 0.01
            record("api_call", "fetch_ticker", ok, round(lognormal(4.4, 0.8), 3),
                   None if ok else "NetworkError", 1, SYMBOLS[produced & 1])
            produced += 1
            if produced & 63 == 0:
                state[8:] = struct.pack("<qq", now_us() // 1000, produced)


# -- parent: kill, read back, measure ---------------------------------------------------------


def read_back(path: Path) -> tuple[list[dict[str, Any]], int]:
    """Journal events and the number of lines that are not JSON (a torn last write)."""
    events, torn = [], 0
    for line in path.read_bytes().splitlines():
        try:
            events.append(json.loads(line))
        except ValueError:
            torn += 1
    return events, torn


def ts_us(event: dict[str, Any]) -> int:
    """Microseconds since the epoch of a journal ts (ISO string with +00:00)."""
    return (datetime.fromisoformat(event["ts"]) - EPOCH) // MICROSECOND


def kill_once(rate: float, legacy: bool, delay: float, seed: int) -> dict[str, Any]:
    """One child, killed `delay` seconds after it starts producing."""
    with tempfile.TemporaryDirectory(prefix="bench-jloss-") as tmp:
        run_dir, state_path = Path(tmp) / "run", Path(tmp) / "state"
        run_dir.mkdir()
        state_path.write_bytes(bytes(STATE.size))
        cmd = [sys.executable, __file__, "--child", str(run_dir), str(state_path),
               "--rate", str(rate), "--seed", str(seed)] + (["--legacy"] if legacy else [])
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, cwd=ROOT)
        try:
            assert proc.stdout is not None and proc.stdout.readline().strip() == b"READY"
            time.sleep(delay)
            with open(state_path, "rb") as file:
                first, latest, produced = STATE.unpack(file.read())
            os.kill(proc.pid, signal.SIGKILL)
            killed = time.time_ns() // 1000
        finally:
            proc.kill()
            proc.wait()
        events, torn = read_back(run_dir / JOURNAL_NAME)
    calls = [ts_us(e) for e in events if e["kind"] == "api_call"]
    newest = max(ts_us(e) for e in events)
    return {"legacy": legacy, "delay": delay, "journaled": len(calls), "produced": produced,
            "torn": torn, "producing": (killed - latest) / 1e6 <= PRODUCING_S,
            "in_order": all(a <= b for a, b in itertools.pairwise(calls)),
            "loss_s": (killed - max(newest, first)) / 1e6}


def soak_once(legacy: bool, delay: float, load_s: float | None) -> dict[str, Any]:
    """One `python -m runner experiment=soak`, killed `delay` s into its load phase (as seen in
    its journal); with `load_s` None, not killed: returns how long the load phase took."""
    with tempfile.TemporaryDirectory(prefix="bench-jloss-soak-") as tmp:
        run_dir = Path(tmp) / "run"
        boot = (f"import runpy, sys; sys.path.insert(0, {str(Path(__file__).parent)!r}); "
                f"import bench_journal_loss as b; b.patch_legacy() if {legacy} else None; "
                f"sys.argv = ['runner', 'experiment=soak', 'hydra.run.dir={run_dir}']; "
                "runpy.run_module('runner', run_name='__main__', alter_sys=True)")
        proc = subprocess.Popen([sys.executable, "-c", boot], cwd=tmp,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        journal, seen, load_seen = run_dir / JOURNAL_NAME, 0, None
        try:
            while proc.poll() is None and load_seen is None:
                time.sleep(0.005)
                if journal.is_file():
                    text = journal.read_bytes()[seen:]
                    if b'"phase":"load"' in text:
                        load_seen = time.time()
                    seen += text.rfind(b"\n") + 1
            if load_s is None:
                proc.wait()
                events, _ = read_back(journal)
                load = [ts_us(e) for e in events if e["phase"] == "load"]
                return {"load_s": (max(load) - min(load)) / 1e6}
            time.sleep(delay)
            os.kill(proc.pid, signal.SIGKILL)
            killed = time.time_ns() // 1000
        finally:
            proc.kill()
            proc.wait()
        events, torn = read_back(journal)
    ended = any(e["kind"] == "phase" and e["name"] == "load" for e in events)
    calls = [ts_us(e) for e in events if e["kind"] == "api_call" and e["phase"] == "load"]
    return {"legacy": legacy, "delay": delay, "journaled": len(calls), "produced": None,
            "torn": torn, "producing": load_seen is not None and not ended,
            "in_order": all(a <= b for a, b in itertools.pairwise(calls)),
            "loss_s": (killed - max(ts_us(e) for e in events)) / 1e6}


def summarize(tag: str, kills: list[dict[str, Any]], bound: float) -> list[str]:
    """Print the per-kill table and the summary; return the RESULT lines."""
    print(f"{'kill':>4} {'delay s':>8} {'variant':<8} {'journaled':>9} {'torn':>4} "
          f"{'producing':>9} {'loss ms':>8}")
    for k in kills:
        print(f"{k['kill']:>4} {k['delay']:>8.3f} {'old' if k['legacy'] else 'new':<8} "
              f"{k['journaled']:>9,} {k['torn']:>4} {'yes' if k['producing'] else 'NO':>9} "
              f"{k['loss_s'] * 1000:>8.1f}")
    broken = [k for k in kills if not k["in_order"]]
    if broken:
        print(f"!! {len(broken)} journal(s) with api_call ts going backwards (duplicated rows?)")
    figures = {}
    for legacy in (True, False):
        counted = [k["loss_s"] for k in kills if k["legacy"] == legacy and k["producing"]]
        if counted:
            figures[legacy] = (max(counted), statistics.median(counted),
                               sum(x > bound for x in counted), len(counted))
    print(f"\n{'variant':<26} {'kills':>5} {'worst ms':>9} {'median ms':>10} {'> bound':>8} "
          f"{'worst<=bound':>13}")
    for legacy, (worst, median, over, n) in figures.items():
        name = "old journal (baseline)" if legacy else "deadline journal (now)"
        print(f"{name:<26} {n:>5} {worst * 1000:>9.1f} {median * 1000:>10.1f} {over:>8} "
              f"{'yes' if worst <= bound else 'NO':>13}")
    if False not in figures:
        return []
    worst, median = figures[False][:2]
    if True in figures:
        print(f"old / new: worst {figures[True][0] / worst:.2f}x, "
              f"median {figures[True][1] / median:.2f}x")
    verdict = "PASS" if worst <= bound and not broken else "MISS"
    return [f"RESULT journal_{tag}loss_worst_ms {worst * 1000:.1f} ms target <={bound * 1000:.0f} "
            f"{verdict}", f"RESULT journal_{tag}loss_median_ms {median * 1000:.1f} ms"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="5 kills instead of 20")
    parser.add_argument("--kills", type=int, default=None, help="kills per variant (20)")
    parser.add_argument("--rate", type=float, default=40_000.0, help="events/s (40,000)")
    parser.add_argument("--window", type=float, default=3.0, help="kill within s (3.0)")
    parser.add_argument("--soak", type=int, default=0, help="also kill N soak runs per variant")
    parser.add_argument("--no-baseline", action="store_true", help="skip the old journal")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--child", nargs=2, metavar=("RUN_DIR", "STATE"), help=argparse.SUPPRESS)
    parser.add_argument("--legacy", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(Path(args.child[0]), Path(args.child[1]), args.rate, args.legacy, args.seed)
        return 0
    bound, kills = conf_flush_s(), args.kills or (5 if args.quick else 20)
    variants = [False] if args.no_baseline else [True, False]
    rnd = random.Random(args.seed)
    print(f"{kills} kills per variant, {args.rate:,.0f} events/s, journal_flush_s={bound}, "
          f"kill 0.05-{args.window} s after production starts; Python "
          f"{sys.version.split()[0]}, {os.cpu_count()} cores\n")
    results: list[dict[str, Any]] = []
    for i in range(kills):
        delay = rnd.uniform(0.05, args.window)
        for legacy in variants:  # same delay for both: paired, interleaved
            results.append(kill_once(args.rate, legacy, delay, args.seed + i) | {"kill": i + 1})
    print(f"(a) Recorder in a child process, {args.rate:,.0f} events/s")
    lines = summarize("", results, bound)
    if args.soak:
        load_s = statistics.median(soak_once(False, 0.0, None)["load_s"] for _ in range(2))
        print(f"\n(b) python -m runner experiment=soak: load phase ~{load_s:.2f} s; kill "
              f"0-{0.9 * load_s:.2f} s after its first journaled load event")
        soaks = []
        for i in range(args.soak):
            delay = rnd.uniform(0.0, 0.9 * load_s)
            for legacy in variants:
                soaks.append(soak_once(legacy, delay, load_s) | {"kill": i + 1})
        lines += summarize("soak_", soaks, bound)
    print("\n" + "\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
