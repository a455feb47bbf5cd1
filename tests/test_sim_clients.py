"""The simulator's Binance spot observations, checked with the clients the existing tests use
least: ccxt.async_support's binance (each ccxt check runs on the sync client too, behind
awaitable methods) and binance-connector where the other test files leave a gap.

Observations (numbered as in the audit): 1 trade endpoints' shapes, 2 every kline interval and
a day of 1m history from startTime, 3 myTrades by orderId (weight 5), 4 a filled order's client
id reused, 5 the newer endpoints answer JSON, 6 fills, 7 order-count headers, depth 5000,
computeCommissionRates, MINI tickers and exchangeInfo's fields, 8 a stock ccxt client, 9 the
unknown-outcome faults.  Servers bind 127.0.0.1; market data runs on a frozen clock, signed
requests on the real one (weights and fills on a fresh server, so nothing else counts).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterator
from decimal import Decimal
from itertools import pairwise
from typing import Any, TypeVar

import pytest
from sim_clock import BIG
from test_sim_conformance import KEY, NOW, NOW_MS, SECRET, ccxt_client, connector, serve

from adapters.ccxt_transport import SPOT_OPTIONS, point_urls
from adapters.sim.binance_wire import MINI_TICKER_FIELDS
from adapters.sim.http_faults import UNKNOWN_503
from adapters.sim.intervals import DAY_MS, INTERVALS, MINUTE_MS, next_open, open_time
from adapters.sim.server import SimServer

T = TypeVar("T")
KINDS = ["sync", "async"]
TRADE = ["id", "price", "qty", "quoteQty", "time", "isBuyerMaker", "isBestMatch"]
AGG = ["a", "p", "q", "f", "l", "T", "m", "M"]
STEP = Decimal("0.00001")  # BTC/USDT's lot step


class Awaited:
    """ccxt's sync client behind awaitable methods: one check body drives both clients."""

    def __init__(self, exchange: Any) -> None:
        self._exchange = exchange

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._exchange, name)
        if not callable(attr):
            return attr

        async def call(*args: Any, **kwargs: Any) -> Any:
            return attr(*args, **kwargs)
        return call


def drive(kind: str, server: SimServer, body: Callable[[Any], Awaitable[T]]) -> T:
    """`body(exchange)` with ccxt's binance (spot options, every URL on the simulator)."""
    if kind == "sync":
        return asyncio.run(body(Awaited(ccxt_client(server))))
    import ccxt.async_support as ccxt_async_support

    async def main() -> T:
        # timeout_on_exit: close() waits 250 ms for SSL transports; loopback HTTP has none
        exchange = point_urls(ccxt_async_support.binance({
            "apiKey": KEY, "secret": SECRET, "enableRateLimit": False, "timeout_on_exit": 0,
            "options": dict(SPOT_OPTIONS)}), server.url)
        try:
            return await body(exchange)
        finally:
            await exchange.close()

    return asyncio.run(main())


def header(exchange: Any, name: str) -> int:
    return int({k.lower(): v for k, v in exchange.last_response_headers.items()}[name])


@pytest.fixture(scope="module")
def frozen() -> Iterator[SimServer]:
    server = serve(seed=31, clock=lambda: NOW)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def live() -> Iterator[SimServer]:
    server = serve(seed=32, fill_model="book", balances=BIG)
    yield server
    server.stop()


@pytest.fixture
def fresh() -> Iterator[SimServer]:
    server = serve(seed=33, fill_model="book", balances=BIG)
    yield server
    server.stop()


# -- 1. trades, aggTrades, historicalTrades -----------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_1_trade_endpoints_have_binances_shapes_in_ccxt(frozen: SimServer, kind: str) -> None:
    async def body(ex: Any) -> None:
        trades = await ex.public_get_trades({"symbol": "BTCUSDT", "limit": 5})
        aggs = await ex.public_get_aggtrades({"symbol": "BTCUSDT", "limit": 5})
        old = await ex.public_get_historicaltrades({"symbol": "BTCUSDT", "limit": 3,
                                                    "fromId": trades[0]["id"] - 50})
        assert [list(t) for t in trades + old] == [TRADE] * 8
        assert [list(a) for a in aggs] == [AGG] * 5
        for t in trades + old:
            assert [type(t[k]) for k in TRADE] == [int, str, str, str, int, bool, bool]
        assert [t["id"] for t in old] == list(range(trades[0]["id"] - 50, trades[0]["id"] - 47))
        assert aggs[-1]["l"] == trades[-1]["id"], "the newest aggregate holds the newest trade"
        unified = await ex.fetch_trades("BTC/USDT", limit=5)
        assert [(t["id"], t["price"]) for t in unified] == [(str(a["a"]), float(a["p"]))
                                                           for a in aggs]

    drive(kind, frozen, body)


# -- 2. every interval; a day of 1m history from startTime --------------------------------------


def test_2_every_interval_and_a_day_of_minutes_with_binance_connector(frozen: SimServer) -> None:
    spot = connector(frozen)
    for interval in INTERVALS:
        start = open_time(interval, NOW_MS - DAY_MS)
        rows = spot.klines("BTCUSDT", interval, startTime=start, limit=60)
        assert rows[0][0] == start, interval
        assert all(b[0] == next_open(interval, a[0]) for a, b in pairwise(rows)), interval
        assert spot.ui_klines("BTCUSDT", interval, startTime=start, limit=60) == rows
    start = open_time("1m", NOW_MS) - DAY_MS
    rows = spot.klines("BTCUSDT", "1m", startTime=start, limit=1000)
    assert [rows[0][0], rows[-1][0], len(rows)] == [start, start + 999 * MINUTE_MS, 1000]
    assert len(spot.klines("BTCUSDT", "1m", startTime=start)) == 500


@pytest.mark.parametrize("kind", KINDS)
def test_2_every_interval_and_a_day_of_minutes_in_ccxt(frozen: SimServer, kind: str) -> None:
    async def body(ex: Any) -> None:
        assert set(ex.timeframes) == set(INTERVALS)
        for interval in INTERVALS:
            start = open_time(interval, NOW_MS - DAY_MS)
            rows = await ex.fetch_ohlcv("BTC/USDT", interval, since=start, limit=60)
            assert rows[0][0] == start, interval
            assert all(b[0] == next_open(interval, a[0]) for a, b in pairwise(rows)), interval
        start = open_time("1m", NOW_MS) - DAY_MS
        rows = await ex.fetch_ohlcv("BTC/USDT", "1m", since=start, limit=1000)
        assert [rows[0][0], rows[-1][0], len(rows)] == [start, start + 999 * MINUTE_MS, 1000]

    drive(kind, frozen, body)


# -- 3. myTrades by orderId, weight 5 ------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_3_my_trades_by_order_id_weighs_5_in_ccxt(fresh: SimServer, kind: str) -> None:
    async def body(ex: Any) -> None:
        await ex.load_markets()
        first = await ex.create_order("BTC/USDT", "market", "buy", 0.001)
        await ex.create_order("BTC/USDT", "market", "buy", 0.002)
        every = await ex.fetch_my_trades("BTC/USDT")
        before = header(ex, "x-mbx-used-weight-1m")
        mine = await ex.fetch_my_trades("BTC/USDT", params={"orderId": first["id"]})
        assert header(ex, "x-mbx-used-weight-1m") - before == 5
        assert {t["order"] for t in mine} == {first["id"]} and len(every) > len(mine)
        assert [t["id"] for t in mine] == [str(f["tradeId"]) for f in first["info"]["fills"]]
        await ex.fetch_my_trades("BTC/USDT")
        assert header(ex, "x-mbx-used-weight-1m") - before == 5 + 20

    drive(kind, fresh, body)


# -- 4. a filled order's client order id can be reused ------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_4_a_filled_orders_client_id_is_reused_in_ccxt(live: SimServer, kind: str) -> None:
    cid = f"again-{kind}"

    async def body(ex: Any) -> None:
        await ex.load_markets()
        placed = [await ex.create_order("ETH/USDT", "market", "buy", 0.01,
                                        params={"clientOrderId": cid}) for _ in range(2)]
        assert [o["status"] for o in placed] == ["closed", "closed"]
        assert placed[0]["id"] != placed[1]["id"]
        found = await ex.fetch_order(None, "ETH/USDT", params={"origClientOrderId": cid})
        assert found["id"] == placed[1]["id"], "a query by client id finds the newest"

    drive(kind, live, body)
    assert [o.status for o in live.orders("ETH/USDT") if o.client_order_id == cid] == [
        "FILLED", "FILLED"]


# -- 5. the newer endpoints answer JSON ---------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_5_the_newer_endpoints_answer_json_in_ccxt(live: SimServer, kind: str) -> None:
    import ccxt

    async def body(ex: Any) -> None:
        await ex.load_markets()
        s = {"symbol": "BTCUSDT"}
        book = await ex.public_get_ticker_bookticker(s)
        bid, ask = float(book["bidPrice"]), float(book["askPrice"])
        assert (await ex.public_get_ticker({**s, "windowSize": "1h"}))["count"] > 0
        assert (await ex.public_get_ticker_tradingday(s))["symbol"] == "BTCUSDT"
        order = await ex.create_order("BTC/USDT", "limit", "buy", 0.01, round(bid * 0.9, 2))
        replaced = await ex.private_post_order_cancelreplace({
            **s, "side": "BUY", "type": "LIMIT", "cancelReplaceMode": "STOP_ON_FAILURE",
            "cancelOrderId": order["id"], "quantity": "0.01", "price": f"{bid * 0.8:.2f}",
            "timeInForce": "GTC"})
        new_id = replaced["newOrderResponse"]["orderId"]
        assert replaced["cancelResult"] == "SUCCESS"
        amended = await ex.request("order/amend/keepPriority", ["private"], "PUT",
                                   {**s, "orderId": new_id, "newQty": "0.005"})
        assert amended["amendedOrder"]["qty"] == "0.00500000"
        amendments = await ex.request("order/amendments", ["private"], "GET",
                                      {**s, "orderId": new_id})
        assert [a["orderId"] for a in amendments] == [new_id]
        oco = await ex.private_post_orderlist_oco({
            **s, "side": "SELL", "quantity": "0.01", "aboveType": "LIMIT_MAKER",
            "abovePrice": f"{ask * 1.1:.2f}", "belowType": "STOP_LOSS_LIMIT",
            "belowStopPrice": f"{bid * 0.9:.2f}", "belowPrice": f"{bid * 0.89:.2f}",
            "belowTimeInForce": "GTC"})
        listed = {"orderListId": oco["orderListId"]}
        assert (await ex.private_get_orderlist(listed))["contingencyType"] == "OCO"
        assert oco["orderListId"] in [x["orderListId"] for x in
                                      await ex.private_get_openorderlist()]
        cancelled = await ex.private_delete_orderlist({**s, **listed})
        assert cancelled["listOrderStatus"] == "ALL_DONE"
        working = {**s, "workingType": "LIMIT", "workingSide": "BUY", "workingQuantity": "0.01",
                   "workingPrice": f"{bid * 0.9:.2f}", "workingTimeInForce": "GTC",
                   "pendingSide": "SELL", "pendingQuantity": "0.01"}
        oto = await ex.private_post_orderlist_oto({
            **working, "pendingType": "LIMIT_MAKER", "pendingPrice": f"{ask * 1.1:.2f}"})
        otoco = await ex.private_post_orderlist_otoco({
            **working, "pendingAboveType": "LIMIT_MAKER", "pendingAbovePrice":
            f"{ask * 1.1:.2f}", "pendingBelowType": "STOP_LOSS",
            "pendingBelowStopPrice": f"{bid * 0.85:.2f}"})
        assert [oto["contingencyType"], otoco["contingencyType"]] == ["OTO", "OTO"]
        assert len(await ex.private_get_allorderlist()) >= 3
        for call in (ex.private_post_sor_order, ex.private_post_sor_order_test):
            with pytest.raises(ccxt.BadRequest, match="-1013"):  # JSON: "This symbol has no SOR."
                await call({**s, "side": "BUY", "type": "MARKET", "quantity": "0.01"})
        assert [r["rateLimitType"] for r in await ex.private_get_ratelimit_order()] == [
            "ORDERS", "ORDERS"]
        assert await ex.private_get_mypreventedmatches({**s, "preventedMatchId": 1}) == []
        assert await ex.private_get_myallocations(s) == []
        assert (await ex.private_get_account_commission(s))["symbol"] == "BTCUSDT"

    drive(kind, live, body)
    assert not [r for r in live.requests if r[2] == 404]


# -- 6. fills ----------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_6_fills_follow_the_book_in_ccxt(fresh: SimServer, kind: str) -> None:
    async def body(ex: Any) -> None:
        await ex.load_markets()
        book = await ex.fetch_order_book("BTC/USDT", 20)
        asks = [(Decimal(str(p)), Decimal(str(q))) for p, q in book["asks"]]
        (p0, q0), (p1, q1) = asks[:2]
        qty = q0 + (q1 / 2).quantize(STEP)
        market = await ex.create_order("BTC/USDT", "market", "buy", float(qty))
        assert [(Decimal(f["price"]), Decimal(f["qty"])) for f in market["info"]["fills"]] == [
            (p0, q0), (p1, qty - q0)], "a MARKET order walks the levels depth served"
        assert {f["commissionAsset"] for f in market["info"]["fills"]} == {"BTC"}
        assert market["fee"]["currency"] == "BTC", "a BUY pays its commission in the base"
        limit = await ex.create_order("BTC/USDT", "limit", "buy", 0.001, float(asks[4][0]))
        assert [Decimal(f["price"]) for f in limit["info"]["fills"]] == [p0]
        assert limit["status"] == "closed" and limit["average"] == float(p0)
        spent = await ex.create_market_buy_order_with_cost("BTC/USDT", 1000)
        assert Decimal(spent["info"]["origQuoteOrderQty"]) == 1000
        queried = await ex.fetch_order(spent["id"], "BTC/USDT")
        assert Decimal(queried["info"]["origQuoteOrderQty"]) == 1000
        bids = (await ex.fetch_order_book("BTC/USDT", 20))["bids"]
        resting = await ex.create_order("BTC/USDT", "limit", "buy", 0.001, bids[9][0])
        while await ex.fetch_time() <= resting["timestamp"]:  # a cancel a millisecond later
            pass
        await ex.cancel_order(resting["id"], "BTC/USDT")
        after = await ex.fetch_order(resting["id"], "BTC/USDT")
        assert after["status"] == "canceled"
        assert after["info"]["updateTime"] > after["info"]["time"] == resting["timestamp"]

    drive(kind, fresh, body)


# -- 7. order-count headers, depth 5000, commission rates, MINI, exchangeInfo fields ----------


def test_7_depth_5000_with_binance_connector(frozen: SimServer) -> None:
    spot = connector(frozen, show_limit_usage=True)
    before = int(spot.ping()["limit_usage"]["x-mbx-used-weight-1m"])
    deep = spot.depth("BTCUSDT", limit=5000)
    assert len(deep["data"]["bids"]) == len(deep["data"]["asks"]) == 5000
    assert int(deep["limit_usage"]["x-mbx-used-weight-1m"]) - before == 250


@pytest.mark.parametrize("kind", KINDS)
def test_7_headers_depth_rates_mini_and_exchange_info_in_ccxt(live: SimServer,
                                                              kind: str) -> None:
    async def body(ex: Any) -> None:
        markets = await ex.load_markets()
        info = markets["BTC/USDT"]["info"]
        assert (info["opoAllowed"], info["pegInstructionsAllowed"]) == (False, False)
        symbols = (await ex.public_get_exchangeinfo())["symbols"]
        assert all(isinstance(x["opoAllowed"], bool) and isinstance(
            x["pegInstructionsAllowed"], bool) for x in symbols)
        bid = (await ex.fetch_order_book("BTC/USDT", 5000))["bids"]
        assert len(bid) == 5000
        counts = []
        for _ in range(2):
            await ex.create_order("BTC/USDT", "limit", "buy", 0.001, round(bid[-1][0], 2))
            counts.append((header(ex, "x-mbx-order-count-10s"),
                           header(ex, "x-mbx-order-count-1d")))
        (_, day), (second, day_after) = counts
        assert day_after in (day + 1, 1) and 1 <= second <= day_after  # a window may roll
        rates = await ex.private_post_order_test({"symbol": "BTCUSDT", "side": "BUY",
                                                  "type": "MARKET", "quantity": "0.001",
                                                  "computeCommissionRates": "true"})
        assert rates["standardCommissionForOrder"] == {"maker": "0.00100000",
                                                       "taker": "0.00100000"}
        mini = await ex.public_get_ticker_24hr({"symbol": "BTCUSDT", "type": "MINI"})
        assert list(mini) == list(MINI_TICKER_FIELDS)

    drive(kind, live, body)


# -- 8. a stock ccxt client ---------------------------------------------------------------------


def test_8_a_stock_async_ccxt_client_discovers_the_simulator(live: SimServer) -> None:
    import ccxt.async_support as ccxt_async_support

    async def main() -> tuple[Any, ...]:
        ex = point_urls(ccxt_async_support.binance({"apiKey": KEY, "secret": SECRET,
                                                    "timeout_on_exit": 0}), live.url)
        try:
            markets = await ex.load_markets()
            return markets, await ex.fetch_status(), await ex.fetch_trading_fee("BTC/USDT")
        finally:
            await ex.close()

    markets, status, fee = asyncio.run(main())
    assert {s for s, m in markets.items() if m["active"]} == set(live.sim.load_markets())
    assert status["status"] == "ok"
    spec = live.sim.market.specs["BTC/USDT"]
    assert (fee["maker"], fee["taker"]) == (spec.maker_fee, spec.taker_fee)


# -- 9. unknown outcomes: the documented error, and the order exists afterwards -----------------

# rule on POST order -> (binance-connector's error, its status; ccxt.async_support's class: a
# closed connection is aiohttp's ClientConnectionError, which it maps to ExchangeNotAvailable)
FAULTS = {
    "lost": ({"fault": "accepted_but_response_lost"},
             ("ConnectionError", None, "ExchangeNotAvailable")),
    "503": ({"fault": "accepted_then_503"}, ("ServerError", 503, "ExchangeNotAvailable")),
    "1007": ({"fault": "accepted_then_timeout_1007"}, ("ClientError", 408, "RequestTimeout")),
    "1007_503": ({"fault": "accepted_then_timeout_1007", "answer": "503"},
                 ("ServerError", 503, "RequestTimeout")),
    "late_503": ({"fault": "accepted_after_delay", "delay_ms": 50},
                 ("ServerError", 503, "ExchangeNotAvailable")),
    "late_drop": ({"fault": "accepted_after_delay", "delay_ms": 50, "answer": "drop"},
                  ("ConnectionError", None, "ExchangeNotAvailable")),
}


def faulty(rule: dict[str, Any]) -> SimServer:
    return serve(seed=34, http_faults={"POST order": [{**rule, "first": 1}]})


def documented(name: str, error: BaseException) -> None:
    """The answer's text: -1007's "execution status unknown", or the unknown-error 503."""
    text = str(error)
    assert ("execution status unknown" in text) == name.startswith("1007")
    assert (UNKNOWN_503 in text) == (name in ("503", "late_503"))


def posted(server: SimServer) -> int:
    return sum(1 for method, path, _ in server.requests
               if method == "POST" and path == "/api/v3/order")


def placed(server: SimServer, cid: str) -> list[str]:
    """The order's status once it exists (a late acceptance lands `delay_ms` after the answer),
    and no second one: [] if it never appears within two seconds."""
    deadline = time.monotonic() + 2.0
    while time.monotonic() < deadline:
        found = [o.status for o in server.orders() if o.client_order_id == cid]
        if found:
            return found
        time.sleep(0.005)
    return []


@pytest.mark.parametrize("name", FAULTS)
def test_9_binance_connector_sees_the_documented_error(name: str) -> None:
    import requests
    from binance.error import ClientError, ServerError

    rule, (error, status, _) = FAULTS[name]
    server = faulty(rule)
    try:
        spot = connector(server)
        with pytest.raises((ClientError, ServerError, requests.ConnectionError)) as caught:
            spot.new_order("ETHUSDT", "BUY", "MARKET", quantity=0.1, newClientOrderId="u-1")
        assert type(caught.value).__name__ == error
        assert getattr(caught.value, "status_code", None) == status
        documented(name, caught.value)
        assert placed(server, "u-1") == ["FILLED"]
        assert spot.get_order("ETHUSDT", origClientOrderId="u-1")["status"] == "FILLED"
        assert posted(server) == 1
    finally:
        server.stop()


@pytest.mark.parametrize("name", FAULTS)
def test_9_async_ccxt_sees_the_documented_error(name: str) -> None:
    import ccxt

    rule, (*_, raised) = FAULTS[name]
    server = faulty(rule)

    async def body(ex: Any) -> Any:
        await ex.load_markets()
        with pytest.raises(ccxt.BaseError) as caught:
            await ex.create_order("ETH/USDT", "market", "buy", 0.1,
                                  params={"clientOrderId": "u-1"})
        assert type(caught.value) is getattr(ccxt, raised)
        documented(name, caught.value)
        assert placed(server, "u-1") == ["FILLED"]
        return await ex.fetch_order(None, "ETH/USDT", params={"origClientOrderId": "u-1"})

    try:
        assert drive("async", server, body)["status"] == "closed"
        assert posted(server) == 1
    finally:
        server.stop()
