"""The built-in phases against the paper exchange, in-process."""

from __future__ import annotations

import threading
import time

import polars as pl
import pytest

from runner.context import RunContext
from runner.executor import Executor
from runner.order_book import settle_orders
from runner.phases import connect, execution, load, market_data, strategy
from runner.phases.market_data import quality_issues
from runner.pipeline import start_heartbeat
from runner.plan import build_plan
from runner.recorder import Recorder
from runner.run_data import IntendedOrder
from runner.shared.errors import PhaseError
from runner.sizing import ceil_to_step, floor_to_step, minimum_size, size_from_quote
from runner.strategies import sma_cross

MARKET = {"precision": {"amount": 0.001}, "limits": {"amount": {"min": 0.001},
                                                     "cost": {"min": 10.0}}}


@pytest.fixture
def ctx(compose, tmp_path):
    config = compose()
    recorder = Recorder("20261124T101010Z-dev-abcdef", "dev", tmp_path)
    return RunContext(config=config, run_dir=tmp_path, run_id=recorder.run_id, recorder=recorder)


def test_sizing_rounds_to_the_step_and_checks_limits():
    assert floor_to_step(0.12345, 0.001) == 0.123
    assert ceil_to_step(0.1231, 0.001) == 0.124
    assert size_from_quote(MARKET, 25.0, 100.0).amount == 0.25
    assert "notional 9.99 below the minimum 10" in size_from_quote(MARKET, 9.99, 10.0).problem
    probe = minimum_size(MARKET, 3000.0)
    assert probe.amount == 0.004 and probe.notional >= 10.0


def test_sma_cross_marks_the_crossing_candles():
    closes = [10.0] * 5 + [9.0, 8.0, 7.0, 12.0, 14.0, 16.0, 5.0, 4.0]
    frame = pl.DataFrame({"symbol": "X/Y", "ts": range(len(closes)), "close": closes})
    signals = sma_cross(frame, fast=2, slow=4)["signal"].to_list()
    assert signals[:4] == [0, 0, 0, 0]  # slow window not full yet: no signal
    assert signals.index(1) == 8  # fast crosses above slow when price jumps to 12
    assert signals.index(-1) == 11  # and below again on the drop to 5
    assert sum(1 for s in signals if s) == 2


def test_quality_checks_find_gaps_staleness_bad_prices_and_crossed_tickers():
    good = pl.DataFrame({"ts": [0, 60_000, 120_000], "open": [1.0] * 3, "high": [2.0] * 3,
                         "low": [0.5] * 3, "close": [1.5] * 3, "volume": [1.0] * 3})
    ticker = {"bid": 1.0, "ask": 1.1, "last": 1.05}
    assert all(v is None for v in quality_issues(good, ticker, 60_000, 2, 150_000).values())
    gappy = good.with_columns(pl.Series("ts", [0, 60_000, 240_000]))
    assert quality_issues(gappy, ticker, 60_000, 2, 250_000)["gaps"] == "1 uneven candle step(s)"
    assert "old" in quality_issues(good, ticker, 60_000, 2, 600_000)["stale"]
    broken = good.with_columns(pl.Series("low", [0.5, -1.0, 0.5]))
    assert quality_issues(broken, ticker, 60_000, 2, 150_000)["prices"].startswith("1 candle")
    crossed = {"bid": 1.2, "ask": 1.1, "last": 1.15}
    assert quality_issues(good, crossed, 60_000, 2, 150_000)["ticker"].startswith("ticker")


def test_standard_phases_in_sequence_hand_data_through_run_data(ctx):
    connect.run(ctx)
    assert set(ctx.data.markets) == set(ctx.symbols)
    summary = market_data.run(ctx, timeframe="1m", limit=60)
    assert summary["candles"] == 120 and summary["quality_problems"] == []
    assert ctx.data.ohlcv.height == 120 and set(ctx.data.tickers) == set(ctx.symbols)
    assert ctx.recorder.frame().filter(kind="health")["ok"].all()
    strategy.run(ctx)
    assert pl.read_parquet(ctx.run_dir / "signals.parquet").height == 120
    assert all(isinstance(o, IntendedOrder) for o in ctx.data.intended_orders)
    ctx.data.intended_orders = [IntendedOrder(symbol="ETH/USDT", side="sell", type="market",
                                              quote=50.0, reason="test")]
    assert execution.run(ctx) == {"orders": 1, "test": True, "probe": False}
    settle_orders(ctx)
    orders = pl.read_parquet(ctx.run_dir / "orders.parquet")
    assert orders.row(0, named=True)["status"] == "test"


def test_a_phase_without_its_producers_data_fails_naming_the_producer(ctx):
    with pytest.raises(PhaseError, match=r"^no ohlcv \(ctx\.data\.ohlcv\): the market_data "
                                         r"phase produces them .* list market_data in this"):
        strategy.run(ctx)
    with pytest.raises(PhaseError, match=r"^no tickers .* the market_data phase"):
        execution.run(ctx)  # nothing intended: the probe is priced from the tickers
    ctx.data.tickers = {s: {"bid": 99.0, "ask": 100.0, "last": 99.5} for s in ctx.symbols}
    with pytest.raises(PhaseError, match=r"^no markets .* the connect phase"):
        execution.run(ctx)
    assert ctx.recorder.frame().filter(kind="order").height == 0


def test_a_plan_that_skips_the_producer_fails_the_consumer_clearly(compose, tmp_path):
    config = compose("phases.market_data.enabled=false", "phases.strategy.needs=[]")
    recorder = Recorder("run-1", "dev", tmp_path)
    ctx = RunContext(config=config, run_dir=tmp_path, run_id="run-1", recorder=recorder)
    outcome = Executor(build_plan(config), ctx, {}, seed=1).run()
    recorder.close()
    results = {r.name: r for r in outcome.phases}
    assert (results["strategy"].status, results["strategy"].attempts) == ("failed", 1)
    assert results["strategy"].error.startswith(
        "PhaseError: no ohlcv (ctx.data.ohlcv): the market_data phase produces them")
    assert results["execution"].reason == "run aborted: strategy failed"
    assert outcome.status == "failed"


def test_an_intended_order_is_checked_when_it_is_made():
    with pytest.raises(ValueError, match="exactly one of quote or amount"):
        IntendedOrder(symbol="BTC/USDT", side="buy", type="market", reason="r")
    with pytest.raises(ValueError, match="exactly one of quote or amount"):
        IntendedOrder(symbol="BTC/USDT", side="buy", type="market", reason="r", quote=1.0,
                      amount=1.0)
    with pytest.raises(ValueError, match="side 'long'; allowed: buy, sell"):
        IntendedOrder(symbol="BTC/USDT", side="long", type="market", reason="r", quote=1.0)


def test_too_small_intended_order_is_rejected_before_the_exchange(ctx):
    connect.run(ctx)
    market_data.run(ctx, limit=50)
    ctx.data.intended_orders = [IntendedOrder(symbol="BTC/USDT", side="buy", type="market",
                                              quote=1.0, reason="test")]
    with pytest.raises(PhaseError, match=r"raise strategy\.order_quote"):
        execution.run(ctx)
    assert ctx.recorder.frame().filter(kind="order").height == 0
    settle_orders(ctx)
    orders = pl.read_parquet(ctx.run_dir / "orders.parquet")
    assert orders["status"].to_list() == ["rejected_locally"]


def test_unknown_symbol_fails_connect_with_the_listed_ones(ctx):
    ctx.config["symbols"] = ["BTC/USDT", "DOGE/EUR"]
    ctx.config["adapter"]["symbols"] = ["BTC/USDT"]
    with pytest.raises(PhaseError, match="symbols not listed by paper: DOGE/EUR; listed: BTC"):
        connect.run(ctx)


def test_load_phase_measures_latency_percentiles(ctx):
    connect.run(ctx)
    summary = load.run(ctx, calls=500, orders=20)
    assert (summary["calls"], summary["orders"], summary["errors"]) == (500, 20, 0)
    p = summary["fetch_ticker"]
    assert 0 < p["p50_ms"] <= p["p95_ms"] <= p["p99_ms"] <= p["max_ms"]
    events = ctx.recorder.frame()
    assert events.filter(kind="order", name="create_order").height == 20


def test_load_phase_stops_when_cancelled(ctx):
    connect.run(ctx)
    ctx.stop.set()
    summary = load.run(ctx, calls=10_000, orders=10)
    assert summary["calls"] == 0 and summary["stopped_early"]


def test_heartbeat_beats_while_alive(tmp_path):
    recorder = Recorder("r", "dev")
    stop = threading.Event()
    started = time.monotonic()
    thread = start_heartbeat(recorder, 0.02, stop)
    time.sleep(0.3)
    stop.set()
    thread.join()
    alive_s = time.monotonic() - started
    beats = recorder.counts_by_kind()["heartbeat"]
    assert 5 <= beats <= 1 + alive_s / 0.02  # one at start, then at most one per period


def test_the_report_phase_judges_without_writing_and_the_final_report_writes(ctx):
    """The phase's early judgement sets the summary only; slo_report.* is written once, by the
    final judgement of all events."""
    from runner.phases import report

    ctx.started_at = "2026-11-24T10:10:10+00:00"
    summary = report.run(ctx)
    assert ctx.data.slo is not None and summary["objectives"]
    assert not list(ctx.run_dir.glob("slo_report.*"))
    report.final_report(ctx, "succeeded", ctx.started_at, "2026-11-24T10:10:11+00:00")
    assert {p.suffix for p in ctx.run_dir.glob("slo_report.*")} == {".json", ".md"}


def test_a_failed_final_report_keeps_the_phase_summary_and_says_how_to_write_it(ctx, monkeypatch):
    from runner.phases import report

    ctx.started_at = "2026-11-24T10:10:10+00:00"
    report.run(ctx)
    kept = ctx.data.slo
    lines: list[str] = []
    monkeypatch.setattr(ctx.recorder, "frame", lambda: (_ for _ in ()).throw(OSError("disk")))
    monkeypatch.setattr(ctx.log, "error", lines.append)
    report.final_report(ctx, "succeeded", ctx.started_at, "2026-11-24T10:10:11+00:00")
    assert ctx.data.slo is kept
    assert len(lines) == 1 and f"python -m slo run_dir={ctx.run_dir}" in lines[0]
    assert not list(ctx.run_dir.glob("slo_report.*"))
