"""The simulator's market history over HTTP: every kline interval aggregates the smaller ones and
the trades under it, rows are a function of the seed, and deep startTimes, limits and endTimes
select rows as Binance does (rest-api.md, klines/aggTrades/trades/historicalTrades).

One server per module on a frozen clock (the market cannot move between requests); the twins
and the other seed are started inside their test.
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterator
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from itertools import pairwise
from typing import Any

import pytest
from test_sim_conformance import NOW, NOW_MS, get, serve

from adapters.sim import binance_wire as wire
from adapters.sim.intervals import DAY_MS, FIXED_MS, HOUR_MS, MINUTE_MS, next_open, open_time
from adapters.sim.market import Market, build_specs
from adapters.sim.server import SimServer
from adapters.sim.trades import AGGS_PER_MINUTE

SEED = 23
YEAR_MS = 365 * DAY_MS
# kline fields that add up: volume, quote volume, trades, taker buy base and quote volumes
SUMS = {5: "volume", 7: "quote volume", 8: "trades", 9: "taker base", 10: "taker quote"}


@pytest.fixture(scope="module")
def market() -> Iterator[SimServer]:
    server = serve(seed=SEED, clock=lambda: NOW)
    yield server
    server.stop()


THEN = 1_760_000_030.5  # 2025-10-09: a clock of its own, so these rows are the same every run
THEN_MS = int(THEN * 1000)


@pytest.fixture(scope="module")
def fixed() -> Iterator[SimServer]:
    server = serve(seed=SEED, clock=lambda: THEN)
    yield server
    server.stop()


def klines(server: SimServer, interval: str, path: str = "klines", **params: Any) -> Any:
    return get(server, path, symbol="ETHUSDT", interval=interval, **params).json


def aggregate(rows: list[list[Any]]) -> dict[str, Any]:
    """Binance's rule for merging consecutive klines: first open, extremes, last close, sums."""
    out: dict[str, Any] = {
        "open": rows[0][1], "high": max(Decimal(r[2]) for r in rows),
        "low": min(Decimal(r[3]) for r in rows), "close": rows[-1][4],
        "close time": rows[-1][6]}
    for i, name in SUMS.items():
        out[name] = sum(Decimal(r[i]) for r in rows)
    return out


def as_aggregate(k: list[Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"open": k[1], "high": Decimal(k[2]), "low": Decimal(k[3]),
                           "close": k[4], "close time": k[6]}
    out.update({name: Decimal(k[i]) for i, name in SUMS.items()})
    return out


# -- every interval is the aggregate of the smaller ones --------------------------------------

CASES = [  # coarse, fine, how far back, timeZone
    ("1m", "1s", 30 * DAY_MS, None), ("3m", "1m", 30 * DAY_MS, None),
    ("5m", "1m", 20 * DAY_MS, None), ("15m", "1m", 10 * DAY_MS, None),
    ("30m", "1m", 9 * DAY_MS, None), ("1h", "1m", 30 * DAY_MS, None),
    ("2h", "1h", 40 * DAY_MS, None), ("4h", "1h", 60 * DAY_MS, None),
    ("6h", "1h", 90 * DAY_MS, None), ("8h", "1h", 120 * DAY_MS, None),
    ("12h", "1h", 200 * DAY_MS, None), ("1d", "1h", 400 * DAY_MS, None),
    ("1d", "1h", 3 * DAY_MS, "8"), ("6h", "1m", 2 * DAY_MS, None),
    ("3d", "1d", 2 * YEAR_MS, None), ("1w", "1d", 2 * YEAR_MS, None),
    ("1M", "1d", 3 * YEAR_MS, None), ("1M", "1d", 3 * YEAR_MS, "-5:00"),
]


@pytest.mark.parametrize(("coarse", "fine", "back", "zone"), CASES,
                         ids=[f"{c}-{f}-{b // DAY_MS}d-tz{z}" for c, f, b, z in CASES])
def test_a_kline_is_the_aggregate_of_the_smaller_ones(market: SimServer, coarse: str, fine: str,
                                                      back: int, zone: str | None) -> None:
    offset = {"8": 8 * HOUR_MS, "-5:00": -5 * HOUR_MS}.get(zone or "", 0)
    tz = {"timeZone": zone} if zone else {}
    start = next_open(coarse, open_time(coarse, NOW_MS - back, offset), offset)
    big = klines(market, coarse, startTime=start, limit=2, **tz)
    assert [k[0] for k in big] == [start, next_open(coarse, start, offset)]
    small = klines(market, fine, startTime=start, endTime=big[-1][6], limit=1000, **tz)
    for k in big:
        parts = [s for s in small if k[0] <= s[0] <= k[6]]
        width = FIXED_MS.get(coarse) or next_open("1M", k[0], offset) - k[0]
        assert len(parts) == width // FIXED_MS[fine], "every smaller kline is served"
        assert aggregate(parts) == as_aggregate(k)
    for k in big + small:  # taker buys are part of the whole
        assert 0 <= Decimal(k[9]) <= Decimal(k[5]) and 0 <= Decimal(k[10]) <= Decimal(k[7])


def test_the_days_klines_add_up_to_a_week_and_a_month_years_back(market: SimServer) -> None:
    """The 1w and 1M klines of 2020 against their 1d klines (three years of history)."""
    days = klines(market, "1d", startTime=1_577_836_800_000, limit=366)  # 2020-01-01
    weeks = klines(market, "1w", startTime=1_577_836_800_000, limit=52)
    months = klines(market, "1M", startTime=1_577_836_800_000, limit=12)
    assert weeks[0][0] == 1_578_268_800_000  # Monday 2020-01-06 00:00 UTC
    for coarse in weeks[:-1] + months:
        parts = [d for d in days if coarse[0] <= d[0] <= coarse[6]]
        assert aggregate(parts) == as_aggregate(coarse)
    assert [len([d for d in days if m[0] <= d[0] <= m[6]]) for m in months[:3]] == [31, 29, 31]


# -- trades add up to their klines -------------------------------------------------------------


@pytest.mark.parametrize("back", [30 * DAY_MS, 2 * DAY_MS + 17 * MINUTE_MS],
                         ids=["30d", "2d"])
def test_the_trades_of_a_minute_are_its_kline(market: SimServer, back: int) -> None:
    start = open_time("1m", NOW_MS - back)
    k = klines(market, "1m", startTime=start, limit=1)[0]
    aggs = get(market, "aggTrades", symbol="ETHUSDT", startTime=start, endTime=k[6],
               limit=1000).json
    prices = [Decimal(a["p"]) for a in aggs]
    assert (aggs[0]["p"], max(prices), min(prices), aggs[-1]["p"]) == (
        k[1], Decimal(k[2]), Decimal(k[3]), k[4])
    assert sum(Decimal(a["q"]) for a in aggs) == Decimal(k[5])
    assert sum(a["l"] - a["f"] + 1 for a in aggs) == k[8]
    assert sum(Decimal(a["q"]) for a in aggs if not a["m"]) == Decimal(k[9]), "taker buys"
    quote = sum(p * Decimal(a["q"]) for p, a in zip(prices, aggs, strict=True))
    assert abs(quote / Decimal(k[7]) - 1) < Decimal("1e-8"), "quote volume: the trades' value"
    assert [a["a"] for a in aggs] == list(range(aggs[0]["a"], aggs[0]["a"] + len(aggs)))

    by_id = get(market, "aggTrades", symbol="ETHUSDT", fromId=aggs[0]["a"], limit=len(aggs))
    assert by_id.json == aggs
    fills = get(market, "historicalTrades", symbol="ETHUSDT", fromId=aggs[0]["f"],
                limit=k[8]).json
    assert [t["id"] for t in fills] == list(range(aggs[0]["f"], aggs[-1]["l"] + 1))
    for a in aggs:
        mine = [t for t in fills if a["f"] <= t["id"] <= a["l"]]
        assert {(t["price"], t["time"], t["isBuyerMaker"]) for t in mine} == {
            (a["p"], a["T"], a["m"])}
        assert sum(Decimal(t["qty"]) for t in mine) == Decimal(a["q"])
    assert all(Decimal(t["quoteQty"]) == Decimal(t["price"]) * Decimal(t["qty"])
               for t in fills)

    seconds = klines(market, "1s", startTime=start, limit=60)
    for s in seconds:  # each 1s kline is its second's trades (or the last price, no volume)
        inside = [a for a in aggs if s[0] <= a["T"] <= s[6]]
        if inside:
            assert (s[1], s[4]) == (inside[0]["p"], inside[-1]["p"])
        assert Decimal(s[5]) == sum(Decimal(a["q"]) for a in inside)
        assert s[8] == sum(a["l"] - a["f"] + 1 for a in inside)


def test_the_newest_trades_are_the_newest_kline(market: SimServer) -> None:
    newest = klines(market, "1m", limit=1)[0]
    assert newest[0] == open_time("1m", NOW_MS)
    recent = get(market, "trades", symbol="ETHUSDT", limit=newest[8]).json
    assert recent[0]["time"] >= newest[0] and recent[-1]["time"] <= newest[6]
    assert (recent[0]["price"], recent[-1]["price"]) == (newest[1], newest[4])
    assert sum(Decimal(t["qty"]) for t in recent) == Decimal(newest[5])
    before = get(market, "trades", symbol="ETHUSDT", limit=newest[8] + 1).json[0]
    assert before["time"] < newest[0], "the minute's trades are all its trades"


def test_the_24hr_ticker_is_its_minutes_and_its_trades(market: SimServer) -> None:
    ticker = get(market, "ticker/24hr", symbol="ETHUSDT").json
    minutes = klines(market, "1m", startTime=open_time("1m", NOW_MS) - 1439 * MINUTE_MS,
                     limit=1000)
    minutes += klines(market, "1m", startTime=minutes[-1][0] + MINUTE_MS, limit=1000)
    assert len(minutes) == 1440
    assert ticker["openPrice"] == minutes[0][1] and ticker["lastPrice"] == minutes[-1][4]
    day = aggregate(minutes)
    assert (Decimal(ticker["highPrice"]), Decimal(ticker["lowPrice"])) == (day["high"],
                                                                         day["low"])
    assert (Decimal(ticker["volume"]), Decimal(ticker["quoteVolume"])) == (day["volume"],
                                                                          day["quote volume"])
    assert ticker["count"] == day["trades"] == ticker["lastId"] - ticker["firstId"] + 1
    first = get(market, "historicalTrades", symbol="ETHUSDT", fromId=ticker["firstId"],
                limit=1).json[0]
    assert first["time"] >= minutes[0][0] and first["price"] == minutes[0][1]
    assert get(market, "trades", symbol="ETHUSDT", limit=1).json[0]["id"] == ticker["lastId"]


def test_the_average_price_is_the_last_five_minutes_of_trades(market: SimServer) -> None:
    """rest-api.md CHANGELOG: (qty * price) of all trades / sum of qty over the previous 5
    minutes; closeTime is the last trade's time."""
    average = get(market, "avgPrice", symbol="ETHUSDT").json
    newest = klines(market, "1m", limit=1)[0]
    aggs = get(market, "aggTrades", symbol="ETHUSDT", startTime=newest[0] - 4 * MINUTE_MS,
               endTime=newest[6], limit=1000).json
    assert len(aggs) == 5 * AGGS_PER_MINUTE
    qty = sum(Decimal(a["q"]) for a in aggs)
    value = sum(Decimal(a["p"]) * Decimal(a["q"]) for a in aggs)
    assert average["mins"] == 5 and abs(Decimal(average["price"]) - value / qty) < Decimal(
        "1e-7")
    assert average["closeTime"] == aggs[-1]["T"] == get(
        market, "trades", symbol="ETHUSDT", limit=1).json[0]["time"]


# -- a kline's average price lies within its range --------------------------------------------

RANGES = [  # interval, how far back its random start times go, how many (100 klines each)
    ("1s", 2 * DAY_MS, 12), ("1s", 3 * YEAR_MS, 12), ("1m", DAY_MS, 10),
    ("1m", 3 * YEAR_MS, 10), ("5m", 60 * DAY_MS, 4), ("1h", 30 * DAY_MS, 4),
    ("1h", 3 * YEAR_MS, 4), ("1d", 3 * YEAR_MS, 4), ("1w", 3 * YEAR_MS, 2), ("1M", 3 * YEAR_MS, 1)]


@pytest.mark.parametrize(("interval", "back", "draws"), RANGES,
                         ids=[f"{i}-{b // DAY_MS}d" for i, b, _ in RANGES])
def test_a_klines_average_price_lies_within_its_range(fixed: SimServer, interval: str, back: int,
                                                      draws: int) -> None:
    """quoteVolume / volume and taker buy quote / taker buy base lie in [low, high] for every
    kline, on the wire (exact decimals).  Only where no whole quote unit (10**-digits) lies
    between volume x low and volume x high (a 1s kline at one price whose value has more
    decimals than quote volumes carry) is the quote the nearest unit, less than one off."""
    unit = Decimal(1).scaleb(-fixed.sim.market.quote_digits("ETH/USDT"))
    rng, checked, rounded = random.Random(interval + str(back)), 0, 0
    for _ in range(draws):
        rows = klines(fixed, interval, startTime=THEN_MS - rng.randrange(back), limit=100)
        for k in rows:
            low, high = Decimal(k[3]), Decimal(k[2])
            for volume, quote in ((Decimal(k[5]), Decimal(k[7])), (Decimal(k[9]), Decimal(k[10]))):
                if not volume:
                    assert quote == 0
                    continue
                least, most = volume * low / unit, volume * high / unit
                if least.to_integral_value(ROUND_CEILING) <= most.to_integral_value(ROUND_FLOOR):
                    assert volume * low <= quote <= volume * high, (interval, k)
                else:
                    assert volume * low - unit < quote < volume * high + unit, (interval, k)
                    rounded += 1
                checked += 1
    assert checked >= 30 * draws  # a 1s kline has trades in about one second of four
    assert interval == "1s" or not rounded, "only 1s klines can be too narrow for a quote unit"


def test_the_trades_of_a_minute_are_worth_its_quote_volumes(fixed: SimServer) -> None:
    """Sum(price x qty) of a minute's trades is its quote volume, and that of its taker buys
    its taker buy quote volume, exactly: recent minutes and years back."""
    rng = random.Random(5)
    for back in [rng.randrange(MINUTE_MS, DAY_MS) for _ in range(4)] + [
            rng.randrange(DAY_MS, 3 * YEAR_MS) for _ in range(8)]:
        start = open_time("1m", THEN_MS - back)
        k = klines(fixed, "1m", startTime=start, limit=1)[0]
        aggs = get(fixed, "aggTrades", symbol="ETHUSDT", startTime=start, endTime=k[6],
                   limit=1000).json
        value = [Decimal(a["p"]) * Decimal(a["q"]) for a in aggs]
        assert sum(value) == Decimal(k[7]), back
        assert sum(v for v, a in zip(value, aggs, strict=True) if not a["m"]) == Decimal(k[10])


# -- determinism -------------------------------------------------------------------------------

DEEP = [("klines", {"interval": "1m", "startTime": NOW_MS - 30 * DAY_MS, "limit": 1000}),
        ("klines", {"interval": "1d", "startTime": NOW_MS - 3 * YEAR_MS, "limit": 100}),
        ("klines", {"interval": "1s", "startTime": NOW_MS - 7 * DAY_MS, "limit": 120}),
        ("aggTrades", {"startTime": NOW_MS - 30 * DAY_MS, "limit": 100}),
        ("historicalTrades", {"fromId": 12_345_678, "limit": 100})]


def test_rows_are_a_function_of_the_seed(market: SimServer) -> None:
    """The same request twice, or to another simulator with the same seed (started in the same
    minute: the history is anchored on the start minute), gives the same rows; another seed
    does not."""
    def rows(server: SimServer) -> list[Any]:
        return [get(server, path, symbol="BTCUSDT", **params).json for path, params in DEEP]

    first = rows(market)
    assert all(len(r) > 1 for r in first)
    assert rows(market) == first
    twin = serve(seed=SEED, clock=lambda: NOW + 25)  # later, in the same minute
    other = serve(seed=SEED + 1, clock=lambda: NOW)
    try:
        assert rows(twin) == first
        theirs = rows(other)
        assert all(a != b for a, b in zip(theirs, first, strict=True))
        assert [[k[0] for k in r] for r in theirs[:3]] == [[k[0] for k in r] for r in first[:3]]
    finally:
        twin.stop()
        other.stop()


def test_units_cut_by_a_kline_agree_with_their_children_whatever_comes_first() -> None:
    """A UTC hour cuts two of the history's hours (counted from the start minute): its sums
    come from running sums, a minute's from every minute's flows; either may come first."""
    specs = build_specs(["ETH/USDT"], None, None)
    a, b = (Market(specs, SEED, clock=lambda: THEN) for _ in range(2))
    rng = random.Random(9)
    for back in [rng.randrange(HOUR_MS, 3 * YEAR_MS) for _ in range(12)]:
        start = open_time("1h", THEN_MS - back)
        hours = a.klines("ETH/USDT", "1h", start=start, limit=2)  # hours first in a
        minutes = b.klines("ETH/USDT", "1m", start=start, limit=120)  # minutes first in b
        assert a.klines("ETH/USDT", "1m", start=start, limit=120) == minutes
        assert b.klines("ETH/USDT", "1h", start=start, limit=2) == hours
        for k, part in zip(hours, (minutes[:60], minutes[60:]), strict=True):
            assert (k.trades, k.high, k.low) == (sum(m.trades for m in part),
                                                 max(m.high for m in part),
                                                 min(m.low for m in part))
            for field in ("volume", "quote_volume", "taker_base", "taker_quote"):
                assert Decimal(str(getattr(k, field))) == sum(
                    Decimal(str(getattr(m, field))) for m in part), field


def test_history_does_not_depend_on_what_was_asked_before() -> None:
    """Fresh markets asked in different orders (the caches filled differently) agree."""
    specs = build_specs(["BTC/USDT"], None, None)
    a, b = (Market(specs, SEED, clock=lambda: NOW) for _ in range(2))
    deep = NOW_MS - 2 * YEAR_MS
    a.klines("BTC/USDT", "1d", start=deep, limit=60)
    a.klines("BTC/USDT", "1m", start=deep + 5 * DAY_MS, limit=600)
    for interval, start in (("1m", deep + 5 * DAY_MS), ("1h", deep), ("1w", deep)):
        assert a.klines("BTC/USDT", interval, start=start, limit=60) == b.klines(
            "BTC/USDT", interval, start=start, limit=60)


# -- startTime, endTime, limit -----------------------------------------------------------------


@pytest.mark.parametrize(("interval", "back"), [("1m", 30 * DAY_MS), ("1d", 3 * YEAR_MS),
                                                ("1h", 20 * DAY_MS), ("1w", 3 * YEAR_MS),
                                                ("1M", 3 * YEAR_MS), ("1s", 30 * DAY_MS)])
def test_deep_start_times_start_at_the_first_boundary(market: SimServer, interval: str,
                                                      back: int) -> None:
    start = NOW_MS - back + 17_123  # never on a boundary
    first = next_open(interval, open_time(interval, start))
    rows = klines(market, interval, startTime=start)
    assert rows[0][0] == first and len(rows) == min(500, _count(interval, first))
    assert all(b[0] == next_open(interval, a[0]) == a[6] + 1 for a, b in pairwise(rows))
    assert klines(market, interval, path="uiKlines", startTime=start) == rows
    most = klines(market, interval, startTime=start, limit=5000)
    assert most[:500] == rows and len(most) == min(1000, _count(interval, first))
    end = rows[9][0] + 1  # inside the tenth kline: it is the last one served
    assert klines(market, interval, startTime=start, endTime=end) == rows[:10]
    assert klines(market, interval, endTime=end, limit=3) == rows[7:10]
    assert klines(market, interval, startTime=end, endTime=start) == []


def _count(interval: str, first: int) -> int:
    """How many klines open from `first` up to now."""
    n, opened = 0, first
    while opened <= NOW_MS and n <= 1000:
        n, opened = n + 1, next_open(interval, opened)
    return n


def test_data_starts_at_binances_opening(market: SimServer) -> None:
    daily = klines(market, "1d", startTime=0, limit=3)
    assert daily[0][0] == 1_499_990_400_000  # 2017-07-14, as market.HISTORY_START_MS
    assert klines(market, "1m", endTime=1_499_990_400_000 - 1) == []


def test_a_thousand_minutes_thirty_days_back_are_fast() -> None:
    """Generation cost: best of three cold 1000-row 1m requests (formatting included)."""
    market = Market(build_specs(None, None, None), SEED, clock=lambda: NOW)
    took = []
    for k in range(3):
        begun = time.perf_counter()
        rows = market.klines("BTC/USDT", "1m", start=NOW_MS - (30 + k) * DAY_MS, limit=1000)
        [wire.kline(r) for r in rows]
        took.append(time.perf_counter() - begun)
    assert min(took) < 0.1, took
