"""Fills from the book: with fill_model="book" the order book GET depth serves is the book orders
fill against (levels walked, price improvement, quoteOrderQty, IOC/FOK, partial fills), the
commission is charged in the asset received, and order placement carries Binance's
X-MBX-ORDER-COUNT headers and limits (-1015); a client that ignores 429s gets a 418 ban.

Every expectation is computed by hand from the depth the server serves first.  Servers run on
the real clock (signed requests need it); the market only moves a minute after a server starts,
so each test sees one fixed book.
"""

from __future__ import annotations

import time
import urllib.request
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from sim_clock import BIG
from test_sim_conformance import ccxt_client, connector, serve

from adapters.sim import Simulator
from adapters.sim.server import SimServer

STEP = Decimal("0.00001")  # BTC/USDT's lot step
FEE = Decimal("0.001")


@pytest.fixture
def server() -> Iterator[SimServer]:
    srv = serve(fill_model="book", balances=BIG)
    yield srv
    srv.stop()


def book(spot: Any, limit: int = 20) -> tuple[list[tuple[Decimal, Decimal]], ...]:
    depth = spot.depth("BTCUSDT", limit=limit)
    return tuple([(Decimal(p), Decimal(q)) for p, q in depth[side]] for side in ("asks", "bids"))


def fills_of(order: dict[str, Any]) -> list[tuple[Decimal, Decimal]]:
    return [(Decimal(f["price"]), Decimal(f["qty"])) for f in order["fills"]]


def balances(spot: Any) -> dict[str, Decimal]:
    return {b["asset"]: Decimal(b["free"]) for b in spot.account()["balances"]}


def test_the_engine_fills_against_the_depth_it_serves(server: SimServer) -> None:
    spot = connector(server)
    asks, bids = book(spot, 100)
    sim_book = server.sim.market.book("BTC/USDT")
    assert [(Decimal(repr(p)), Decimal(repr(q))) for p, q in sim_book.levels("asks", 100)] == asks
    assert [(Decimal(repr(p)), Decimal(repr(q))) for p, q in sim_book.levels("bids", 100)] == bids
    assert asks[1][1] > asks[0][1], "levels grow deeper into the book"


def test_a_market_buy_walks_the_levels_depth_shows(server: SimServer) -> None:
    spot = connector(server)
    asks, _ = book(spot)
    (p0, q0), (p1, q1), (p2, q2) = asks[:3]
    qty = q0 + q1 + (q2 / 2).quantize(STEP)
    before = balances(spot)
    order = spot.new_order("BTCUSDT", "BUY", "MARKET", quantity=str(qty))
    expected = [(p0, q0), (p1, q1), (p2, qty - q0 - q1)]
    assert fills_of(order) == expected
    cost = sum(p * q for p, q in expected)
    assert (order["status"], Decimal(order["executedQty"]), Decimal(order["origQty"])) == (
        "FILLED", qty, qty)
    assert Decimal(order["cummulativeQuoteQty"]) == cost.quantize(Decimal("1e-8"))
    assert Decimal(order["origQuoteOrderQty"]) == 0
    for fill, (_, q) in zip(order["fills"], expected, strict=True):  # BUY: commission in BTC
        assert fill["commissionAsset"] == "BTC"
        assert Decimal(fill["commission"]) == (q * FEE).quantize(Decimal("1e-8"))
    after = balances(spot)
    assert after["BTC"] - before["BTC"] == pytest.approx(qty * (1 - FEE), abs=Decimal("1e-8"))
    assert before["USDT"] - after["USDT"] == pytest.approx(cost, abs=Decimal("1e-6"))

    trades = spot.my_trades("BTCUSDT", orderId=order["orderId"])
    assert [t["id"] for t in trades] == [f["tradeId"] for f in order["fills"]]
    assert [(Decimal(t["price"]), Decimal(t["qty"])) for t in trades] == expected
    assert {(t["isMaker"], t["isBuyer"], t["commissionAsset"]) for t in trades} == {
        (False, True, "BTC")}


def test_a_market_sell_walks_the_bids_and_pays_in_quote(server: SimServer) -> None:
    spot = connector(server)
    _, bids = book(spot)
    (p0, q0), (p1, _) = bids[:2]
    qty = q0 + STEP * 3
    order = spot.new_order("BTCUSDT", "SELL", "MARKET", quantity=str(qty))
    assert fills_of(order) == [(p0, q0), (p1, STEP * 3)]
    assert {f["commissionAsset"] for f in order["fills"]} == {"USDT"}
    # the wire shows 8 decimals; a product that ties at the 9th may round either way
    assert abs(Decimal(order["fills"][0]["commission"]) - p0 * q0 * FEE) <= Decimal("5e-9")


def test_a_marketable_limit_fills_at_the_resting_levels(server: SimServer) -> None:
    ex = ccxt_client(server)
    spot = connector(server)
    asks, bids = book(spot)
    limit = float(asks[4][0])  # five levels above the ask: far more than it needs
    qty = float((asks[0][1] / 2).quantize(STEP))
    bought = ex.create_order("BTC/USDT", "limit", "buy", qty, limit)
    assert bought["status"] == "closed" and bought["price"] == limit
    assert bought["average"] == pytest.approx(float(asks[0][0]))  # price improvement
    assert [float(t["price"]) for t in bought["info"]["fills"]] == [float(asks[0][0])]
    assert bought["fee"]["currency"] == "BTC"
    sold = spot.new_order("BTCUSDT", "SELL", "LIMIT", timeInForce="GTC", quantity=str(qty),
                          price=str(bids[3][0]))
    assert sold["status"] == "FILLED" and fills_of(sold) == [(bids[0][0], Decimal(str(qty)))]
    assert sold["fills"][0]["commissionAsset"] == "USDT"


def test_a_quote_order_qty_market_order(server: SimServer) -> None:
    spot = connector(server)
    asks, _ = book(spot)
    order = spot.new_order("BTCUSDT", "BUY", "MARKET", quoteOrderQty="1000")
    qty = (Decimal(1000) / asks[0][0]).quantize(STEP, rounding="ROUND_DOWN")
    assert Decimal(order["origQuoteOrderQty"]) == 1000
    assert Decimal(order["executedQty"]) == qty == Decimal(order["origQty"])
    assert Decimal(order["cummulativeQuoteQty"]) == (qty * asks[0][0]).quantize(Decimal("1e-8"))
    assert Decimal(order["cummulativeQuoteQty"]) <= 1000
    queried = spot.get_order("BTCUSDT", orderId=order["orderId"])
    assert Decimal(queried["origQuoteOrderQty"]) == 1000


def test_ioc_expires_the_rest_and_fok_fills_whole_or_not_at_all(server: SimServer) -> None:
    spot = connector(server)
    asks, bids = book(spot)
    (p0, q0), (p1, q1), (p2, _) = asks[:3]
    within = q0 + q1  # what the book holds at or below p1
    ioc = spot.new_order("BTCUSDT", "BUY", "LIMIT", timeInForce="IOC", price=str(p1),
                         quantity=str(within + 1))
    assert (ioc["status"], ioc["timeInForce"]) == ("EXPIRED", "IOC")
    assert Decimal(ioc["executedQty"]) == within and fills_of(ioc) == [(p0, q0), (p1, q1)]
    fok = spot.new_order("BTCUSDT", "BUY", "LIMIT", timeInForce="FOK", price=str(p1),
                         quantity=str(within + 1))
    assert (fok["status"], Decimal(fok["executedQty"]), fok["fills"]) == ("EXPIRED", 0, [])
    whole = spot.new_order("BTCUSDT", "BUY", "LIMIT", timeInForce="FOK", price=str(p2),
                           quantity=str(within + 1))
    assert whole["status"] == "FILLED" and Decimal(whole["executedQty"]) == within + 1
    away = spot.new_order("BTCUSDT", "SELL", "LIMIT", timeInForce="IOC", price=str(p2),
                          quantity="0.01")
    assert (away["status"], Decimal(away["executedQty"])) == ("EXPIRED", 0)
    usdt = balances(spot)["USDT"]
    rest = spot.new_order("BTCUSDT", "BUY", "LIMIT", timeInForce="GTC", price=str(bids[5][0]),
                          quantity="0.01")
    assert rest["status"] == "NEW" and rest["fills"] == []
    locked = {b["asset"]: Decimal(b["locked"]) for b in spot.account()["balances"]}["USDT"]
    assert locked == bids[5][0] * Decimal("0.01")  # BUY: no fee to lock (paid in BTC)
    assert balances(spot)["USDT"] == usdt - locked


def test_a_gtc_limit_larger_than_its_levels_rests_partially_filled(server: SimServer) -> None:
    spot = connector(server)
    asks, _ = book(spot)
    (p0, q0) = asks[0]
    order = spot.new_order("BTCUSDT", "BUY", "LIMIT", timeInForce="GTC", price=str(p0),
                           quantity=str(q0 + 1))
    assert order["status"] == "PARTIALLY_FILLED" and fills_of(order) == [(p0, q0)]
    queried = spot.get_order("BTCUSDT", orderId=order["orderId"])
    assert queried["status"] == "PARTIALLY_FILLED" and Decimal(queried["executedQty"]) == q0
    assert [o["orderId"] for o in spot.get_open_orders("BTCUSDT")] == [order["orderId"]]
    time.sleep(0.01)
    canceled = spot.cancel_order("BTCUSDT", orderId=order["orderId"])
    assert canceled["status"] == "CANCELED" and Decimal(canceled["executedQty"]) == q0
    after = spot.get_order("BTCUSDT", orderId=order["orderId"])
    assert after["updateTime"] > after["time"] == after["workingTime"]
    assert after["updateTime"] >= canceled["transactTime"]


def test_cancel_moves_update_time(server: SimServer) -> None:
    spot = connector(server)
    _, bids = book(spot)
    placed = spot.new_order("BTCUSDT", "BUY", "LIMIT", timeInForce="GTC", price=str(bids[9][0]),
                            quantity="0.001")
    assert placed["workingTime"] == placed["transactTime"]
    assert placed["selfTradePreventionMode"] == "EXPIRE_MAKER"  # the symbol's default
    time.sleep(0.01)
    spot.cancel_order("BTCUSDT", orderId=placed["orderId"])
    after = spot.get_order("BTCUSDT", orderId=placed["orderId"])
    assert after["status"] == "CANCELED" and after["updateTime"] > after["time"]


def test_order_count_headers_and_the_unfilled_order_limit() -> None:
    from binance.error import ClientError

    srv = serve(fill_model="book", balances=BIG, order_limits={"10S": 3})
    try:
        spot = connector(srv, show_limit_usage=True)
        bid = Decimal(spot.depth("BTCUSDT", limit=5)["data"]["bids"][4][0])
        if int(time.time() * 1000) % 10_000 > 8_000:  # start inside one 10 s window
            time.sleep(2.5)

        def place(type_: str) -> tuple[int, int]:
            extra = ({"timeInForce": "GTC", "price": str(bid)} if type_ == "LIMIT" else {})
            reply = spot.new_order("BTCUSDT", "BUY", type_, quantity="0.001", **extra)
            usage = reply["limit_usage"]
            return int(usage["x-mbx-order-count-10s"]), int(usage["x-mbx-order-count-1d"])

        # a taker order counts in its own answer, then leaves the count: it traded
        assert [place("MARKET"), place("MARKET")] == [(1, 1), (1, 1)]
        assert [place("LIMIT") for _ in range(3)] == [(1, 1), (2, 2), (3, 3)]  # resting
        spot.cancel_order("BTCUSDT", orderId=srv.sim.orders()[-1]["id"])  # still counts
        with pytest.raises(ClientError) as caught:
            place("MARKET")
        err = caught.value
        assert (err.status_code, err.error_code, err.error_message) == (
            429, -1015, "Too many new orders; current limit is 3 orders per 10 SECOND.")
        assert 1 <= int(err.header["Retry-After"]) <= 10
        assert len(srv.orders()) == 5, "the refused order was not placed"
    finally:
        srv.stop()


def test_a_client_that_ignores_429s_is_banned_with_418() -> None:
    def ping(server: SimServer) -> tuple[int, dict[str, str]]:
        try:
            with urllib.request.urlopen(f"{server.url}/api/v3/ping", timeout=5) as reply:
                return reply.status, dict(reply.headers)
        except urllib.error.HTTPError as err:
            return err.code, dict(err.headers)

    with SimServer(Simulator.create(seed=1), weight_limit=2, ban_after_429s=2) as srv:
        statuses = [ping(srv) for _ in range(6)]
    assert [s for s, _ in statuses] == [200, 200, 429, 429, 418, 418]
    assert 1 <= int(statuses[2][1]["Retry-After"]) <= 60
    assert 110 <= int(statuses[4][1]["Retry-After"]) <= 120  # the first ban: 2 minutes


def test_commission_in_bnb_at_a_discount_when_enabled() -> None:
    sim = Simulator.create(seed=3, symbols=["BTC/USDT", "BNB/USDT"],
                           start_prices={"BNB/USDT": 600.0}, fill_model="book", bnb_burn=True,
                           balances={"USDT": 100_000.0, "BNB": 10.0, "BTC": 1.0})
    bnb_last = sim.market.quote("BNB/USDT")[2]
    order = sim.create_order("BTC/USDT", "buy", "market", 0.01, client_order_id="b", test=False)
    assert order["fee"]["currency"] == "BNB"
    assert order["fee"]["cost"] == pytest.approx(order["cost"] * 0.001 * 0.75 / bnb_last)
    assert sim.fetch_balance()["BTC"]["free"] == pytest.approx(1.01)  # nothing taken in BTC


def test_the_default_model_is_unchanged() -> None:
    sim = Simulator.create(seed=3)
    assert sim.fill_model == "simple"
    order = sim.create_order("BTC/USDT", "buy", "market", 0.01, client_order_id="s", test=False)
    assert order["fee"]["currency"] == "USDT"
    with pytest.raises(ValueError, match="fill_model"):
        Simulator.create(fill_model="magic")


def test_a_resting_order_fills_as_maker_once_the_market_moves_through_it() -> None:
    clock = [1_700_000_030.5]
    sim = Simulator.create(seed=8, clock=lambda: clock[0], fill_model="book")
    limit = round(sim.fetch_ticker("BTC/USDT")["bid"] - 100, 2)
    sim.create_order("BTC/USDT", "buy", "limit", 0.01, limit, client_order_id="r", test=False)
    assert sim.fetch_balance()["USDT"]["used"] == pytest.approx(0.01 * limit)
    for _ in range(2_000):
        clock[0] += 60
        order = sim.fetch_order("BTC/USDT", client_order_id="r")
        if order is not None and order["status"] == "closed":
            break
    assert order is not None and order["status"] == "closed" and order["average"] == limit
    assert order["fee"] == {"cost": pytest.approx(0.01 * 0.001), "currency": "BTC"}
    assert sim.my_trades("BTC/USDT")[-1]["takerOrMaker"] == "maker"
    balance = sim.fetch_balance()
    assert balance["BTC"]["free"] == pytest.approx(0.5 + 0.01 * 0.999)
    assert balance["USDT"] == {"free": pytest.approx(10_000 - 0.01 * limit), "used": 0.0,
                               "total": pytest.approx(10_000 - 0.01 * limit)}
