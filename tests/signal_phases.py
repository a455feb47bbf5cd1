"""Phases for tests/test_signals.py: each holds a run at a known point, so that a signal sent from
the test lands there for certain; the test waits for the marker file they write, never a sleep."""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path
from typing import Any

from runner.phases import resolve_callable


def _marker(ctx: Any, name: str) -> None:
    Path(ctx.run_dir, name).write_text(str(os.getpid()))


def _wait_cancelled(ctx: Any, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while not ctx.cancelled and time.monotonic() < deadline:
        time.sleep(0.005)


def held(ctx: Any, *, phase: str, hold_s: float = 60.0, **params: Any) -> Any:
    """Write `<phase>.holding`, wait until the run is told to stop, then run the real phase —
    while the rest of the test's burst of signals is still arriving."""
    _marker(ctx, f"{phase}.holding")
    _wait_cancelled(ctx, hold_s)
    return resolve_callable(phase)(ctx, **params)


def hold(ctx: Any, *, seeds: list[int] | None = None, hold_s: float = 60.0) -> dict[str, Any]:
    """Write `holding` (the worker's pid in it) and wait until told to stop; only for the given
    seeds (all when None), so some jobs of a sweep hold and others finish at once."""
    if seeds is None or ctx.config["seed"] in seeds:
        _marker(ctx, "holding")
        _wait_cancelled(ctx, hold_s)
    return {"cancelled": ctx.cancelled}


def polars_busy(ctx: Any, *, seconds: float = 3.0) -> dict[str, Any]:
    """Run polars queries back to back for `seconds`, whatever the signals say (`busy` marker
    first): polars' own SIGINT hook would turn a signal into KeyboardInterrupt in here."""
    import polars as pl

    frame = pl.DataFrame({"a": range(200_000)}).lazy()
    _marker(ctx, "busy")
    queries, deadline = 0, time.monotonic() + seconds
    while time.monotonic() < deadline:
        frame.with_columns((pl.col("a") * 3 % 7).alias("b")).sort("b").collect()
        queries += 1
    return {"queries": queries}


def signal_when(ctx: Any, *, signame: str = "SIGTERM", after: str = "now",
                events: int = 0) -> None:
    """Send `signame` to this process once `after` happened: `now` (as this phase returns) or
    `metrics` (metrics.parquet being written: the executor has returned, result.json does not
    exist yet).  `events` recorded first make that write, and so the window, longer."""
    signum = getattr(signal, signame)
    for number in range(events):  # each line unique: the tests count duplicated lines
        ctx.recorder.record("api_call", "fetch_ticker", True, float(number), None, 1, "BTC/USDT")
    written = [Path(ctx.run_dir, name) for name in (".metrics.parquet.tmp", "metrics.parquet")]

    def send() -> None:
        deadline = time.monotonic() + 30
        while after == "metrics" and not any(path.exists() for path in written):
            if time.monotonic() > deadline:
                return
            time.sleep(0.0005)
        os.kill(os.getpid(), signum)

    threading.Thread(target=send, name="signal-when", daemon=True).start()
