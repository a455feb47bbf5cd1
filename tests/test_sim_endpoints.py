"""The simulator's newer Binance spot endpoints, over HTTP with binance-connector and ccxt:
rolling-window and trading-day tickers, MINI tickers, depth up to 5000, exchangeInfo's 2025
symbol fields, rateLimit/order, myPreventedMatches, myAllocations, account/commission,
order/amendments, order/test with computeCommissionRates, and the JSON error of an unknown path.

Market data and counts run on a frozen clock (requests signed here with the server's time);
binance-connector's and ccxt's own signing needs a live clock, so those use a live server.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

import pytest
from test_sim_conformance import (
    KEY,
    NOW,
    NOW_MS,
    SECRET,
    Reply,
    ccxt_client,
    connector,
    get,
    serve,
)

from adapters.sim.binance_wire import MINI_TICKER_FIELDS
from adapters.sim.intervals import DAY_MS, HOUR_MS, open_time
from adapters.sim.server import SimServer

MINI = list(MINI_TICKER_FIELDS)
WINDOW_FULL = ["symbol", "priceChange", "priceChangePercent", "weightedAvgPrice", "openPrice",
               "highPrice", "lowPrice", "lastPrice", "volume", "quoteVolume", "openTime",
               "closeTime", "firstId", "lastId", "count"]
# GET exchangeInfo's symbol fields, in rest-api.md's order
SYMBOL_FIELDS = ["symbol", "status", "baseAsset", "baseAssetPrecision", "quoteAsset",
                 "quotePrecision", "quoteAssetPrecision", "baseCommissionPrecision",
                 "quoteCommissionPrecision", "orderTypes", "icebergAllowed", "ocoAllowed",
                 "otoAllowed", "opoAllowed", "quoteOrderQtyMarketAllowed", "allowTrailingStop",
                 "cancelReplaceAllowed", "amendAllowed", "pegInstructionsAllowed",
                 "isSpotTradingAllowed", "isMarginTradingAllowed", "filters", "permissions",
                 "permissionSets", "defaultSelfTradePreventionMode",
                 "allowedSelfTradePreventionModes"]


def signed(server: SimServer, path: str, method: str = "GET", **params: Any) -> Reply:
    """A SIGNED request stamped with the server's (frozen) time."""
    query = urlencode({**params, "timestamp": server.sim.server_time()})
    query += "&signature=" + hmac.new(SECRET.encode(), query.encode(),
                                      hashlib.sha256).hexdigest()
    req = urllib.request.Request(f"{server.url}/api/v3/{path}?{query}", method=method,
                                 headers={"X-MBX-APIKEY": KEY})
    try:
        with urllib.request.urlopen(req, timeout=5) as resp:
            return Reply(resp.status, resp.headers, resp.read())
    except urllib.error.HTTPError as err:
        return Reply(err.code, err.headers, err.read())


def code(reply: Reply) -> int:
    return int(reply.json["code"])


def weight_of(server: SimServer, path: str, **params: Any) -> tuple[Reply, int]:
    before = get(server, "ping").weight
    reply = get(server, path, **params)
    return reply, reply.weight - before


@pytest.fixture(scope="module")
def market() -> Iterator[SimServer]:
    server = serve(seed=5, clock=lambda: NOW)
    yield server
    server.stop()


@pytest.fixture
def frozen() -> Iterator[SimServer]:
    server = serve(seed=6, clock=lambda: NOW)
    yield server
    server.stop()


@pytest.fixture
def live() -> Iterator[SimServer]:
    server = serve(seed=7)
    yield server
    server.stop()


# -- tickers ------------------------------------------------------------------------------------


def test_rolling_window_ticker_matches_the_klines_of_its_window(market: SimServer) -> None:
    spot = connector(market, show_limit_usage=True)
    answer = spot.rolling_window_ticker("BTCUSDT", windowSize="1h")
    row = answer["data"]
    assert list(row) == WINDOW_FULL
    opened = open_time("1m", NOW_MS) - HOUR_MS
    assert (row["openTime"], row["closeTime"]) == (opened, NOW_MS)
    minutes = get(market, "klines", symbol="BTCUSDT", interval="1m", startTime=opened,
                  limit=1000).json
    assert len(minutes) == 61  # the window's 60 minutes and the current one
    assert row["openPrice"] == minutes[0][1] and row["lastPrice"] == minutes[-1][4]
    assert Decimal(row["highPrice"]) == max(Decimal(k[2]) for k in minutes)
    assert Decimal(row["lowPrice"]) == min(Decimal(k[3]) for k in minutes)
    assert Decimal(row["volume"]) == sum(Decimal(k[5]) for k in minutes)
    assert row["count"] == sum(k[8] for k in minutes) == row["lastId"] - row["firstId"] + 1
    first = get(market, "historicalTrades", symbol="BTCUSDT", fromId=row["firstId"], limit=1)
    assert first.json[0]["time"] >= opened
    assert get(market, "trades", symbol="BTCUSDT", limit=1).json[0]["id"] == row["lastId"]
    change = Decimal(row["lastPrice"]) - Decimal(row["openPrice"])
    assert Decimal(row["priceChange"]) == change

    default = spot.rolling_window_ticker("ETHUSDT")["data"]  # windowSize 1d
    assert default["openTime"] == open_time("1m", NOW_MS) - DAY_MS
    week = spot.rolling_window_ticker("ETHUSDT", windowSize="7d")["data"]
    assert week["count"] == (7 * 1440 + 1) * 24

    before = get(market, "ping").weight
    both = spot.rolling_window_ticker(symbols=["BTCUSDT", "ETHUSDT"], windowSize="15m",
                                      type="MINI")
    assert [list(r) for r in both["data"]] == [MINI, MINI]
    assert [r["symbol"] for r in both["data"]] == ["BTCUSDT", "ETHUSDT"]
    assert int(both["limit_usage"]["x-mbx-used-weight-1m"]) - before == 8  # 4 a symbol

    ex = ccxt_client(market)
    ticker = ex.fetch_ticker("BTC/USDT", {"rolling": True, "windowSize": "1h"})
    assert (ticker["open"], ticker["last"]) == (float(row["openPrice"]), float(row["lastPrice"]))
    tickers = ex.fetch_tickers(["BTC/USDT", "SOL/USDT"], {"rolling": True, "windowSize": "2h"})
    assert sorted(tickers) == ["BTC/USDT", "SOL/USDT"]


def test_rolling_window_ticker_refuses_what_binance_refuses(market: SimServer) -> None:
    for size in ("60m", "24h", "8d", "1d2h", "0m", "1w", "d"):
        assert code(get(market, "ticker", symbol="BTCUSDT", windowSize=size)) == -1100, size
    for size in ("1m", "59m", "1h", "23h", "1d", "7d"):
        assert get(market, "ticker", symbol="BTCUSDT", windowSize=size).status == 200, size
    assert code(get(market, "ticker", symbol="BTCUSDT", type="BIG")) == -1139
    assert code(get(market, "ticker")) == -1102
    assert code(get(market, "ticker", symbol="BTCUSDT", symbols='["BTCUSDT"]')) == -1128
    assert code(get(market, "ticker", symbol="NOPEUSDT")) == -1121
    assert code(get(market, "ticker", symbols='["BTCUSDT","BTCUSDT"]')) == -1151
    many = json.dumps([f"X{i}USDT" for i in range(101)])
    assert code(get(market, "ticker", symbols=many)) == -1101
    _, weight = weight_of(market, "ticker", symbols=json.dumps(["A"] * 60))
    assert weight == 200  # 4 a symbol, capped at 200 over 50 symbols
    _, weight = weight_of(market, "ticker", symbols=json.dumps(["A"] * 10))
    assert weight == 40
    assert code(get(market, "ticker", symbol="BTCUSDT", symbolStatus="HALT")) == -1220
    assert get(market, "ticker", symbols='["BTCUSDT"]', symbolStatus="HALT").json == []
    assert code(get(market, "ticker", symbol="BTCUSDT", symbolStatus="OPEN")) == -1100


def test_trading_day_ticker_is_the_days_kline(market: SimServer) -> None:
    spot = connector(market, show_limit_usage=True)
    first = spot.trading_day_ticker("BTCUSDT")
    row = first["data"]
    assert list(row) == WINDOW_FULL
    day = get(market, "klines", symbol="BTCUSDT", interval="1d", limit=1).json[0]
    assert (row["openTime"], row["closeTime"]) == (day[0], day[6])
    assert [row[k] for k in ("openPrice", "highPrice", "lowPrice", "lastPrice", "volume")] == \
        day[1:6]
    assert row["count"] == day[8] == row["lastId"] - row["firstId"] + 1
    assert get(market, "trades", symbol="BTCUSDT", limit=1).json[0]["id"] == row["lastId"]

    eastern = get(market, "ticker/tradingDay", symbol="BTCUSDT", timeZone="8", type="MINI")
    local = get(market, "klines", symbol="BTCUSDT", interval="1d", limit=1, timeZone="8").json
    assert list(eastern.json) == MINI
    assert (eastern.json["openTime"], eastern.json["volume"]) == (local[0][0], local[0][5])
    assert eastern.json["openTime"] == open_time("1d", NOW_MS, 8 * HOUR_MS)
    before = get(market, "ping").weight
    rows = spot.trading_day_ticker(symbols=["BTCUSDT", "ETHUSDT", "SOLUSDT"])
    assert [r["symbol"] for r in rows["data"]] == ["BTCUSDT", "ETHUSDT", "SOLUSDT"]
    assert int(rows["limit_usage"]["x-mbx-used-weight-1m"]) - before == 12
    assert code(get(market, "ticker/tradingDay", symbol="BTCUSDT", timeZone="15")) == -1100
    assert code(get(market, "ticker/tradingDay")) == -1102
    assert code(get(market, "ticker/tradingDay", symbol="BTCUSDT", type="mini")) == -1139
    ex = ccxt_client(market)
    assert ex.public_get_ticker_tradingday({"symbol": "BTCUSDT"}) == row


def test_ticker_24hr_mini_is_the_full_tickers_subset(market: SimServer) -> None:
    spot = connector(market)
    full = spot.ticker_24hr("BTCUSDT")
    mini = spot.ticker_24hr("BTCUSDT", type="MINI")
    assert list(mini) == MINI
    assert mini == {k: full[k] for k in MINI}
    assert list(spot.ticker_24hr("BTCUSDT", type="FULL")) == list(full)
    rows = spot.ticker_24hr(symbols=["BTCUSDT", "ETHUSDT"], type="MINI")
    assert [list(r) for r in rows] == [MINI, MINI]
    assert all(list(r) == MINI for r in get(market, "ticker/24hr", type="MINI").json)
    assert code(get(market, "ticker/24hr", symbol="BTCUSDT", type="SMALL")) == -1139
    assert ccxt_client(market).fetch_tickers(["BTC/USDT"])["BTC/USDT"]["bid"] is not None


def test_depth_serves_up_to_5000_levels_with_binances_weights(market: SimServer) -> None:
    for limit, weight in ((100, 5), (500, 25), (1000, 50), (5000, 250)):
        reply, used = weight_of(market, "depth", symbol="BTCUSDT", limit=limit)
        assert (len(reply.json["asks"]), used) == (limit, weight)
    over = get(market, "depth", symbol="BTCUSDT", limit=6000)
    assert len(over.json["asks"]) == 5000  # "only 5000 entries will be returned"
    assert code(get(market, "depth", symbol="BTCUSDT", limit=0)) == -1100
    book = ccxt_client(market).fetch_order_book("BTC/USDT", 5000)
    assert len(book["bids"]) == len(book["asks"]) == 5000


def test_exchange_info_has_the_documented_symbol_fields(market: SimServer) -> None:
    info = connector(market).exchange_info()
    for entry in info["symbols"]:
        assert list(entry) == SYMBOL_FIELDS
        assert entry["opoAllowed"] is False and entry["pegInstructionsAllowed"] is False
        assert all(isinstance(entry[k], bool) for k in SYMBOL_FIELDS if k.endswith("Allowed"))


# -- account look-ups ----------------------------------------------------------------------------


def test_rate_limit_order_counts_unfilled_orders(frozen: SimServer) -> None:
    reply = signed(frozen, "rateLimit/order")
    assert reply.json == [
        {"rateLimitType": "ORDERS", "interval": "SECOND", "intervalNum": 10, "limit": 100,
         "count": 0},
        {"rateLimitType": "ORDERS", "interval": "DAY", "intervalNum": 1, "limit": 200000,
         "count": 0}]
    limits = [r for r in get(frozen, "exchangeInfo").json["rateLimits"]
              if r["rateLimitType"] == "ORDERS"]
    assert [{k: r[k] for k in limits[0]} for r in reply.json] == limits
    resting = signed(frozen, "order", "POST", symbol="BTCUSDT", side="BUY", type="LIMIT",
                     timeInForce="GTC", price="30000", quantity="0.001")
    assert resting.json["status"] == "NEW"
    filled = signed(frozen, "order", "POST", symbol="BTCUSDT", side="BUY", type="MARKET",
                    quantity="0.001")
    assert filled.json["status"] == "FILLED"
    again = signed(frozen, "rateLimit/order")
    assert [r["count"] for r in again.json] == [1, 1]  # the filled order does not count
    assert again.weight - reply.weight == 20 + 1 + 1 + 40  # exchangeInfo, 2 orders, this
    assert signed(frozen, "rateLimit/order", recvWindow=70_000).json["code"] == -1131


def test_prevented_matches_and_allocations_are_empty_with_binances_checks(
        frozen: SimServer) -> None:
    by_match = signed(frozen, "myPreventedMatches", symbol="BTCUSDT", preventedMatchId=1)
    by_order = signed(frozen, "myPreventedMatches", symbol="BTCUSDT", orderId=1,
                      fromPreventedMatchId=1, limit=10)
    assert by_match.json == by_order.json == []
    assert by_order.weight - by_match.weight == 20
    for bad in ({}, {"preventedMatchId": 1, "orderId": 1}, {"fromPreventedMatchId": 1},
                {"preventedMatchId": 1, "limit": 5}):
        assert code(signed(frozen, "myPreventedMatches", symbol="BTCUSDT", **bad)) == -1128
    assert code(signed(frozen, "myPreventedMatches", orderId=1)) == -1102
    assert code(signed(frozen, "myPreventedMatches", symbol="NOPE", orderId=1)) == -1121
    assert code(signed(frozen, "myPreventedMatches", symbol="BTCUSDT", orderId=1,
                       limit=0)) == -1100
    assert code(get(frozen, "myPreventedMatches", symbol="BTCUSDT", orderId=1)) == -2014

    before = get(frozen, "ping").weight
    alloc = signed(frozen, "myAllocations", symbol="BTCUSDT")
    assert alloc.json == [] and alloc.weight - before == 20
    assert signed(frozen, "myAllocations", symbol="BTCUSDT", orderId=1,
                  fromAllocationId=0).json == []
    assert code(signed(frozen, "myAllocations", symbol="BTCUSDT", startTime=0,
                       endTime=DAY_MS + 1)) == -1127
    assert code(signed(frozen, "myAllocations", symbol="BTCUSDT", startTime=0,
                       fromAllocationId=1)) == -1128
    assert code(signed(frozen, "myAllocations")) == -1102


def test_order_amendments_need_a_known_order(frozen: SimServer) -> None:
    order = signed(frozen, "order", "POST", symbol="ETHUSDT", side="BUY", type="LIMIT",
                   timeInForce="GTC", price="1000", quantity="0.01").json
    before = get(frozen, "ping").weight
    reply = signed(frozen, "order/amendments", symbol="ETHUSDT", orderId=order["orderId"])
    assert (reply.json, reply.weight - before) == ([], 4)
    missing = signed(frozen, "order/amendments", symbol="ETHUSDT", orderId=order["orderId"] + 99)
    assert (missing.status, missing.json) == (400, {"code": -2013,
                                                    "msg": "Order does not exist."})
    assert code(signed(frozen, "order/amendments", symbol="ETHUSDT")) == -1102
    assert code(signed(frozen, "order/amendments", symbol="BTCUSDT",
                       orderId=order["orderId"])) == -2013


def test_commission_rates_and_test_orders_with_clients(live: SimServer) -> None:
    spot = connector(live, show_limit_usage=True)
    rates = spot.query_commission_rates("BTCUSDT")["data"]
    fee = "0.00100000"  # the simulator's default maker and taker fee
    assert rates == {
        "symbol": "BTCUSDT",
        "standardCommission": {"maker": fee, "taker": fee, "buyer": "0.00000000",
                               "seller": "0.00000000"},
        "specialCommission": dict.fromkeys(("maker", "taker", "buyer", "seller"),
                                           "0.00000000"),
        "taxCommission": dict.fromkeys(("maker", "taker", "buyer", "seller"), "0.00000000"),
        "discount": {"enabledForAccount": False, "enabledForSymbol": False,
                     "discountAsset": "BNB", "discount": "0.25000000"}}

    plain = spot.new_order_test("BTCUSDT", "BUY", "MARKET", quantity=0.001)
    computed = spot.new_order_test("BTCUSDT", "BUY", "MARKET", quantity=0.001,
                                   computeCommissionRates="true")
    assert plain["data"] == {}
    assert computed["data"] == {
        "standardCommissionForOrder": {"maker": fee, "taker": fee},
        "specialCommissionForOrder": {"maker": "0.00000000", "taker": "0.00000000"},
        "taxCommissionForOrder": {"maker": "0.00000000", "taker": "0.00000000"},
        "discount": rates["discount"]}
    assert int(computed["limit_usage"]["x-mbx-used-weight-1m"]) - int(
        plain["limit_usage"]["x-mbx-used-weight-1m"]) == 20
    assert live.orders() == []  # a test order is never placed
    from binance.error import ClientError

    with pytest.raises(ClientError) as bad:
        spot.new_order_test("BTCUSDT", "BUY", "MARKET", quantity=0.000015,
                            computeCommissionRates="true")
    assert bad.value.error_code == -1013  # POST order's checks come first
    with pytest.raises(ClientError) as flag:
        spot.new_order_test("BTCUSDT", "BUY", "MARKET", quantity=0.001,
                            computeCommissionRates="yes")
    assert flag.value.error_code == -1100

    assert spot.get_order_rate_limit()["data"][0]["count"] == 0
    assert spot.query_prevented_matches("BTCUSDT", orderId=1)["data"] == []
    assert spot.query_allocations("BTCUSDT")["data"] == []
    with pytest.raises(ClientError) as unknown:
        spot.sign_request("GET", "/api/v3/order/amendments", {"symbol": "BTCUSDT",
                                                              "orderId": 1})
    assert unknown.value.error_code == -2013

    ex = ccxt_client(live)
    assert ex.private_get_account_commission({"symbol": "BTCUSDT"}) == rates
    assert [r["limit"] for r in ex.private_get_ratelimit_order()] == [100, 200000]
    assert ex.private_get_mypreventedmatches({"symbol": "BTCUSDT",
                                              "preventedMatchId": 1}) == []
    assert ex.private_get_myallocations({"symbol": "BTCUSDT"}) == []
    assert ex.private_post_order_test({"symbol": "BTCUSDT", "side": "SELL", "type": "MARKET",
                                       "quantity": "0.001", "computeCommissionRates": True}
                                      ) == computed["data"]
    assert ex.fetch_trading_fee("BTC/USDT")["taker"] == 0.001


def test_unknown_api_paths_answer_binances_json_error(market: SimServer) -> None:
    for path in ("nope", "ticker/nope", "order/oco/whatever"):
        reply = get(market, path)
        assert reply.status == 404 and reply.headers["Content-Type"].startswith(
            "application/json")
        assert reply.json == {"code": -1020, "msg": "This operation is not supported."}
    from binance.error import ClientError

    with pytest.raises(ClientError) as err:
        connector(market).query("/api/v3/notAnEndpoint")
    assert (err.value.status_code, err.value.error_code) == (404, -1020)
    try:
        urllib.request.urlopen(f"{market.url}/elsewhere", timeout=5)
    except urllib.error.HTTPError as outside:
        assert outside.code == 404 and outside.headers["Content-Type"].startswith("text/plain")
