"""Cancel-replace, amend keep-priority, order lists (OCO, OTO, OTOCO) and SOR on the simulator.

Over HTTP with binance-connector and ccxt on a real-clock server (the market moves only a minute
after it starts, so each test sees one fixed book and computes its expectations from it); the
reactions to a moving market (an OCO's stop triggering, its limit leg filling as maker, an OTO's
working order filling) in process on a clock the test moves, through the same handlers.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from binance.error import ClientError
from sim_clock import BIG, moving, run_until
from test_sim_conformance import ccxt_client, connector, serve

from adapters.sim.routes import Endpoints
from adapters.sim.server import SimServer

SYMBOL = "BTCUSDT"


@pytest.fixture
def server() -> Iterator[SimServer]:
    srv = serve(fill_model="book", balances=BIG)
    yield srv
    srv.stop()


def quote(spot: Any) -> tuple[float, float, float]:
    """(bid, ask, last) as the server shows them."""
    book = spot.book_ticker(SYMBOL)
    last = float(spot.ticker_price(SYMBOL)["price"])
    return float(book["bidPrice"]), float(book["askPrice"]), last


def locked(spot: Any, asset: str) -> Decimal:
    return next(Decimal(b["locked"]) for b in spot.account()["balances"] if b["asset"] == asset)


def error(call: Any, *args: Any, **kwargs: Any) -> ClientError:
    with pytest.raises(ClientError) as info:
        call(*args, **kwargs)
    return info.value


def p(x: float) -> str:
    return f"{x:.2f}"


# -- cancel-replace -------------------------------------------------------------------------------

def test_ccxt_edit_order_cancels_and_replaces(server: SimServer) -> None:
    spot, ex = connector(server), ccxt_client(server)
    bid, _, _ = quote(spot)
    first = spot.new_order(SYMBOL, "BUY", "LIMIT", quantity="0.01", price=p(bid - 50),
                           timeInForce="GTC")
    edited = ex.edit_order(str(first["orderId"]), "BTC/USDT", "limit", "buy", 0.02,
                           round(bid - 60, 2))
    assert edited["id"] == str(first["orderId"] + 1)
    assert (edited["amount"], edited["price"], edited["status"]) == (0.02, round(bid - 60, 2),
                                                                    "open")
    assert spot.get_order(SYMBOL, orderId=first["orderId"])["status"] == "CANCELED"
    assert [o["orderId"] for o in spot.get_open_orders(SYMBOL)] == [first["orderId"] + 1]
    assert locked(spot, "USDT") == Decimal("0.02") * Decimal(p(bid - 60))


def test_cancel_replace_success_shape(server: SimServer) -> None:
    spot = connector(server)
    bid, _, _ = quote(spot)
    first = spot.new_order(SYMBOL, "BUY", "LIMIT", quantity="0.01", price=p(bid - 50),
                           timeInForce="GTC", newClientOrderId="old")
    answer = spot.cancel_and_replace(SYMBOL, "BUY", "LIMIT", "STOP_ON_FAILURE",
                                     cancelOrderId=first["orderId"], quantity="0.03",
                                     price=p(bid - 70), timeInForce="GTC",
                                     newClientOrderId="new", cancelNewClientOrderId="undo")
    assert (answer["cancelResult"], answer["newOrderResult"]) == ("SUCCESS", "SUCCESS")
    cancel, new = answer["cancelResponse"], answer["newOrderResponse"]
    assert (cancel["status"], cancel["origClientOrderId"], cancel["clientOrderId"]) == (
        "CANCELED", "old", "undo")
    assert (new["status"], new["clientOrderId"], new["origQty"], new["fills"]) == (
        "NEW", "new", "0.03000000", [])
    assert locked(spot, "USDT") == Decimal("0.03") * Decimal(p(bid - 70))


def test_cancel_replace_failures_carry_data(server: SimServer) -> None:
    spot = connector(server)
    bid, ask, _ = quote(spot)
    err = error(spot.cancel_and_replace, SYMBOL, "BUY", "LIMIT", "STOP_ON_FAILURE",
                cancelOrderId=999, quantity="0.01", price=p(bid - 50), timeInForce="GTC")
    assert (err.status_code, err.error_code, err.error_message) == (
        400, -2022, "Order cancel-replace failed.")
    assert err.error_data == {"cancelResult": "FAILURE", "newOrderResult": "NOT_ATTEMPTED",
                              "cancelResponse": {"code": -2011, "msg": "Unknown order sent."},
                              "newOrderResponse": None}
    assert spot.get_open_orders(SYMBOL) == []  # nothing placed
    # ALLOW_FAILURE: the cancel fails, the new order goes in: 409 -2021
    err = error(spot.cancel_and_replace, SYMBOL, "BUY", "LIMIT", "ALLOW_FAILURE",
                cancelOrderId=999, quantity="0.01", price=p(bid - 50), timeInForce="GTC")
    assert (err.status_code, err.error_code) == (409, -2021)
    data = err.error_data
    assert (data["cancelResult"], data["newOrderResult"]) == ("FAILURE", "SUCCESS")
    placed = data["newOrderResponse"]["orderId"]
    assert spot.get_order(SYMBOL, orderId=placed)["status"] == "NEW"
    # the cancel works, the new LIMIT_MAKER would take: 409 -2021 with the -2010
    err = error(spot.cancel_and_replace, SYMBOL, "SELL", "LIMIT_MAKER", "STOP_ON_FAILURE",
                cancelOrderId=placed, quantity="0.01", price=p(bid - 10))
    assert (err.status_code, err.error_code, err.error_message) == (
        409, -2021, "Order cancel-replace partially failed.")
    assert err.error_data["cancelResponse"]["status"] == "CANCELED"
    assert err.error_data["newOrderResponse"] == {
        "code": -2010, "msg": "Order would immediately match and take."}
    assert ask > bid
    # a bad mode or no order named: plain errors
    assert error(spot.cancel_and_replace, SYMBOL, "BUY", "LIMIT", "SOMETIMES",
                 cancelOrderId=1).error_code == -1100
    assert error(spot.sign_request, "POST", "/api/v3/order/cancelReplace",
                 {"symbol": SYMBOL, "side": "BUY", "type": "LIMIT",
                  "cancelReplaceMode": "STOP_ON_FAILURE"}).error_code == -1102


# -- amend keep priority --------------------------------------------------------------------------

def amend(spot: Any, **params: Any) -> Any:
    return spot.sign_request("PUT", "/api/v3/order/amend/keepPriority",
                             {"symbol": SYMBOL, **params})


def amendments(spot: Any, order_id: int) -> Any:
    return spot.sign_request("GET", "/api/v3/order/amendments",
                             {"symbol": SYMBOL, "orderId": order_id})


def test_amend_keep_priority_reduces_in_place_and_is_recorded(server: SimServer) -> None:
    spot = connector(server)
    bid, _, _ = quote(spot)
    order = spot.new_order(SYMBOL, "BUY", "LIMIT", quantity="0.02", price=p(bid - 50),
                           timeInForce="GTC", newClientOrderId="a1")
    oid = order["orderId"]
    assert amendments(spot, oid) == []
    answer = amend(spot, orderId=oid, newQty="0.015", newClientOrderId="a2")
    assert answer["executionId"] == 1
    amended = answer["amendedOrder"]
    assert (amended["orderId"], amended["origClientOrderId"], amended["clientOrderId"],
            amended["qty"], amended["status"], amended["orderListId"]) == (
        oid, "a1", "a2", "0.01500000", "NEW", -1)
    assert "listStatus" not in answer
    assert locked(spot, "USDT") == Decimal("0.015") * Decimal(p(bid - 50))
    assert spot.get_order(SYMBOL, orderId=oid)["origQty"] == "0.01500000"
    assert spot.get_order(SYMBOL, origClientOrderId="a2")["orderId"] == oid  # same order
    amend(spot, origClientOrderId="a2", newQty="0.01", newClientOrderId="a3")
    rows = amendments(spot, oid)
    assert [(r["executionId"], r["origClientOrderId"], r["newClientOrderId"], r["origQty"],
             r["newQty"]) for r in rows] == [(1, "a1", "a2", "0.02000000", "0.01500000"),
                                             (2, "a2", "a3", "0.01500000", "0.01000000")]
    more = error(amend, spot, orderId=oid, newQty="0.02")
    assert (more.error_code, more.error_message) == (
        -2038, "Order amend (quantity increase) is not supported.")
    assert error(amend, spot, orderId=oid, newQty="0.01").error_code == -2038
    assert error(amend, spot, orderId=999, newQty="0.001").error_code == -2038
    assert error(amend, spot, orderId=oid).error_code == -1102
    assert error(amendments, spot, 999).error_code == -2013


# -- order lists over HTTP ------------------------------------------------------------------------

def sell_oco(spot: Any, **extra: Any) -> Any:
    _, ask, last = quote(spot)
    return spot.new_oco_order(SYMBOL, "SELL", "0.01", "LIMIT_MAKER", "STOP_LOSS_LIMIT",
                              abovePrice=p(ask + 100), belowStopPrice=p(last - 100),
                              belowPrice=p(last - 110), belowTimeInForce="GTC", **extra)


def test_oco_shape_lock_query_and_cancel(server: SimServer) -> None:
    spot = connector(server)
    _, ask, last = quote(spot)
    placed = sell_oco(spot, listClientOrderId="my-oco", aboveClientOrderId="up",
                      belowClientOrderId="down")
    assert {k: placed[k] for k in ("orderListId", "contingencyType", "listStatusType",
                                   "listOrderStatus", "listClientOrderId", "symbol")} == {
        "orderListId": 1, "contingencyType": "OCO", "listStatusType": "EXEC_STARTED",
        "listOrderStatus": "EXECUTING", "listClientOrderId": "my-oco", "symbol": SYMBOL}
    assert placed["orders"] == [{"symbol": SYMBOL, "orderId": 1, "clientOrderId": "down"},
                                {"symbol": SYMBOL, "orderId": 2, "clientOrderId": "up"}]
    stop, limit = placed["orderReports"]
    assert (stop["type"], stop["stopPrice"], stop["price"], stop["workingTime"],
            stop["orderListId"]) == ("STOP_LOSS_LIMIT", f"{last - 100:.8f}",
                                     f"{last - 110:.8f}", -1, 1)
    assert (limit["type"], limit["price"], limit["status"]) == ("LIMIT_MAKER",
                                                                f"{ask + 100:.8f}", "NEW")
    assert locked(spot, "BTC") == Decimal("0.01")  # locked once, through the limit leg
    opened = spot.get_open_orders(SYMBOL)
    assert [(o["orderId"], o["type"]) for o in opened] == [(1, "STOP_LOSS_LIMIT"),
                                                           (2, "LIMIT_MAKER")]
    assert opened[0]["stopPrice"] == f"{last - 100:.8f}"
    query = spot.get_oco_order(orderListId=1)
    assert query == {k: v for k, v in placed.items() if k != "orderReports"}
    assert spot.get_oco_order(origClientOrderId="my-oco")["orderListId"] == 1
    assert spot.get_oco_open_orders() == [query]
    cancelled = spot.cancel_oco_order(SYMBOL, listClientOrderId="my-oco")
    assert (cancelled["listStatusType"], cancelled["listOrderStatus"]) == ("ALL_DONE",
                                                                           "ALL_DONE")
    assert [r["status"] for r in cancelled["orderReports"]] == ["CANCELED", "CANCELED"]
    assert [r["origClientOrderId"] for r in cancelled["orderReports"]] == ["down", "up"]
    assert locked(spot, "BTC") == 0
    assert spot.get_oco_open_orders() == []
    assert [x["listOrderStatus"] for x in spot.get_oco_orders()] == ["ALL_DONE"]
    assert spot.get_oco_orders(fromId=2) == []
    assert error(spot.cancel_oco_order, SYMBOL, orderListId=1).error_code == -2011
    assert error(spot.get_oco_order, orderListId=9).error_code == -2013
    assert error(spot.get_oco_order).error_code == -1102
    assert error(spot.get_oco_orders, fromId=1, startTime=1).error_code == -1128


def test_oco_price_rules_and_parameters(server: SimServer) -> None:
    spot = connector(server)
    _, ask, last = quote(spot)
    wrong = error(spot.new_oco_order, SYMBOL, "SELL", "0.01", "LIMIT_MAKER", "STOP_LOSS",
                  abovePrice=p(ask + 100), belowStopPrice=p(last + 50))  # stop above last
    assert (wrong.error_code, wrong.error_message) == (
        -2010, "The relationship of the prices for the orders is not correct.")
    assert error(spot.new_oco_order, SYMBOL, "SELL", "0.01", "LIMIT_MAKER", "STOP_LOSS_LIMIT",
                 abovePrice=p(ask + 100), belowStopPrice=p(last - 100),
                 belowPrice=p(last - 110)).error_code == -1102  # belowTimeInForce
    assert error(spot.new_oco_order, SYMBOL, "SELL", "0.01", "MARKET", "STOP_LOSS",
                 belowStopPrice=p(last - 100)).error_code == -1116
    # a BUY OCO: the limit leg below, the stop above; locks quote once
    placed = spot.new_oco_order(SYMBOL, "BUY", "0.01", "STOP_LOSS", "LIMIT_MAKER",
                                aboveStopPrice=p(last + 100), belowPrice=p(last - 100))
    assert [r["type"] for r in placed["orderReports"]] == ["LIMIT_MAKER", "STOP_LOSS"]
    assert placed["orderReports"][1]["price"] == "0.00000000"
    assert locked(spot, "USDT") == Decimal("0.01") * Decimal(p(last - 100))
    assert spot.get_open_orders(SYMBOL)[0]["orderId"] == 1
    assert server.sim.orders()[0]["type"] == "limit"


def test_cancelling_one_leg_cancels_the_list(server: SimServer) -> None:
    spot = connector(server)
    placed = sell_oco(spot)
    spot.cancel_order(SYMBOL, orderId=placed["orders"][1]["orderId"])
    listed = spot.get_oco_order(orderListId=placed["orderListId"])
    assert listed["listOrderStatus"] == "ALL_DONE"
    assert spot.get_order(SYMBOL, orderId=placed["orders"][0]["orderId"])["status"] == "CANCELED"
    assert spot.get_open_orders(SYMBOL) == []


def test_cancel_replace_of_a_leg_cancels_its_list(server: SimServer) -> None:
    spot = connector(server)
    bid, _, _ = quote(spot)
    placed = sell_oco(spot)
    answer = spot.cancel_and_replace(SYMBOL, "BUY", "LIMIT", "STOP_ON_FAILURE",
                                     cancelOrderId=placed["orders"][1]["orderId"],
                                     quantity="0.01", price=p(bid - 50), timeInForce="GTC")
    assert answer["cancelResponse"]["orderListId"] == placed["orderListId"]
    assert spot.get_oco_open_orders() == []
    assert [o["orderId"] for o in spot.get_open_orders(SYMBOL)] == [3]


def test_oto_working_fills_at_once_then_pending_goes_on_the_book(server: SimServer) -> None:
    spot = connector(server)
    _, ask, _ = quote(spot)
    placed = spot.new_oto_order(SYMBOL, "LIMIT", "BUY", p(ask + 10), "0.01", "LIMIT", "SELL",
                                "0.01", workingTimeInForce="GTC", pendingPrice=p(ask + 5000),
                                pendingTimeInForce="GTC")
    working, pending = placed["orderReports"]
    assert placed["contingencyType"] == "OTO"
    assert (working["status"], working["executedQty"]) == ("FILLED", "0.01000000")
    assert working["fills"][0]["price"] == f"{ask:.8f}"  # price improvement: the ask level
    assert pending["status"] == "PENDING_NEW"  # as Binance: query again for the new status
    assert spot.get_order(SYMBOL, orderId=pending["orderId"])["status"] == "NEW"
    assert locked(spot, "BTC") == Decimal("0.01")  # the pending SELL now rests
    assert spot.get_oco_open_orders()[0]["orderListId"] == placed["orderListId"]


def test_otoco_shape_and_cancel(server: SimServer) -> None:
    spot = connector(server)
    bid, _, last = quote(spot)
    placed = spot.new_otoco_order(
        SYMBOL, "LIMIT", "BUY", p(bid - 500), "0.01", "SELL", "0.01", "LIMIT_MAKER",
        workingTimeInForce="GTC", pendingAbovePrice=p(last + 500), pendingBelowType="STOP_LOSS",
        pendingBelowStopPrice=p(last - 300))
    assert placed["contingencyType"] == "OTO"
    assert [(r["type"], r["status"]) for r in placed["orderReports"]] == [
        ("LIMIT", "NEW"), ("STOP_LOSS", "PENDING_NEW"), ("LIMIT_MAKER", "PENDING_NEW")]
    assert locked(spot, "USDT") == Decimal("0.01") * Decimal(p(bid - 500))
    assert locked(spot, "BTC") == 0  # pending orders lock nothing
    cancelled = spot.cancel_oco_order(SYMBOL, orderListId=placed["orderListId"])
    assert [r["status"] for r in cancelled["orderReports"]] == ["CANCELED"] * 3
    assert locked(spot, "USDT") == 0


def test_sor_answers_as_binance_for_a_symbol_without_sor(server: SimServer) -> None:
    spot = connector(server)
    for path in ("/api/v3/sor/order", "/api/v3/sor/order/test"):
        err = error(spot.sign_request, "POST", path,
                    {"symbol": SYMBOL, "side": "BUY", "type": "MARKET", "quantity": "0.01"})
        assert (err.status_code, err.error_code, err.error_message) == (
            400, -1013, "This symbol has no SOR.")
        assert error(spot.sign_request, "POST", path,
                     {"symbol": SYMBOL, "side": "BUY", "type": "MARKET"}).error_code == -1102
    assert spot.get_open_orders(SYMBOL) == []


# -- reactions to a moving market, in process --------------------------------------------------

def status(eps: Endpoints, order_id: int) -> str:
    return eps.account.query_order({"symbol": SYMBOL, "orderId": str(order_id)})["status"]


def test_an_oco_stop_that_triggers_expires_the_limit_leg() -> None:
    clock, sim, eps = moving()
    _, ask, last = sim.market.quote("BTC/USDT")
    placed = eps.lists.oco({"symbol": SYMBOL, "side": "SELL", "quantity": "0.01",
                            "aboveType": "LIMIT_MAKER", "abovePrice": p(ask * 1.5),
                            "belowType": "STOP_LOSS", "belowStopPrice": p(last - 20)})
    stop_id, limit_id = (o["orderId"] for o in placed["orders"])
    run_until(clock, sim, lambda: sim.market.quote("BTC/USDT")[2] <= last - 20)
    assert status(eps, limit_id) == "EXPIRED"
    assert status(eps, stop_id) == "FILLED"  # a market SELL once triggered
    trade = sim.my_trades("BTC/USDT")[-1]
    assert (trade["order"], trade["side"], trade["amount"]) == (str(stop_id), "sell", 0.01)
    listed = eps.listq.query_list({"orderListId": str(placed["orderListId"])})
    assert listed["listOrderStatus"] == "ALL_DONE"
    assert sim.fetch_balance()["BTC"]["used"] == 0.0


def test_an_oco_limit_leg_filled_by_the_maker_sweep_expires_the_stop() -> None:
    clock, sim, eps = moving()
    _, ask, last = sim.market.quote("BTC/USDT")
    placed = eps.lists.oco({"symbol": SYMBOL, "side": "SELL", "quantity": "0.01",
                            "aboveType": "LIMIT_MAKER", "abovePrice": p(ask + 20),
                            "belowType": "STOP_LOSS_LIMIT", "belowStopPrice": p(last / 2),
                            "belowPrice": p(last / 2), "belowTimeInForce": "GTC"})
    stop_id, limit_id = (o["orderId"] for o in placed["orders"])
    run_until(clock, sim, lambda: sim.order_by_id(limit_id)["status"] == "closed")
    assert status(eps, stop_id) == "EXPIRED"  # in the same sweep as the fill
    assert sim.my_trades("BTC/USDT")[-1]["takerOrMaker"] == "maker"
    assert eps.listq.open_lists({}) == []


def test_an_oto_pending_order_goes_on_the_book_when_the_working_order_fills() -> None:
    clock, sim, eps = moving()
    bid, _, _ = sim.market.quote("BTC/USDT")
    placed = eps.lists.oto({"symbol": SYMBOL, "workingType": "LIMIT", "workingSide": "BUY",
                            "workingPrice": p(bid - 20), "workingQuantity": "0.01",
                            "workingTimeInForce": "GTC", "pendingType": "MARKET",
                            "pendingSide": "SELL", "pendingQuantity": "0.01"})
    working_id, pending_id = (o["orderId"] for o in placed["orders"])
    assert placed["orderReports"][1]["status"] == "PENDING_NEW"
    run_until(clock, sim, lambda: sim.order_by_id(working_id)["status"] == "closed")
    assert status(eps, pending_id) == "FILLED"  # the market SELL, placed at once
    sells = [t for t in sim.my_trades("BTC/USDT") if t["order"] == str(pending_id)]
    assert sum(t["amount"] for t in sells) == pytest.approx(0.01)
    assert eps.listq.query_list({"orderListId": "1"})["listOrderStatus"] == "ALL_DONE"


def test_an_oco_adds_two_to_the_unfilled_order_count_and_must_fit_whole() -> None:
    """Binance's Unfilled Order Count per endpoint: an OCO is 2 orders (an OTOCO 3); a request
    whose orders do not all fit in an interval is refused whole (-1015)."""
    srv = serve(fill_model="book", balances=BIG, order_limits={"1D": 3})
    try:
        spot, counted = connector(srv), connector(srv, show_limit_usage=True)
        _, ask, last = quote(spot)
        legs = {"abovePrice": p(ask + 100), "belowStopPrice": p(last - 100),
                "belowPrice": p(last - 110), "belowTimeInForce": "GTC"}
        placed = counted.new_oco_order(SYMBOL, "SELL", "0.01", "LIMIT_MAKER", "STOP_LOSS_LIMIT",
                                       **legs)
        assert placed["limit_usage"]["x-mbx-order-count-1d"] == "2"
        assert spot.get_order_rate_limit()[1]["count"] == 2  # rateLimit/order agrees (1D)
        rest = counted.new_order(SYMBOL, "BUY", "LIMIT", timeInForce="GTC", quantity="0.01",
                                 price=p(last - 500))
        assert rest["limit_usage"]["x-mbx-order-count-1d"] == "3"
        refused = error(spot.new_oco_order, SYMBOL, "SELL", "0.01", "LIMIT_MAKER",
                        "STOP_LOSS_LIMIT", **legs)
        assert (refused.status_code, refused.error_code) == (429, -1015)
        assert len(srv.orders()) == 3, "no leg of the refused OCO was placed"
    finally:
        srv.stop()
