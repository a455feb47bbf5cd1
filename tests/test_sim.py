"""The simulator core: seeded price paths, market data, order validation and matching."""

from __future__ import annotations

import os
import subprocess
import sys
from itertools import pairwise
from pathlib import Path

import ccxt
import pytest

from adapters.sim import FaultInjector, LatencyModel, Simulator, build_specs
from adapters.sim.market import TIMEFRAMES

ROOT = Path(__file__).resolve().parents[1]
T0 = 1_700_000_030.5  # mid-minute on purpose: candles must align to the minute, not to t0


class FakeClock:
    """A settable wall clock so tests control how many minutes have elapsed."""

    def __init__(self, now: float = T0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def make(seed: int = 42, clock: FakeClock | None = None, **config: object) -> Simulator:
    return Simulator.create(seed=seed, clock=clock or FakeClock(), **config)  # type: ignore[arg-type]


def all_ohlcv(sim: Simulator, limit: int = 200) -> dict[tuple[str, str], list[list[float]]]:
    return {(s, tf): sim.fetch_ohlcv(s, tf, limit) for s in sim.market.specs for tf in TIMEFRAMES}


# -- price paths and market data --------------------------------------------------------------


def test_same_seed_same_market_data() -> None:
    a, b = make(7), make(7)
    assert all_ohlcv(a, 40) == all_ohlcv(b, 40)
    assert a.fetch_ticker("BTC/USDT") == b.fetch_ticker("BTC/USDT")


def test_different_seed_different_paths() -> None:
    assert all_ohlcv(make(1), 40) != all_ohlcv(make(2), 40)
    assert make(1).fetch_ohlcv("BTC/USDT")[-5:] != make(2).fetch_ohlcv("BTC/USDT")[-5:]


def test_values_do_not_depend_on_request_order() -> None:
    a, b = make(3), make(3)
    a.fetch_ohlcv("ETH/USDT", "1h", 50)  # reads deep history first
    a.fetch_ticker("ETH/USDT")
    assert a.fetch_ohlcv("ETH/USDT", "1m", 300) == b.fetch_ohlcv("ETH/USDT", "1m", 300)


def test_path_is_stable_across_processes() -> None:
    code = ("from adapters.sim import Simulator; "
            "s = Simulator.create(seed=5, clock=lambda: 1_700_000_030.5); "
            "print(s.fetch_ohlcv('SOL/USDT', '1m', 3))")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONHASHSEED": "123"}
    out = subprocess.run([sys.executable, "-c", code], env=env, cwd=ROOT, check=True,
                         capture_output=True, text=True).stdout.strip()
    assert out == str(make(5).fetch_ohlcv("SOL/USDT", "1m", 3))


# The coarse intervals read years of days (tests/test_sim_history.py checks them against their
# parts on every run); here they join the slow suite.
COARSE = ("2h", "4h", "6h", "8h", "12h", "1d", "3d", "1w", "1M")


@pytest.mark.parametrize("timeframe", [pytest.param(t, marks=pytest.mark.slow) if t in COARSE
                                       else t for t in TIMEFRAMES])
def test_ohlcv_invariants(timeframe: str) -> None:
    sim = make(11)
    for symbol in sim.market.specs:
        rows = sim.fetch_ohlcv(symbol, timeframe, 500)
        assert len(rows) == 500
        for ts, o, h, low, c, v in rows:
            assert isinstance(ts, int)
            assert 0 < low <= min(o, c) <= max(o, c) <= h
            assert v > 0


@pytest.mark.parametrize(("timeframe", "minutes"), list(TIMEFRAMES.items()))
def test_candles_aligned_and_evenly_spaced(timeframe: str, minutes: int) -> None:
    rows = make().fetch_ohlcv("BTC/USDT", timeframe, 100)
    width = minutes * 60_000
    stamps = [row[0] for row in rows]
    assert all(ts % width == 0 for ts in stamps)
    assert all(b - a == width for a, b in pairwise(stamps))
    minute_of_t0 = int(T0 // 60) * 60_000
    assert stamps[-1] == minute_of_t0 - minute_of_t0 % width  # newest contains t0


def test_consecutive_candles_chain_and_start_at_start_price() -> None:
    rows = make(start_prices={"BTC/USDT": 12_345.67}).fetch_ohlcv("BTC/USDT", "1m", 100)
    assert all(prev[4] == row[1] for prev, row in pairwise(rows))  # open = previous close
    assert rows[-1][1] == 12_345.67  # candle 0 (containing t0) opens at the start price


def test_timeframe_aggregates_one_minute_candles() -> None:
    sim = make(9)
    minute = {row[0]: row for row in sim.fetch_ohlcv("ETH/USDT", "1m", 500)}
    for timeframe in ("5m", "15m", "1h"):
        width = TIMEFRAMES[timeframe] * 60_000
        for ts, o, h, low, c, v in sim.fetch_ohlcv("ETH/USDT", timeframe, 5)[:-1]:
            parts = [minute[t] for t in range(ts, ts + width, 60_000)]
            assert (o, c) == (parts[0][1], parts[-1][4])
            assert h == max(p[2] for p in parts) and low == min(p[3] for p in parts)
            assert v == pytest.approx(sum(p[5] for p in parts))


def test_newest_higher_timeframe_candle_is_partial() -> None:
    sim = make(9)
    hour = sim.fetch_ohlcv("ETH/USDT", "1h", 1)[0]
    minutes = [r for r in sim.fetch_ohlcv("ETH/USDT", "1m", 60) if r[0] >= hour[0]]
    assert hour[4] == minutes[-1][4] and hour[1] == minutes[0][1]


def test_limit_is_capped_by_history() -> None:
    assert len(make(history=50).fetch_ohlcv("BTC/USDT", "1m", 1000)) == 50
    assert len(make().fetch_ohlcv("BTC/USDT")) == 100


def test_bad_timeframe_symbol_and_limit() -> None:
    sim = make()
    with pytest.raises(ccxt.BadRequest, match="unsupported timeframe '2m'"):
        sim.fetch_ohlcv("BTC/USDT", "2m", 10)
    with pytest.raises(ccxt.BadRequest, match="limit"):
        sim.fetch_ohlcv("BTC/USDT", "1m", 0)
    for call in (lambda: sim.fetch_ohlcv("DOGE/USDT"), lambda: sim.fetch_ticker("DOGE/USDT"),
                 lambda: sim.fetch_order("DOGE/USDT", client_order_id="x"),
                 lambda: sim.create_order("DOGE/USDT", "buy", "market", 1, client_order_id="x")):
        with pytest.raises(ccxt.BadSymbol):
            call()


def test_price_advances_one_step_per_elapsed_minute() -> None:
    clock = FakeClock()
    sim = make(4, clock)
    before = sim.fetch_ohlcv("BTC/USDT", "1m", 10)
    clock.now += 59.9
    assert sim.fetch_ohlcv("BTC/USDT", "1m", 10) == before  # under a minute: nothing moves
    clock.now += 0.2
    after = sim.fetch_ohlcv("BTC/USDT", "1m", 10)
    assert after[-1][0] == before[-1][0] + 60_000
    assert after[:-1] == before[1:]  # history is immutable
    assert sim.fetch_ticker("BTC/USDT")["last"] == after[-1][4]


def test_ticker_shape_and_spread() -> None:
    sim = make(spread_bps=10)
    ticker = sim.fetch_ticker("BTC/USDT")
    assert {"symbol", "timestamp", "datetime", "bid", "ask", "last", "close", "high", "low",
            "baseVolume", "quoteVolume"} <= set(ticker)
    assert ticker["bid"] < ticker["last"] < ticker["ask"]
    assert (ticker["ask"] - ticker["bid"]) / ticker["last"] == pytest.approx(10e-4, rel=0.01)
    assert ticker["low"] <= ticker["last"] <= ticker["high"]
    assert ticker["timestamp"] == int(T0 * 1000) and ticker["datetime"].endswith("Z")


def test_markets_are_ccxt_shaped() -> None:
    markets = make().load_markets()
    assert set(markets) == {"BTC/USDT", "ETH/USDT", "SOL/USDT"}
    btc = markets["BTC/USDT"]
    assert (btc["id"], btc["base"], btc["quote"], btc["type"]) == ("BTCUSDT", "BTC", "USDT", "spot")
    assert btc["spot"] is True and btc["active"] is True
    assert btc["precision"] == {"amount": 1e-5, "price": 0.01}
    assert btc["limits"]["cost"]["min"] == 10.0 and btc["limits"]["amount"]["min"] == 1e-5
    assert btc["taker"] == btc["maker"] == 0.001


def test_market_config_precedence_and_errors() -> None:
    specs = build_specs(["BTC/USDT", "ADA/USDT"], markets={"BTC/USDT": {"price_tick": 0.1}},
                        start_prices={"ADA/USDT": 0.5, "SOL/USDT": 1.0}, min_notional=5.0)
    assert specs["BTC/USDT"].price_tick == 0.1 and specs["BTC/USDT"].start_price == 60_000
    assert specs["ADA/USDT"].start_price == 0.5 and specs["ADA/USDT"].min_notional == 5.0
    with pytest.raises(ValueError, match="no start price"):
        build_specs(["ADA/USDT"])
    with pytest.raises(ValueError, match="unknown market settings"):
        build_specs(markets={"BTC/USDT": {"tick": 0.1}})
    with pytest.raises(ValueError, match="BASE/QUOTE"):
        build_specs(["BTCUSDT"], start_prices={"BTCUSDT": 1.0})


def test_server_time_includes_clock_offset() -> None:
    assert make(clock_offset_ms=-2500).server_time() == int(T0 * 1000) - 2500


# -- order validation ---------------------------------------------------------------------------


def place(sim: Simulator, *args: object, test: bool = False, cid: str = "c1") -> dict:
    return sim.create_order(*args, client_order_id=cid, test=test)  # type: ignore[arg-type]


@pytest.mark.parametrize(("args", "exc", "rule"), [
    (("BTC/USDT", "buy", "market", 0.0001), ccxt.InvalidOrder, "MIN_NOTIONAL: notional [56]"),
    (("BTC/USDT", "buy", "market", 0.000015), ccxt.InvalidOrder, "LOT_SIZE: amount 1.5e-05 is"),
    (("BTC/USDT", "buy", "market", 0.0), ccxt.InvalidOrder, "LOT_SIZE: amount must be positive"),
    (("BTC/USDT", "buy", "market", 10_000.0), ccxt.InvalidOrder, "LOT_SIZE: amount 10000.0 out"),
    (("BTC/USDT", "buy", "limit", 0.01, 50_000.005), ccxt.InvalidOrder, "PRICE_FILTER: price"),
    (("BTC/USDT", "buy", "limit", 0.01), ccxt.InvalidOrder, "PRICE_FILTER: a limit order needs"),
    (("BTC/USDT", "buy", "limit", 0.0002, 40_000.0), ccxt.InvalidOrder, "MIN_NOTIONAL: notional 8"),
    (("BTC/USDT", "buy", "market", 1.0), ccxt.InsufficientFunds, "need 6"),
    (("BTC/USDT", "sell", "market", 0.6), ccxt.InsufficientFunds, "need 0.6 BTC, free 0.5"),
    (("SOL/USDT", "sell", "limit", 1.0, 200.0), ccxt.InsufficientFunds, "SOL, free 0"),
    (("BTC/USDT", "hold", "market", 0.01), ccxt.InvalidOrder, "side must be"),
    (("BTC/USDT", "buy", "stop", 0.01), ccxt.InvalidOrder, "type must be"),
])
@pytest.mark.parametrize("test", [True, False])
def test_rejections_name_the_rule(args: tuple, exc: type, rule: str, test: bool) -> None:
    sim = make()
    with pytest.raises(exc, match=rule) as info:
        place(sim, *args, test=test)
    assert type(info.value) is exc
    assert sim.fetch_order(args[0], client_order_id="c1") is None


def test_test_orders_change_nothing() -> None:
    sim = make()
    balance = sim.fetch_balance()
    for i, args in enumerate([("BTC/USDT", "buy", "market", 0.01),
                              ("BTC/USDT", "buy", "limit", 0.01, 50_000.0),
                              ("ETH/USDT", "sell", "market", 1.0)]):
        order = place(sim, *args, test=True, cid=f"t{i}")
        assert order["status"] == "test" and order["id"] is None and order["filled"] == 0
        assert sim.fetch_order(args[0], client_order_id=f"t{i}") is None
    assert sim.fetch_balance() == balance
    assert place(sim, "BTC/USDT", "buy", "market", 0.01, cid="t0")["id"] == "1"


def test_market_orders_fill_with_slippage_and_fee() -> None:
    sim = make(slippage_bps=5, taker_fee=0.002)
    ticker = sim.fetch_ticker("BTC/USDT")
    buy = place(sim, "BTC/USDT", "buy", "market", 0.01, cid="b")
    assert buy["status"] == "closed" and buy["filled"] == 0.01 and buy["remaining"] == 0
    assert buy["average"] == pytest.approx(ticker["ask"] * 1.0005)
    assert buy["cost"] == pytest.approx(0.01 * ticker["ask"] * 1.0005)
    assert buy["fee"] == {"cost": pytest.approx(buy["cost"] * 0.002), "currency": "USDT"}
    balance = sim.fetch_balance()
    assert balance["BTC"]["free"] == pytest.approx(0.51)
    assert balance["USDT"]["free"] == pytest.approx(10_000 - buy["cost"] * 1.002)

    sell = place(sim, "ETH/USDT", "sell", "market", 1.0, cid="s")
    assert sell["average"] == pytest.approx(sim.fetch_ticker("ETH/USDT")["bid"] * 0.9995)
    after = sim.fetch_balance()
    assert after["ETH"]["total"] == pytest.approx(4.0)
    assert after["USDT"]["free"] == pytest.approx(
        balance["USDT"]["free"] + sell["cost"] * (1 - 0.002))
    assert (buy["id"], sell["id"]) == ("1", "2")


def test_crossing_limit_fills_as_taker_at_limit_price() -> None:
    sim = make()
    ask = sim.fetch_ticker("BTC/USDT")["ask"]
    limit = round(ask + 50, 2)
    order = place(sim, "BTC/USDT", "buy", "limit", 0.01, limit)
    assert order["status"] == "closed" and order["average"] == limit
    assert order["fee"]["cost"] == pytest.approx(0.01 * limit * 0.001)


def test_resting_limit_locks_funds_and_cancel_releases_them() -> None:
    sim = make()
    order = place(sim, "BTC/USDT", "buy", "limit", 0.01, 30_000.0)
    assert order["status"] == "open" and order["filled"] == 0 and order["remaining"] == 0.01
    usdt = sim.fetch_balance()["USDT"]
    assert usdt["used"] == pytest.approx(300.3) and usdt["free"] == pytest.approx(9_699.7)
    assert usdt["total"] == pytest.approx(10_000)
    sell = place(sim, "ETH/USDT", "sell", "limit", 2.0, 9_000.0, cid="s")
    assert sim.fetch_balance()["ETH"] == {"free": 3.0, "used": 2.0, "total": 5.0}

    canceled = sim.cancel_order("BTC/USDT", client_order_id="c1")
    assert canceled["status"] == "canceled"
    assert sim.fetch_order("BTC/USDT", client_order_id="c1")["status"] == "canceled"
    sim.cancel_order("ETH/USDT", client_order_id=sell["clientOrderId"])
    balance = sim.fetch_balance()
    assert balance["USDT"] == {"free": 10_000.0, "used": 0.0, "total": 10_000.0}
    assert balance["ETH"] == {"free": 5.0, "used": 0.0, "total": 5.0}
    for cid in ("c1", "never-placed"):
        with pytest.raises(ccxt.OrderNotFound):
            sim.cancel_order("BTC/USDT", client_order_id=cid)


def test_resting_limit_fills_when_the_price_crosses() -> None:
    clock = FakeClock()
    sim = make(8, clock)
    limit = round(sim.fetch_ticker("BTC/USDT")["bid"] - 100, 2)
    place(sim, "BTC/USDT", "buy", "limit", 0.01, limit)
    for _ in range(2_000):
        clock.now += 60
        order = sim.fetch_order("BTC/USDT", client_order_id="c1")
        if order["status"] == "closed":
            break
    assert order["status"] == "closed" and order["average"] == limit
    assert sim.fetch_ticker("BTC/USDT")["ask"] <= limit
    assert order["fee"]["cost"] == pytest.approx(0.01 * limit * 0.001)  # maker fee
    balance = sim.fetch_balance()
    assert balance["USDT"]["used"] == 0 and balance["BTC"]["free"] == pytest.approx(0.51)
    assert balance["USDT"]["total"] == pytest.approx(10_000 - 0.01 * limit * 1.001)


def test_client_order_id_must_be_unique_among_open_orders_only() -> None:
    sim = make()
    place(sim, "BTC/USDT", "buy", "limit", 0.01, 30_000.0, cid="dup")  # rests: open
    with pytest.raises(ccxt.InvalidOrder, match="Duplicate order sent"):
        place(sim, "BTC/USDT", "buy", "market", 0.01, cid="dup")
    place(sim, "BTC/USDT", "buy", "market", 0.01, cid="done")  # filled: the id may be reused
    again = place(sim, "BTC/USDT", "buy", "market", 0.01, cid="done")
    assert sim.fetch_balance()["BTC"]["free"] == pytest.approx(0.52)
    assert sim.fetch_order("BTC/USDT", client_order_id="done")["id"] == again["id"]


def test_fetch_order_is_per_symbol_and_returns_copies() -> None:
    sim = make()
    place(sim, "BTC/USDT", "buy", "market", 0.01)
    assert sim.fetch_order("ETH/USDT", client_order_id="c1") is None
    sim.fetch_order("BTC/USDT", client_order_id="c1")["status"] = "tampered"
    assert sim.fetch_order("BTC/USDT", client_order_id="c1")["status"] == "closed"


def test_same_seed_same_fills() -> None:
    def session(seed: int) -> list[dict]:
        clock = FakeClock()
        sim = make(seed, clock)
        orders = [place(sim, "BTC/USDT", "buy", "market", 0.01, cid="a"),
                  place(sim, "SOL/USDT", "buy", "limit", 1.0, 140.0, cid="b")]
        clock.now += 600
        orders.append(place(sim, "ETH/USDT", "sell", "market", 0.5, cid="c"))
        return [*orders, sim.fetch_balance()]

    assert session(21) == session(21)
    assert session(21) != session(22)


def test_initial_balances_from_config() -> None:
    balance = make(balances={"USDT": 50.0}).fetch_balance()
    assert balance["USDT"]["free"] == 50.0 and balance["BTC"]["total"] == 0.0
    assert make().fetch_balance()["ETH"]["free"] == 5.0


# -- faults and latency (the network around the core) --------------------------------------


def test_fault_rates_are_seeded_and_roughly_as_configured() -> None:
    def counts(seed: int) -> dict[str, int]:
        faults = FaultInjector(seed, error_rate=0.05, timeout_rate=0.03, rate_limit_rate=0.02)
        seen: dict[str, int] = {}
        for _ in range(2_000):
            fault = faults.draw("fetch_ticker")
            name = fault.class_name if fault else "ok"
            seen[name] = seen.get(name, 0) + 1
        return seen

    seen = counts(1)
    assert seen == counts(1)
    assert 60 <= seen["ExchangeNotAvailable"] <= 140
    assert 30 <= seen["RequestTimeout"] <= 90
    assert 15 <= seen["RateLimitExceeded"] <= 65


def test_fault_config_is_validated() -> None:
    with pytest.raises(ValueError, match="sum to <= 1"):
        FaultInjector(0, error_rate=0.7, timeout_rate=0.4)
    with pytest.raises(ValueError, match="unknown fault rate"):
        FaultInjector(0, per_endpoint={"ping": {"eror_rate": 1.0}})
    with pytest.raises(ValueError, match=r"latency\.mode"):
        LatencyModel(0, mode="fast")


def test_latency_jitter_is_seeded_and_per_endpoint() -> None:
    a, b = LatencyModel(3), LatencyModel(3)
    draws = [a.sample("fetch_ticker") for _ in range(200)]
    assert draws == [b.sample("fetch_ticker") for _ in range(200)]
    assert 15 < sorted(draws)[100] < 25  # base_ms is the median
    orders = sorted(a.sample("create_order") for _ in range(200))
    assert 30 < orders[100] < 50


def test_latency_modes() -> None:
    slept: list[float] = []
    sleepy = LatencyModel(1, mode="sleep", base_ms=30, sigma=0, sleep=slept.append)
    assert sleepy.spend("ping") is None and slept == [0.03]
    assert sleepy.spend("ping", fixed_ms=10_000) is None and slept[-1] == 10.0
    assert LatencyModel(1, mode="off").spend("ping") is None
    assert LatencyModel(1, sigma=0).spend("ping") == 20.0


def test_every_public_name_of_the_package_resolves_on_first_use() -> None:
    """adapters.sim imports its names lazily (a config check needs no engine): each must come."""
    import adapters.sim as package

    assert all(getattr(package, name) is not None for name in package.__all__)
    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        package.Nope  # noqa: B018
