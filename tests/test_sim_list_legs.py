"""The legs of an order list answer as Binance's do everywhere an order is rendered: GET order,
openOrders, allOrders, myTrades, DELETE order and DELETE openOrders carry the list's orderListId
(not -1), an OTO's pending order is PENDING_NEW until it goes on the book, and DELETE openOrders
cancels a list whole, as one entry with its orderReports.

Over HTTP with binance-connector and ccxt on a real-clock server (one fixed book per test).
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from sim_clock import BIG
from test_sim_conformance import ccxt_client, connector, serve

from adapters.sim.server import SimServer

SYMBOL = "BTCUSDT"


@pytest.fixture
def server() -> Iterator[SimServer]:
    srv = serve(seed=41, fill_model="book", balances=BIG)
    yield srv
    srv.stop()


def quote(spot: Any) -> tuple[Decimal, Decimal, Decimal]:
    book = spot.book_ticker(SYMBOL)
    return (Decimal(book["bidPrice"]), Decimal(book["askPrice"]),
            Decimal(spot.ticker_price(SYMBOL)["price"]))


def sell_oco(spot: Any) -> dict[str, Any]:
    _, ask, last = quote(spot)
    return spot.new_oco_order(SYMBOL, "SELL", "0.01", "LIMIT_MAKER", "STOP_LOSS",
                              abovePrice=str(ask + 100), belowStopPrice=str(last - 100))


def test_queries_show_the_legs_list_id(server: SimServer) -> None:
    spot, ex = connector(server), ccxt_client(server)
    bid, _, _ = quote(spot)
    alone = spot.new_order(SYMBOL, "BUY", "LIMIT", timeInForce="GTC", quantity="0.01",
                           price=str(bid - 200))
    placed = sell_oco(spot)
    list_id = placed["orderListId"]
    stop_id, limit_id = (o["orderId"] for o in placed["orders"])
    for leg in (stop_id, limit_id):
        assert spot.get_order(SYMBOL, orderId=leg)["orderListId"] == list_id
    assert spot.get_order(SYMBOL, orderId=alone["orderId"])["orderListId"] == -1
    assert [(o["orderId"], o["orderListId"]) for o in spot.get_open_orders(SYMBOL)] == [
        (alone["orderId"], -1), (stop_id, list_id), (limit_id, list_id)]
    assert [o["orderListId"] for o in spot.get_orders(SYMBOL)] == [-1, list_id, list_id]
    fetched = ex.fetch_open_orders("BTC/USDT")
    assert [o["info"]["orderListId"] for o in fetched] == [-1, list_id, list_id]
    cancelled = spot.cancel_order(SYMBOL, orderId=limit_id)
    assert (cancelled["status"], cancelled["orderListId"]) == ("CANCELED", list_id)
    after = spot.get_order(SYMBOL, orderId=stop_id)  # its list went with it
    assert (after["status"], after["orderListId"]) == ("CANCELED", list_id)


def test_an_oto_pending_order_is_pending_new_and_its_trades_carry_the_list(
        server: SimServer) -> None:
    spot = connector(server)
    bid, ask, _ = quote(spot)
    resting = spot.new_oto_order(SYMBOL, "LIMIT", "BUY", str(bid - 500), "0.01", "LIMIT",
                                 "SELL", "0.01", workingTimeInForce="GTC",
                                 pendingPrice=str(ask + 500), pendingTimeInForce="GTC")
    pending_id = resting["orders"][1]["orderId"]
    held = spot.get_order(SYMBOL, orderId=pending_id)
    assert (held["status"], held["orderListId"]) == ("PENDING_NEW", resting["orderListId"])
    assert [o["status"] for o in spot.get_open_orders(SYMBOL)] == ["NEW", "PENDING_NEW"]
    # a working order that fills at once: its trades carry the list id, the pending order
    # goes on the book
    filled = spot.new_oto_order(SYMBOL, "LIMIT", "BUY", str(ask + 10), "0.01", "LIMIT",
                                "SELL", "0.01", workingTimeInForce="GTC",
                                pendingPrice=str(ask + 600), pendingTimeInForce="GTC")
    working_id, pending_id = (o["orderId"] for o in filled["orders"])
    trades = spot.my_trades(SYMBOL, orderId=working_id)
    assert trades and {t["orderListId"] for t in trades} == {filled["orderListId"]}
    released = spot.get_order(SYMBOL, orderId=pending_id)
    assert (released["status"], released["orderListId"]) == ("NEW", filled["orderListId"])


def test_cancel_all_cancels_lists_whole(server: SimServer) -> None:
    spot = connector(server)
    bid, _, _ = quote(spot)
    alone = spot.new_order(SYMBOL, "BUY", "LIMIT", timeInForce="GTC", quantity="0.01",
                           price=str(bid - 200))
    placed = sell_oco(spot)
    answer = spot.cancel_open_orders(SYMBOL)
    single, listed = answer
    assert (single["orderId"], single["orderListId"], single["status"]) == (
        alone["orderId"], -1, "CANCELED")
    assert {k: listed[k] for k in ("orderListId", "contingencyType", "listStatusType",
                                   "listOrderStatus", "orders")} == {
        "orderListId": placed["orderListId"], "contingencyType": "OCO",
        "listStatusType": "ALL_DONE", "listOrderStatus": "ALL_DONE",
        "orders": placed["orders"]}
    reports = listed["orderReports"]
    assert [(r["orderId"], r["orderListId"], r["status"]) for r in reports] == [
        (o["orderId"], placed["orderListId"], "CANCELED") for o in placed["orders"]]
    assert reports[0]["stopPrice"] == placed["orderReports"][0]["stopPrice"]
    assert {r["clientOrderId"] for r in answer[1]["orderReports"]} == {single["clientOrderId"]}
    assert spot.get_open_orders(SYMBOL) == [] and spot.get_oco_open_orders() == []
