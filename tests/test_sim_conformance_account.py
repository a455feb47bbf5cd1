"""The simulator speaks Binance spot REST: the account's trades (myTrades filters and weights),
client order id reuse, the server's order listing, and the discovery calls of a stock client.

Signed requests need the real clock, so these servers run on it; the clients are ccxt (sync and
async) and binance-connector, every base URL pointed at 127.0.0.1.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from test_sim_conformance import KEY, SECRET, ccxt_async, ccxt_client, connector, serve

from adapters.ccxt_transport import point_urls
from adapters.sim.intervals import DAY_MS
from adapters.sim.server import SimOrder, SimServer


@pytest.fixture
def server() -> Iterator[SimServer]:
    srv = serve()
    yield srv
    srv.stop()


def weight_of(reply: dict[str, Any], before: dict[str, Any]) -> int:
    """The weight one binance-connector call added (show_limit_usage answers)."""
    used = "x-mbx-used-weight-1m"
    return int(reply["limit_usage"][used]) - int(before["limit_usage"][used])


# -- 3. myTrades --------------------------------------------------------------------------------


def test_my_trades_filters_and_weights(server: SimServer) -> None:
    from binance.error import ClientError

    spot = connector(server, show_limit_usage=True)
    orders = [spot.new_order("BTCUSDT", "BUY", "MARKET", quantity=0.001)["data"]
              for _ in range(3)]
    ids = [o["orderId"] for o in orders]
    ping = spot.account()  # any call: the weight before the next one

    one = spot.my_trades("BTCUSDT", orderId=ids[1])
    assert weight_of(one, ping) == 5, "with orderId myTrades weighs 5"
    assert [t["orderId"] for t in one["data"]] == [ids[1]]
    assert one["data"][0]["id"] == orders[1]["fills"][0]["tradeId"]
    every = spot.my_trades("BTCUSDT")
    assert weight_of(every, one) == 20, "without orderId it weighs 20"
    trades = every["data"]
    assert [t["orderId"] for t in trades] == ids
    assert set(trades[0]) == {"symbol", "id", "orderId", "orderListId", "price", "qty",
                              "quoteQty", "commission", "commissionAsset", "time", "isBuyer",
                              "isMaker", "isBestMatch"}
    tids = [t["id"] for t in trades]

    def my(**params: Any) -> list[Any]:
        return [t["id"] for t in spot.my_trades("BTCUSDT", **params)["data"]]

    assert my(fromId=tids[1]) == tids[1:]
    assert my(orderId=ids[2], fromId=tids[2]) == [tids[2]]
    assert my(orderId=ids[2], fromId=tids[2] + 1) == []
    assert my(limit=2) == tids[1:], "most recent first of all"
    assert my(fromId=tids[0], limit=2) == tids[:2]
    first = trades[0]["time"]
    assert my(startTime=first, limit=1) == tids[:1], "oldest since startTime"
    assert my(endTime=trades[-1]["time"], limit=1) == tids[-1:], "newest until endTime"
    assert my(startTime=first - 1000, endTime=first + 60_000) == tids
    assert my(startTime=first + 3_600_000) == []
    for bad, code in [({"startTime": first, "endTime": first + DAY_MS + 1}, -1127),
                      ({"orderId": ids[0], "startTime": first}, -1128),
                      ({"fromId": tids[0], "endTime": first}, -1128)]:
        with pytest.raises(ClientError) as caught:
            spot.my_trades("BTCUSDT", **bad)
        assert (caught.value.status_code, caught.value.error_code) == (400, code)

    ex = ccxt_client(server)
    mine = ex.fetch_my_trades("BTC/USDT", params={"orderId": ids[0]})
    assert [(t["order"], t["id"]) for t in mine] == [(str(ids[0]), str(tids[0]))]
    assert ex.last_response_headers["X-MBX-USED-WEIGHT-1M"]
    assert [t["id"] for t in ex.fetch_my_trades("BTC/USDT", since=first)] == list(
        map(str, tids))


def test_all_orders_pages_by_id_or_by_time(server: SimServer) -> None:
    spot = connector(server)
    ids = [spot.new_order("ETHUSDT", "BUY", "MARKET", quantity=0.01)["orderId"]
           for _ in range(3)]
    assert [o["orderId"] for o in spot.get_orders("ETHUSDT", orderId=ids[1])] == ids[1:]
    assert [o["orderId"] for o in spot.get_orders("ETHUSDT", limit=1)] == ids[-1:]
    placed = spot.get_order("ETHUSDT", orderId=ids[0])["updateTime"]
    timed = spot.get_orders("ETHUSDT", startTime=placed, orderId=ids[2])  # orderId ignored
    assert [o["orderId"] for o in timed] == ids


# -- 4. client order ids ------------------------------------------------------------------------


def test_a_client_order_id_must_be_unique_among_open_orders_only(server: SimServer) -> None:
    from binance.error import ClientError

    spot = connector(server)
    first = spot.new_order("BTCUSDT", "BUY", "MARKET", quantity=0.001, newClientOrderId="again")
    second = spot.new_order("BTCUSDT", "BUY", "MARKET", quantity=0.001,
                            newClientOrderId="again")
    assert (first["status"], second["status"]) == ("FILLED", "FILLED")
    assert second["orderId"] != first["orderId"], "a FILLED order's id may be reused"
    assert spot.get_order("BTCUSDT", origClientOrderId="again")["orderId"] == second["orderId"]

    bid = float(spot.book_ticker("BTCUSDT")["bidPrice"])
    price = f"{round(bid * 0.8, 2):.2f}"
    resting = spot.new_order("BTCUSDT", "BUY", "LIMIT", timeInForce="GTC", quantity=0.001,
                             price=price, newClientOrderId="resting")
    assert resting["status"] == "NEW"
    with pytest.raises(ClientError) as caught:
        spot.new_order("BTCUSDT", "BUY", "MARKET", quantity=0.001, newClientOrderId="resting")
    assert (caught.value.error_code, caught.value.error_message) == (-2010,
                                                                      "Duplicate order sent.")
    with pytest.raises(ClientError):  # orderId and origClientOrderId must name the same order
        spot.get_order("BTCUSDT", orderId=first["orderId"], origClientOrderId="resting")
    spot.cancel_order("BTCUSDT", origClientOrderId="resting")
    reused = ccxt_client(server).create_order("BTC/USDT", "market", "buy", 0.001,
                                              params={"clientOrderId": "resting"})
    assert reused["status"] == "closed", "a CANCELED order's id is free again"

    # 6. the server lists its orders (no private state needed)
    assert server.orders("BTC/USDT") == [
        SimOrder("BTC/USDT", "again", "FILLED", first["orderId"]),
        SimOrder("BTC/USDT", "again", "FILLED", second["orderId"]),
        SimOrder("BTC/USDT", "resting", "CANCELED", resting["orderId"]),
        SimOrder("BTC/USDT", "resting", "FILLED", int(reused["id"]))]
    assert server.orders("ETH/USDT") == [] and len(server.orders()) == 4


# -- 7. a stock ccxt client --------------------------------------------------------------------


def test_a_stock_ccxt_client_discovers_the_simulator(server: SimServer) -> None:
    import ccxt

    ex = point_urls(ccxt.binance({"apiKey": KEY, "secret": SECRET}), server.url)
    markets = ex.load_markets()
    assert {s for s, m in markets.items() if m["active"]} == set(server.sim.load_markets())
    assert {"BTC", "USDT", "ETH", "SOL"} <= set(ex.currencies)
    assert ex.currencies["BTC"]["info"]["free"] == "0.50000000"
    assert ex.fetch_status()["status"] == "ok"
    fee = ex.fetch_trading_fee("BTC/USDT")
    spec = server.sim.market.specs["BTC/USDT"]
    assert (fee["maker"], fee["taker"]) == (spec.maker_fee, spec.taker_fee)
    assert len(ex.fetch_trades("BTC/USDT", limit=3)) == 3
    paths = {p for _, p, status in server.requests if status == 200}
    assert {"/fapi/v1/exchangeInfo", "/dapi/v1/exchangeInfo", "/sapi/v1/system/status",
            "/sapi/v1/capital/config/getall", "/sapi/v1/asset/tradeFee"} <= paths
    assert all(status == 200 for *_, status in server.requests)

    async def discover(exchange: Any) -> Any:
        exchange.options = {**exchange.options, "fetchMarkets": {
            "types": ["spot", "linear", "inverse"]}, "fetchCurrencies": True}
        await exchange.load_markets()
        return await exchange.fetch_trading_fees()

    fees = ccxt_async(server, discover)
    assert set(fees) == set(server.sim.load_markets())
