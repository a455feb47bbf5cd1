"""The real ccxt Binance client against the exchange simulator on 127.0.0.1 (env=local)."""

from __future__ import annotations

import json

import polars as pl
import pytest
from conftest import EventTuples as Sink
from conftest import only_run_dir, run_cli

from adapters.ccxt_exchange import CcxtExchange
from adapters.instrumented import InstrumentedExchange
from adapters.retry import RetryPolicy


def wrapped(http_faults: dict | None = None):
    sleeps: list[float] = []
    exchange = CcxtExchange(simulator={"seed": 7, "symbols": ["BTC/USDT", "ETH/USDT"],
                                       "http_faults": http_faults}, timeout_ms=2000)
    sink = Sink()
    return InstrumentedExchange(exchange, sink, RetryPolicy(max_attempts=3),
                                sleep=sleeps.append, seed=1), sink, sleeps


def test_env_local_runs_the_standard_plan_through_ccxt(tmp_path):
    done = run_cli("env=local", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    run_dir = only_run_dir(tmp_path)
    result = json.loads((run_dir / "result.json").read_text())
    assert result["adapter"] == "binance" and result["env"] == "local"
    assert {p["status"] for p in result["phases"] if p["name"] != "load"} == {"succeeded"}
    calls = pl.read_parquet(run_dir / "metrics.parquet").filter(
        pl.col("kind").is_in(["api_call", "order"]))
    assert {"load_markets", "fetch_ticker", "fetch_ohlcv", "ping", "server_time",
            "create_order"} <= set(calls["name"])
    assert calls["ok"].all() and calls["latency_ms"].min() > 0
    orders = pl.read_parquet(run_dir / "orders.parquet")
    assert orders["status"].to_list() == ["test"]  # dry-run: POST /api/v3/order/test


@pytest.mark.slow
def test_env_local_places_orders_only_with_dry_run_false(tmp_path):
    done = run_cli("env=local", "dry_run=false", "phases.strategy.callable=fake_phases:intend_buy",
                   cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    orders = pl.read_parquet(only_run_dir(tmp_path) / "orders.parquet")
    assert orders["status"].to_list() == ["closed"]
    assert orders["test"].to_list() == [False] and orders["exchange_id"][0]
    line = next(x for x in done.stderr.splitlines() if "order pxr-" in x)
    assert "BUY" in line and "BTC/USDT" in line and "[LOOPBACK]" in line and "-> closed" in line


@pytest.mark.slow
def test_the_idle_probe_is_a_test_order_even_with_dry_run_false(tmp_path):
    done = run_cli("env=local", "dry_run=false", "phases.strategy.callable=fake_phases:ok",
                   cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    orders = pl.read_parquet(only_run_dir(tmp_path) / "orders.parquet")
    assert orders["status"].to_list() == ["test"] and orders["test"].to_list() == [True]
    assert orders["reason"][0].startswith("probe")


def test_rate_limit_is_retried_after_the_servers_retry_after():
    exchange, sink, sleeps = wrapped(
        {"GET ticker/24hr": [{"fault": "rate_limit", "first": 1, "retry_after_s": 2}]})
    try:
        exchange.connect()
        exchange.load_markets()
        assert exchange.fetch_ticker("BTC/USDT")["last"] > 0
    finally:
        exchange.close()
    attempts = [e for e in sink.events if e[1] == "fetch_ticker"]
    assert [(ok, error, attempt) for _, _, ok, error, attempt in attempts] == [
        (False, "DDoSProtection", 1), (True, None, 2)]
    assert sleeps == [2.0]


@pytest.mark.parametrize(("fault", "error"), [("unavailable", "ExchangeNotAvailable"),
                                              ("drop", "NetworkError")])
def test_network_faults_are_retried(fault, error):
    exchange, sink, _ = wrapped({"GET klines": [{"fault": fault, "first": 1}]})
    try:
        exchange.load_markets()
        assert len(exchange.fetch_ohlcv("ETH/USDT", "1m", 20)) == 20
    finally:
        exchange.close()
    assert [e[3] for e in sink.events if e[1] == "fetch_ohlcv"] == [error, None]


def test_a_rejected_order_is_not_retried():
    exchange, sink, _ = wrapped()
    try:
        exchange.load_markets()
        with pytest.raises(Exception, match=r"(?i)notional"):
            exchange.create_order("BTC/USDT", "buy", "market", 0.00001,
                                  client_order_id="pxr-tiny-1", test=False)
    finally:
        exchange.close()
    assert len([e for e in sink.events if e[1] == "create_order"]) == 1


def test_accepted_but_response_lost_places_exactly_one_order():
    exchange, sink, _ = wrapped(
        {"POST order": [{"fault": "accepted_but_response_lost", "first": 1}]})
    try:
        exchange.load_markets()
        order = exchange.create_order("BTC/USDT", "buy", "market", 0.001,
                                      client_order_id="pxr-lost-1", test=False)
        server = exchange.inner.server
        placed = [o for o in server.orders() if o.client_order_id == "pxr-lost-1"]
        posts = [r for r in server.requests if r[0] == "POST" and r[1].endswith("/order")]
    finally:
        exchange.close()
    assert order["clientOrderId"] == "pxr-lost-1"
    names = [(e[1], e[2]) for e in sink.events if e[0] in ("order", "api_call")]
    assert names[-2:] == [("create_order", False), ("fetch_order", True)]
    assert next(e for e in sink.events if e[1] == "create_order")[3] == "NetworkError"
    assert len(placed) == 1 and len(posts) == 1, "looked up, never placed twice"


def test_adapter_config_is_checked_without_importing_ccxt():
    node = {"name": "binance", "_target_": "adapters.ccxt_exchange.CcxtExchange",
            "retry": {}, "exchange_id": "binance"}
    assert CcxtExchange.check_config(node) == []
    assert CcxtExchange.check_config({"api_keys": "x"})[0].startswith(
        "adapter.api_keys: unknown key")


@pytest.mark.slow
def test_testnet_without_keys_runs_public_phases_and_skips_signed_ones(tmp_path):
    """env=testnet with no keys in the environment, its base URL pointed at a local simulator
    (never the internet): market data flows, no order request is sent."""
    from adapters.sim.server import SimServer

    with SimServer.from_config(seed=3, symbols=["BTC/USDT", "ETH/USDT"]) as server:
        done = run_cli("env=testnet", "adapter.sandbox=false", f"adapter.base_url={server.url}",
                       cwd=tmp_path, BINANCE_TESTNET_API_KEY="", BINANCE_TESTNET_API_SECRET="")
        order_requests = [r for r in server.requests if "/order" in r[1]]
    assert done.returncode == 0, done.stderr
    result = json.loads((only_run_dir(tmp_path) / "result.json").read_text())
    phases = {p["name"]: p for p in result["phases"]}
    assert phases["market_data"]["status"] == "succeeded"
    assert phases["execution"]["status"] == "skipped"
    assert phases["execution"]["reason"].startswith("needs API keys")
    assert order_requests == []


@pytest.mark.slow
def test_injected_503s_through_ccxt_are_retried_and_counted_by_their_final_outcome(tmp_path):
    done = run_cli("env=local", "+adapter.simulator.faults={error_rate:0.2}", cwd=tmp_path)
    assert done.returncode == 0, done.stderr  # every fault was absorbed by a retry
    run_dir = only_run_dir(tmp_path)
    calls = pl.read_parquet(run_dir / "metrics.parquet").filter(
        pl.col("kind").is_in(["api_call", "order"]))
    failed = calls.filter(~pl.col("ok"))
    assert failed.height > 0 and set(failed["error"]) == {"ExchangeNotAvailable"}
    assert calls["attempt"].max() >= 2
    # each failed attempt was retried (final=false); each call ended on a success
    assert failed["final"].to_list() == [False] * failed.height
    assert calls.filter(pl.col("final"))["ok"].all()
    # the error rate counts calls by their final outcome: retried faults burn no budget
    slo = json.loads((run_dir / "result.json").read_text())["slo"]
    assert slo["objectives"]["error_rate"]["status"] == "met"
    assert slo["objectives"]["error_rate"]["sli"] == 1.0


def test_malformed_json_is_caught_by_the_market_data_quality_checks():
    """ccxt does not raise on a body it cannot parse: it returns an empty ticker. The runner's
    data-quality check is what stops such data from reaching the strategy."""
    from runner.phases.market_data import quality_issues

    exchange, _, _ = wrapped({"GET ticker/24hr": [{"fault": "malformed_json", "first": 1}]})
    try:
        exchange.load_markets()
        ticker = exchange.fetch_ticker("BTC/USDT")
        candles = exchange.fetch_ohlcv("BTC/USDT", "1m", 10)
    finally:
        exchange.close()
    frame = pl.DataFrame(candles, schema=["ts", "open", "high", "low", "close", "volume"],
                         orient="row")
    problems = quality_issues(frame, ticker, 60_000, 2, int(frame["ts"][-1]) + 1)
    assert problems["ticker"] is not None and problems["ticker"].startswith("ticker not sane")
