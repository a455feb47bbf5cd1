"""The deprecated POST /api/v3/order/oco (still served by Binance): price, stopPrice,
stopLimitPrice, stopLimitTimeInForce, limit*/stop* parameters mapped onto the simulator's OCO
(a LIMIT_MAKER leg and a STOP_LOSS[_LIMIT] leg, the stop leg first), with its weight, its
answer's shape and Binance's errors.

Over HTTP with binance-connector (signed raw requests: the connector has no method for it) and
ccxt's implicit privatePostOrderOco, on a real-clock server (one fixed book per test).
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from binance.error import ClientError
from sim_clock import BIG
from test_sim_conformance import ccxt_client, connector, serve

from adapters.sim.server import SimServer

SYMBOL = "BTCUSDT"
PATH = "/api/v3/order/oco"


@pytest.fixture
def server() -> Iterator[SimServer]:
    srv = serve(seed=51, fill_model="book", balances=BIG)
    yield srv
    srv.stop()


def quote(spot: Any) -> tuple[Decimal, Decimal]:
    return (Decimal(spot.book_ticker(SYMBOL)["askPrice"]),
            Decimal(spot.ticker_price(SYMBOL)["price"]))


def locked(spot: Any, asset: str) -> Decimal:
    return next(Decimal(b["locked"]) for b in spot.account()["balances"] if b["asset"] == asset)


def test_a_sell_oco_with_a_stop_limit_leg(server: SimServer) -> None:
    spot = connector(server, show_limit_usage=True)
    ask, last = quote(connector(server))
    reply = spot.sign_request("POST", PATH, {
        "symbol": SYMBOL, "side": "SELL", "quantity": "0.01", "price": str(ask + 100),
        "stopPrice": str(last - 100), "stopLimitPrice": str(last - 110),
        "stopLimitTimeInForce": "GTC", "listClientOrderId": "legacy", "limitClientOrderId": "up",
        "stopClientOrderId": "down", "limitIcebergQty": "0.005"})
    placed = reply["data"]
    assert {k: placed[k] for k in ("orderListId", "contingencyType", "listStatusType",
                                   "listOrderStatus", "listClientOrderId", "symbol")} == {
        "orderListId": 1, "contingencyType": "OCO", "listStatusType": "EXEC_STARTED",
        "listOrderStatus": "EXECUTING", "listClientOrderId": "legacy", "symbol": SYMBOL}
    assert placed["orders"] == [{"symbol": SYMBOL, "orderId": 1, "clientOrderId": "down"},
                                {"symbol": SYMBOL, "orderId": 2, "clientOrderId": "up"}]
    stop, limit = placed["orderReports"]  # FULL by default: fills on both
    assert (stop["type"], stop["price"], stop["stopPrice"], stop["timeInForce"],
            stop["workingTime"], stop["orderListId"], stop["status"], stop["fills"]) == (
        "STOP_LOSS_LIMIT", f"{last - 110:.8f}", f"{last - 100:.8f}", "GTC", -1, 1, "NEW", [])
    assert (limit["type"], limit["price"], limit["icebergQty"], limit["orderListId"]) == (
        "LIMIT_MAKER", f"{ask + 100:.8f}", "0.00500000", 1)
    assert "icebergQty" not in stop
    plain = connector(server)
    assert locked(plain, "BTC") == Decimal("0.01")  # locked once, through the limit leg
    assert plain.get_oco_order(orderListId=1) == {k: v for k, v in placed.items()
                                                   if k != "orderReports"}
    assert [o["orderListId"] for o in plain.get_open_orders(SYMBOL)] == [1, 1]


def test_ccxt_buy_oco_with_a_stop_loss_leg(server: SimServer) -> None:
    spot, ex = connector(server), ccxt_client(server)
    ask, last = quote(spot)
    day = {"rateLimitType": "ORDERS", "interval": "DAY", "intervalNum": 1}
    placed = ex.private_post_order_oco({"symbol": SYMBOL, "side": "BUY", "quantity": "0.01",
                                        "price": str(last - 100), "stopPrice": str(ask + 100),
                                        "newOrderRespType": "RESULT"})
    stop, limit = placed["orderReports"]
    assert (stop["type"], stop["side"], stop["price"], stop["stopPrice"]) == (
        "STOP_LOSS", "BUY", "0.00000000", f"{ask + 100:.8f}")
    assert (limit["type"], limit["price"]) == ("LIMIT_MAKER", f"{last - 100:.8f}")
    assert "fills" not in limit  # RESULT
    assert placed["listClientOrderId"].startswith("x-")  # ccxt names the list and its legs
    assert locked(spot, "USDT") == Decimal("0.01") * (last - 100)
    counts = spot.sign_request("GET", "/api/v3/rateLimit/order", {})
    assert next(c["count"] for c in counts if day.items() <= c.items()) == 2  # two new orders
    cancelled = spot.cancel_oco_order(SYMBOL, orderListId=placed["orderListId"])
    assert [r["status"] for r in cancelled["orderReports"]] == ["CANCELED", "CANCELED"]


def test_the_weight_is_one(server: SimServer) -> None:
    spot = connector(server, show_limit_usage=True)
    ask, last = quote(connector(server))
    first = spot.sign_request("POST", PATH, {"symbol": SYMBOL, "side": "SELL",
                                             "quantity": "0.01", "price": str(ask + 100),
                                             "stopPrice": str(last - 100)})
    second = spot.sign_request("POST", PATH, {"symbol": SYMBOL, "side": "SELL",
                                              "quantity": "0.01", "price": str(ask + 100),
                                              "stopPrice": str(last - 100)})
    used = [int(r["limit_usage"]["x-mbx-used-weight-1m"]) for r in (first, second)]
    assert used[1] - used[0] == 1


@pytest.mark.parametrize(("change", "expected"), [
    ({"price": None}, (-1102, "Mandatory parameter 'price' was not sent, was empty/null, or "
                              "malformed.")),
    ({"stopPrice": None}, (-1102, "Mandatory parameter 'stopPrice' was not sent, was "
                                  "empty/null, or malformed.")),
    ({"quantity": None}, (-1102, "Mandatory parameter 'quantity' was not sent, was "
                                 "empty/null, or malformed.")),
    ({"side": None}, (-1102, "Mandatory parameter 'side' was not sent, was empty/null, or "
                             "malformed.")),
    ({"stopLimitPrice": "LOW"}, (-1102, "Mandatory parameter 'stopLimitTimeInForce' was not "
                                        "sent, was empty/null, or malformed.")),
    ({"stopLimitTimeInForce": "GTC"}, (-1106, "Parameter 'stopLimitTimeInForce' sent when not "
                                              "required.")),
    ({"stopLimitPrice": "LOW", "stopLimitTimeInForce": "DAY"}, (-1115, "Invalid timeInForce.")),
    ({"stopPrice": "HIGH"}, (-2010, "The relationship of the prices for the orders is not "
                                    "correct.")),
    ({"stopLimitPrice": "LOW", "stopLimitTimeInForce": "IOC", "stopIcebergQty": "0.002"},
     (-1160, "Parameter 'stopIcebergQty' is not supported if aboveTimeInForce/"
             "belowTimeInForce is not GTC.")),
    ({"stopIcebergQty": "0.002"}, (-2010, "Unsupported order combination")),
    ({"trailingDelta": "5"}, (-1013, "Filter failure: TRAILING_DELTA")),
])
def test_binances_errors(server: SimServer, change: dict[str, str | None],
                         expected: tuple[int, str]) -> None:
    spot = connector(server)
    ask, last = quote(spot)
    params: dict[str, Any] = {"symbol": SYMBOL, "side": "SELL", "quantity": "0.01",
                              "price": str(ask + 100), "stopPrice": str(last - 100)}
    prices = {"LOW": str(last - 110), "HIGH": str(ask + 200)}
    for name, value in change.items():
        if value is None:
            params.pop(name)
        else:
            params[name] = prices.get(value, value)
    with pytest.raises(ClientError) as err:
        spot.sign_request("POST", PATH, params)
    assert (err.value.error_code, err.value.error_message) == expected
    assert spot.get_open_orders(SYMBOL) == []
