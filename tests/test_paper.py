"""The paper adapter: faults and latency around the simulator, seen through the wrapper."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest

from adapters import instantiate_adapter
from adapters.errors import ExchangeError, NetworkFailure, RateLimited, error_name
from adapters.instrumented import InstrumentedExchange
from adapters.paper import PaperExchange
from adapters.retry import RetryPolicy

ROOT = Path(__file__).resolve().parents[1]
T0 = 1_700_000_030.5


def paper(**config: Any) -> PaperExchange:
    config.setdefault("clock", lambda: T0)
    return PaperExchange(**config)


class ListSink(list):
    """The fake metrics sink: one dict per recorded attempt."""

    def record(self, kind: str, name: str, ok: bool, latency_ms: float | None = None,
               error: str | None = None, attempt: int = 1, symbol: str | None = None,
               phase: str | None = None, final: bool | None = None) -> None:
        self.append({"kind": kind, "name": name, "ok": ok, "latency_ms": latency_ms,
                     "error": error, "attempt": attempt, "symbol": symbol, "final": final})


def outcomes(call: Any, n: int) -> dict[str, int]:
    seen: dict[str, int] = {}
    for _ in range(n):
        try:
            call()
            name = "ok"
        except ExchangeError as exc:
            name = error_name(exc)
        seen[name] = seen.get(name, 0) + 1
    return seen


def test_import_does_not_load_ccxt() -> None:
    code = ("import sys, adapters as a; "
            "ex = a.instantiate_adapter({'_target_': 'adapters.paper.PaperExchange', 'seed': 1}); "
            "ex.connect(); ex.ping(); "
            "ex.fetch_ticker('BTC/USDT'); ex.fetch_ohlcv('BTC/USDT'); "
            "assert 'ccxt' not in sys.modules, 'ccxt imported'")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    subprocess.run([sys.executable, "-c", code], env=env, cwd=ROOT, check=True)


def test_build_takes_a_plain_config_node() -> None:
    node = {"name": "paper", "_target_": "adapters.paper.PaperExchange",
            "retry": {"max_attempts": 2},
            "seed": 3, "symbols": ["BTC/USDT"], "spread_bps": 4.0,
            "latency": {"mode": "record", "base_ms": 5.0, "per_endpoint": {"ping": 1.0}},
            "faults": {"error_rate": 0.0, "per_endpoint": {"ping": {"error_rate": 0.5}}}}
    ex = instantiate_adapter(node)
    assert isinstance(ex, PaperExchange) and ex.name == "paper" and ex.seed == 3
    assert list(ex.load_markets()) == ["BTC/USDT"]
    with pytest.raises(TypeError):
        instantiate_adapter({"_target_": "adapters.paper.PaperExchange", "sped_bps": 3})


def test_same_seed_same_data_and_fills_through_the_adapter() -> None:
    def session(seed: int) -> list[Any]:
        ex = paper(seed=seed)
        return [ex.fetch_ohlcv("ETH/USDT", "5m", 50), ex.fetch_ticker("SOL/USDT"),
                ex.create_order("BTC/USDT", "buy", "market", 0.01, client_order_id="a",
                                test=False), ex.fetch_balance()]

    assert session(4) == session(4)
    assert session(4) != session(5)


def test_server_time_and_ping() -> None:
    ex = paper(clock_offset_ms=750)
    assert ex.server_time() == int(T0 * 1000) + 750
    assert ex.ping() is None


def test_fault_classes_and_rates_over_2000_calls() -> None:
    ex = paper(faults={"error_rate": 0.05, "timeout_rate": 0.03, "rate_limit_rate": 0.02})
    seen = outcomes(ex.ping, 2_000)
    assert seen == outcomes(paper(faults=dict(ex.faults.rates)).ping, 2_000)  # seeded
    assert 60 <= seen["ExchangeNotAvailable"] <= 140
    assert 30 <= seen["RequestTimeout"] <= 90
    assert 15 <= seen["RateLimitExceeded"] <= 65
    assert sum(seen.values()) == 2_000


def test_fault_messages_latencies_and_retry_after() -> None:
    ex = paper(faults={"rate_limit_rate": 1.0, "retry_after_s": 2.5})
    with pytest.raises(RateLimited, match=r"simulated fault: .*rate_limit_rate=1") as e:
        ex.fetch_ticker("BTC/USDT")
    assert e.value.retry_after_s == 2.5
    assert ex.simulated_latency_ms is not None and ex.simulated_latency_ms < 1_000

    ex = paper(faults={"timeout_rate": 1.0, "timeout_ms": 7_000})
    with pytest.raises(NetworkFailure, match="simulated fault: RequestTimeout"):
        ex.fetch_balance()
    assert ex.simulated_latency_ms == 7_000


def test_faults_strike_before_the_call_takes_effect() -> None:
    ex = paper(faults={"per_endpoint": {"create_order": {"error_rate": 1.0}}})
    with pytest.raises(NetworkFailure, match="ExchangeNotAvailable"):
        ex.create_order("BTC/USDT", "buy", "market", 0.01, client_order_id="x", test=False)
    assert ex.fetch_order("BTC/USDT", client_order_id="x") is None
    assert ex.fetch_balance()["USDT"]["free"] == 10_000
    assert outcomes(lambda: ex.fetch_ticker("BTC/USDT"), 200) == {"ok": 200}


def test_faults_do_not_change_prices() -> None:
    def until_ok(call: Any) -> Any:
        while True:
            try:
                return call()
            except NetworkFailure:
                pass
            except RateLimited:
                pass

    clean = paper(seed=9)
    faulty = paper(seed=9, faults={"error_rate": 0.3, "timeout_rate": 0.1, "rate_limit_rate": 0.1})
    for symbol in ("BTC/USDT", "ETH/USDT"):
        assert until_ok(lambda s=symbol: faulty.fetch_ohlcv(s, "1m", 300)) == \
            clean.fetch_ohlcv(symbol, "1m", 300)
        assert until_ok(lambda s=symbol: faulty.fetch_ticker(s)) == clean.fetch_ticker(symbol)


def test_record_mode_sets_latency_without_sleeping() -> None:
    ex = paper(latency={"base_ms": 5_000, "sigma": 0.1})
    started = time.perf_counter()
    ex.fetch_ticker("BTC/USDT")
    assert time.perf_counter() - started < 0.5
    assert 3_000 < ex.simulated_latency_ms < 8_000
    ex.create_order("BTC/USDT", "buy", "market", 0.01, client_order_id="a", test=True)
    assert 25 < ex.simulated_latency_ms < 60  # per-endpoint default for create_order


def test_sleep_and_off_modes_report_nothing() -> None:
    ex = paper(latency={"mode": "sleep", "base_ms": 30, "sigma": 0})
    started = time.perf_counter()
    ex.ping()
    assert time.perf_counter() - started >= 0.025
    assert ex.simulated_latency_ms is None
    ex = paper(latency={"mode": "off"})
    ex.ping()
    assert ex.simulated_latency_ms is None


def test_wrapper_retries_fetch_ticker_and_records_each_attempt() -> None:
    sink, delays = ListSink(), []
    ex = paper(seed=2, faults={"error_rate": 0.4})
    wrapped = InstrumentedExchange(ex, sink, RetryPolicy(max_attempts=3), sleep=delays.append,
                                   seed=0)
    calls, gave_up = 100, 0
    for _ in range(calls):
        try:
            assert wrapped.fetch_ticker("BTC/USDT")["symbol"] == "BTC/USDT"
        except NetworkFailure:
            gave_up += 1
    failed = [e for e in sink if not e["ok"]]
    assert len(sink) == calls + len(failed) - gave_up  # one event per attempt
    assert len(delays) == len(failed) - gave_up  # a backoff before every retry
    assert {e["error"] for e in failed} == {"ExchangeNotAvailable"}
    assert any(e["attempt"] == 2 and e["ok"] for e in sink)
    assert max(e["attempt"] for e in sink) == 3
    assert all(e["kind"] == "api_call" and e["name"] == "fetch_ticker" for e in sink)
    assert all(e["symbol"] == "BTC/USDT" and 0 < e["latency_ms"] < 200 for e in sink)
    # attempts of each call are numbered 1, 2, ... and restart at 1 for the next call
    attempts = [e["attempt"] for e in sink]
    assert all(b in (1, a + 1) for a, b in pairwise(attempts))


def test_wrapper_honours_retry_after() -> None:
    sink, delays = ListSink(), []
    ex = paper(faults={"per_endpoint": {"ping": {"rate_limit_rate": 1.0}}, "retry_after_s": 1.5})
    wrapped = InstrumentedExchange(ex, sink, sleep=delays.append)
    with pytest.raises(RateLimited):
        wrapped.ping()
    assert delays == [1.5, 1.5] and [e["attempt"] for e in sink] == [1, 2, 3]


def test_wrapper_never_places_an_order_twice_under_timeouts() -> None:
    """Half the order calls time out, half of those after the exchange placed the order: every
    order is placed exactly once, found by look-up where its answer was lost."""
    sink = ListSink()
    ex = paper(seed=5, faults={"per_endpoint": {"create_order": {
        "timeout_rate": 0.25, "response_lost_rate": 0.25}}})
    wrapped = InstrumentedExchange(ex, sink, RetryPolicy(max_attempts=10), sleep=lambda _: None)
    for i in range(20):
        wrapped.create_order("BTC/USDT", "buy", "market", 0.001, client_order_id=f"o{i}",
                             test=False)
    orders = [ex.sim.fetch_order("BTC/USDT", client_order_id=f"o{i}") for i in range(20)]
    assert sorted(int(o["id"]) for o in orders) == list(range(1, 21))
    assert ex.sim.fetch_balance()["BTC"]["total"] == pytest.approx(0.52)
    ledger = wrapped.orders.ledger.records()
    assert {r.status for r in ledger} == {"closed"} and len(ledger) == 20
    assert any(r.reconciled for r in ledger), "some answers were lost and looked up"
    assert any(e["error"] == "RequestTimeout" and e["latency_ms"] == 10_000 for e in sink)


def test_concurrent_calls_keep_the_books_consistent() -> None:
    ex = paper(balances={"USDT": 1_000_000.0})
    errors: list[BaseException] = []

    def trade(worker: int) -> None:
        try:
            for i in range(30):
                ex.create_order("ETH/USDT", "buy", "market", 0.01,
                                client_order_id=f"w{worker}-{i}", test=False)
                ex.fetch_balance()
                ex.fetch_ticker("ETH/USDT")
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=trade, args=(w,)) for w in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert ex.fetch_balance()["ETH"]["total"] == pytest.approx(0.9)  # balances replace defaults
    ids = {ex.fetch_order("ETH/USDT", client_order_id=f"w{w}-{i}")["id"]
           for w in range(3) for i in range(30)}
    assert ids == {str(n) for n in range(1, 91)}


@pytest.mark.parametrize("settings", [
    {"symbols": ["DOGE/USDT"]}, {"symbols": ["BTC/USDT", "BTC/USDT"]}, {"fill_model": "magic"},
    {"history": 0}, {"spread_bps": -1}, {"markets": {"BTC/USDT": {"tick": 1}}},
    {"markets": {"BTC/USDT": {"start_price": -5}}}, {"latency": {"mode": "warp"}},
    {"faults": {"error_rate": 2}}, {"seed": "x"}, {"drift": "fast"}, {"slippage_bps": "x"},
    {"clock_offset_ms": "x"}, {"history": "x"}, {"spread_bps": None}, {"balances": {"USDT": "a"}},
    {"balances": ["USDT"]}, {"start_prices": {"BTC/USDT": 0}},
    {"min_notional": True}, {}])
def test_the_config_check_finds_what_building_the_adapter_finds(settings):
    """The check does not build the simulator, yet answers as building it would: one
    authority (adapters/sim/settings.py) for both."""
    try:
        PaperExchange(**settings)
        built = []
    except (TypeError, ValueError) as exc:
        built = [str(exc)]
    problems = PaperExchange.check_config(settings)
    assert len(built) == (settings != {}), "every case but the last is a mistake"
    assert len(problems) == len(built)
    assert all(b in p for b, p in zip(built, problems, strict=True))
