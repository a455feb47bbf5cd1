"""The simulator speaks Binance spot REST: market data (trades, aggregate trades, klines of every
interval, deep history), checked over HTTP with ccxt (sync and async) and binance-connector.

Every server binds 127.0.0.1 on port 0; every client's base URL is the simulator's.  The helpers
here (clients, raw calls) serve the other test_sim_conformance_* files too.
"""

from __future__ import annotations

import asyncio
import json
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from decimal import Decimal
from itertools import pairwise
from typing import Any
from urllib.parse import urlencode

import pytest

from adapters.ccxt_transport import SPOT_OPTIONS, point_urls
from adapters.sim.intervals import DAY_MS, INTERVALS, MINUTE_MS, next_open, open_time
from adapters.sim.server import SimServer

KEY, SECRET = "conformance-key", "conformance-secret"
NOW = (time.time() // 60) * 60 + 30.5  # a frozen exchange clock: market data cannot move
NOW_MS = int(NOW * 1000)


class Reply:
    def __init__(self, status: int, headers: Any, body: bytes) -> None:
        self.status, self.headers, self.raw = status, headers, body

    @property
    def json(self) -> Any:
        return json.loads(self.raw)

    @property
    def weight(self) -> int:
        return int(self.headers["X-MBX-USED-WEIGHT-1M"])


def get(server: SimServer, path: str, **params: Any) -> Reply:
    """GET /api/v3/<path>; HTTP errors come back as replies."""
    url = f"{server.url}/api/v3/{path}" + (f"?{urlencode(params)}" if params else "")
    try:
        with urllib.request.urlopen(url, timeout=5) as resp:
            return Reply(resp.status, resp.headers, resp.read())
    except urllib.error.HTTPError as err:
        return Reply(err.code, err.headers, err.read())


def serve(seed: int = 11, **config: Any) -> SimServer:
    return SimServer.from_config(seed=seed, api_key=KEY, api_secret=SECRET, **config).start()


def ccxt_client(server: SimServer, **config: Any) -> Any:
    """ccxt's sync binance, spot only, every API base on the simulator."""
    import ccxt

    return point_urls(ccxt.binance({"apiKey": KEY, "secret": SECRET, "enableRateLimit": False,
                                    "options": dict(SPOT_OPTIONS), **config}), server.url)


def ccxt_async(server: SimServer, coroutine: Any) -> Any:
    """Run `coroutine(exchange)` with ccxt.async_support's binance pointed at the simulator."""
    import ccxt.async_support as ccxt_async_support

    async def main() -> Any:
        exchange = point_urls(ccxt_async_support.binance({
            "apiKey": KEY, "secret": SECRET, "enableRateLimit": False,
            "options": dict(SPOT_OPTIONS)}), server.url)
        try:
            return await coroutine(exchange)
        finally:
            await exchange.close()

    return asyncio.run(main())


def connector(server: SimServer, **config: Any) -> Any:
    """binance-connector's Spot client on the simulator."""
    from binance.spot import Spot

    return Spot(api_key=KEY, api_secret=SECRET, base_url=server.url, timeout=5, **config)


@pytest.fixture(scope="module")
def market() -> Iterator[SimServer]:
    server = serve(clock=lambda: NOW)
    yield server
    server.stop()


def totals(rows: list[dict[str, Any]], key: str) -> Decimal:
    return sum((Decimal(r[key]) for r in rows), Decimal(0))


# -- 1. trades --------------------------------------------------------------------------------


def test_trade_endpoints_have_binance_shapes_weights_and_limits(market: SimServer) -> None:
    before = get(market, "ping").weight
    recent = get(market, "trades", symbol="BTCUSDT", limit=5)
    assert recent.weight - before == 25
    assert list(recent.json[0]) == ["id", "price", "qty", "quoteQty", "time", "isBuyerMaker",
                                    "isBestMatch"]
    ids = [t["id"] for t in recent.json]
    assert ids == list(range(ids[0], ids[0] + 5))
    assert float(recent.json[-1]["price"]) == market.sim.fetch_ticker("BTC/USDT")["last"]
    old = get(market, "historicalTrades", symbol="BTCUSDT", fromId=ids[0] - 100, limit=3)
    assert old.weight - recent.weight == 25
    assert [t["id"] for t in old.json] == [ids[0] - 100, ids[0] - 99, ids[0] - 98]
    aggs = get(market, "aggTrades", symbol="BTCUSDT", limit=4)
    assert aggs.weight - old.weight == 4
    assert set(aggs.json[0]) == {"a", "p", "q", "f", "l", "T", "m", "M"}
    assert aggs.json[-1]["l"] == ids[-1], "the newest aggregate ends with the newest trade"
    assert len(get(market, "trades", symbol="BTCUSDT").json) == 500  # Binance's default
    assert len(get(market, "trades", symbol="BTCUSDT", limit=5000).json) == 1_000
    assert get(market, "trades", symbol="BTCUSDT", limit=0).json["code"] == -1100
    assert get(market, "trades", symbol="NOPE").json["code"] == -1121
    assert get(market, "historicalTrades", symbol="BTCUSDT", fromId=10**12).json == []


def test_trades_add_up_to_their_klines(market: SimServer) -> None:
    start = open_time("1m", NOW_MS - 3 * DAY_MS)
    minutes = get(market, "klines", symbol="ETHUSDT", interval="1m", startTime=start,
                  limit=10).json
    aggs = get(market, "aggTrades", symbol="ETHUSDT", startTime=start,
               endTime=start + 10 * MINUTE_MS - 1, limit=1000).json
    seconds = get(market, "klines", symbol="ETHUSDT", interval="1s", startTime=start,
                  limit=600).json
    for k in minutes:
        inside = [a for a in aggs if k[0] <= a["T"] <= k[6]]
        prices = [Decimal(a["p"]) for a in inside]
        assert (prices[0], max(prices), min(prices), prices[-1]) == tuple(map(Decimal, k[1:5]))
        assert totals(inside, "q") == Decimal(k[5])
        assert sum(a["l"] - a["f"] + 1 for a in inside) == k[8]
        secs = [s for s in seconds if k[0] <= s[0] <= k[6]]
        assert len(secs) == 60 and (secs[0][1], secs[-1][4]) == (k[1], k[4])
        assert max(Decimal(s[2]) for s in secs) == Decimal(k[2])
        assert min(Decimal(s[3]) for s in secs) == Decimal(k[3])
        assert sum(Decimal(s[5]) for s in secs) == Decimal(k[5])
        assert sum(s[8] for s in secs) == k[8]
    first = aggs[0]
    fills = get(market, "historicalTrades", symbol="ETHUSDT", fromId=first["f"],
                limit=first["l"] - first["f"] + 1).json
    assert {(t["price"], t["time"], t["isBuyerMaker"]) for t in fills} == {
        (first["p"], first["T"], first["m"])}
    assert totals(fills, "qty") == Decimal(first["q"])


def test_agg_trades_follow_binances_parameter_rules(market: SimServer) -> None:
    start = NOW_MS - DAY_MS
    oldest = get(market, "aggTrades", symbol="SOLUSDT", startTime=start, limit=5).json
    assert all(a["T"] >= start for a in oldest) and oldest[0]["T"] - start < MINUTE_MS
    newest = get(market, "aggTrades", symbol="SOLUSDT", endTime=start, limit=5).json
    assert all(a["T"] <= start for a in newest) and start - newest[-1]["T"] < MINUTE_MS
    assert newest[-1]["a"] + 1 == oldest[0]["a"], "endTime and startTime meet"
    window = get(market, "aggTrades", symbol="SOLUSDT", startTime=start,
                 endTime=start + 2 * MINUTE_MS, limit=1000).json
    assert all(start <= a["T"] <= start + 2 * MINUTE_MS for a in window) and len(window) > 16
    by_id = get(market, "aggTrades", symbol="SOLUSDT", fromId=oldest[0]["a"], limit=5).json
    assert by_id == oldest
    ids = [a["a"] for a in get(market, "aggTrades", symbol="SOLUSDT", limit=1000).json]
    assert ids == list(range(ids[0], ids[0] + 1000))
    mixed = get(market, "aggTrades", symbol="SOLUSDT", fromId=ids[0], startTime=start)
    assert (mixed.status, mixed.json["code"]) == (400, -1128)


# -- 2. klines: every interval, deep history, aggregation ------------------------------------


@pytest.mark.parametrize("interval", INTERVALS)
def test_every_interval_starts_exactly_at_start_time_a_day_back(market: SimServer,
                                                                interval: str) -> None:
    start = open_time(interval, NOW_MS - DAY_MS)
    rows = get(market, "klines", symbol="BTCUSDT", interval=interval, startTime=start).json
    assert rows[0][0] == start
    assert all(b[0] == next_open(interval, a[0]) == a[6] + 1 for a, b in pairwise(rows))
    if interval != "1s":  # a second's open is its first trade (if any), as on Binance
        assert all(a[4] == b[1] for a, b in pairwise(rows)), "opens at the last close"
    assert rows[-1][0] <= NOW_MS < rows[-1][6] + 1 or len(rows) == 500
    after = get(market, "klines", symbol="BTCUSDT", interval=interval, startTime=start + 1,
                limit=2).json
    assert [k[0] for k in after[:1]] == [next_open(interval, start)][:len(rows) - 1], \
        "a kline opening before startTime is left out"


def test_one_minute_history_reaches_30_days_back_deterministically(market: SimServer) -> None:
    start = open_time("1m", NOW_MS - 30 * DAY_MS)
    params = {"symbol": "BTCUSDT", "interval": "1m", "startTime": start, "limit": 1000}
    rows = get(market, "klines", **params).json
    assert len(rows) == 1000 and rows[0][0] == start and rows[-1][0] == start + 999 * MINUTE_MS
    twin, other = serve(clock=lambda: NOW), serve(seed=12, clock=lambda: NOW)
    try:
        assert get(twin, "klines", **params).json == rows
        assert get(other, "klines", **params).json != rows
    finally:
        twin.stop()
        other.stop()
    daily = get(market, "klines", symbol="BTCUSDT", interval="1d", startTime=0, limit=1000).json
    assert daily[0][0] == 1_499_990_400_000 and len(daily) == 1000  # years of 1d history


@pytest.mark.parametrize(("coarse", "fine", "count"), [("1h", "1m", 60), ("1d", "1h", 24),
                                                        ("1M", "1d", None), ("1w", "1d", 7)])
def test_a_kline_is_the_aggregate_of_the_smaller_ones(market: SimServer, coarse: str,
                                                      fine: str, count: int | None) -> None:
    start = open_time(coarse, NOW_MS - 40 * DAY_MS)
    big = get(market, "klines", symbol="ETHUSDT", interval=coarse, startTime=start,
              limit=3).json
    small = get(market, "klines", symbol="ETHUSDT", interval=fine, startTime=start,
                limit=1000).json
    for k in [k for k in big if k[6] < NOW_MS][:2]:  # whole klines
        parts = [s for s in small if k[0] <= s[0] <= k[6]]
        assert len(parts) == (count or (k[6] + 1 - k[0]) // DAY_MS)
        assert (parts[0][1], parts[-1][4]) == (k[1], k[4])
        assert max(Decimal(p[2]) for p in parts) == Decimal(k[2])
        assert min(Decimal(p[3]) for p in parts) == Decimal(k[3])
        assert sum(Decimal(p[5]) for p in parts) == Decimal(k[5])
        assert sum(p[8] for p in parts) == k[8]


def test_klines_follow_binances_parameter_rules(market: SimServer) -> None:
    def klines(**params: Any) -> Any:
        return get(market, "klines", symbol="BTCUSDT", **params).json

    end = NOW_MS - DAY_MS
    last = klines(interval="1h", endTime=end, limit=3)
    assert last[-1][0] == open_time("1h", end) and len(last) == 3
    both = klines(interval="1h", startTime=end - 10 * 3_600_000, endTime=end, limit=1000)
    assert both[0][0] >= end - 10 * 3_600_000 and both[-1][0] <= end and len(both) == 10
    assert len(klines(interval="1m")) == 500 and len(klines(interval="1m", limit=5000)) == 1000
    assert klines(interval="1m", startTime=NOW_MS + DAY_MS) == []
    assert klines(interval="1m", limit=3) == get(market, "uiKlines", symbol="BTCUSDT",
                                                 interval="1m", limit=3).json
    shifted = klines(interval="1d", timeZone="+08:00", limit=2)
    assert all(k[0] % DAY_MS == 16 * 3_600_000 for k in shifted)  # local midnight in UTC
    assert klines(interval="1d", timeZone="15:00")["code"] == -1100
    assert klines(interval="2d")["code"] == -1120
    before = get(market, "ping").weight
    assert get(market, "klines", symbol="BTCUSDT", interval="1m", limit=1).weight - before == 2


# -- the same data through three clients --------------------------------------------------------


def test_ccxt_sync_async_and_binance_connector_read_the_same_market(market: SimServer) -> None:
    since = open_time("1h", NOW_MS - DAY_MS)
    raw_klines = get(market, "klines", symbol="BTCUSDT", interval="1h", startTime=since,
                     limit=24).json
    raw_aggs = get(market, "aggTrades", symbol="BTCUSDT", limit=50).json
    raw_trades = get(market, "trades", symbol="BTCUSDT", limit=50).json

    ex = ccxt_client(market)
    assert ex.fetch_ohlcv("BTC/USDT", "1h", since=since, limit=24) == [
        [k[0], *map(float, k[1:6])] for k in raw_klines]
    assert [t["id"] for t in ex.fetch_trades("BTC/USDT", limit=50)] == [
        str(a["a"]) for a in raw_aggs]
    recent = ex.fetch_trades("BTC/USDT", limit=50, params={"fetchTradesMethod":
                                                           "publicGetTrades"})
    assert [(t["id"], t["price"]) for t in recent] == [
        (str(t["id"]), float(t["price"])) for t in raw_trades]
    older = ex.fetch_trades("BTC/USDT", limit=5, params={
        "fetchTradesMethod": "publicGetHistoricalTrades", "fromId": raw_trades[0]["id"]})
    assert [t["id"] for t in older] == [str(t["id"]) for t in raw_trades[:5]]

    async def read(exchange: Any) -> tuple[Any, Any]:
        return (await exchange.fetch_ohlcv("BTC/USDT", "1h", since=since, limit=24),
                await exchange.fetch_trades("BTC/USDT", limit=50))

    candles, trades = ccxt_async(market, read)
    assert candles == [[k[0], *map(float, k[1:6])] for k in raw_klines]
    assert [t["id"] for t in trades] == [str(a["a"]) for a in raw_aggs]

    spot = connector(market)
    assert spot.klines("BTCUSDT", "1h", startTime=since, limit=24) == raw_klines
    assert spot.ui_klines("BTCUSDT", "1h", startTime=since, limit=24) == raw_klines
    assert spot.agg_trades("BTCUSDT", limit=50) == raw_aggs
    assert spot.trades("BTCUSDT", limit=50) == raw_trades
    assert spot.historical_trades("BTCUSDT", fromId=raw_trades[0]["id"], limit=50) == raw_trades
    assert spot.klines("BTCUSDT", "1s", limit=3)[-1][0] == open_time("1m", NOW_MS) + 59_000
