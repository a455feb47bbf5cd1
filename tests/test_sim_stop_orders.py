"""Standalone stop orders (STOP_LOSS[_LIMIT], TAKE_PROFIT[_LIMIT]) on POST /api/v3/order.

Over HTTP with ccxt and binance-connector on a real-clock server (one fixed book per test): the
parameters, the errors, the NEW answer and the held order's look-ups.  The triggers in process
on a clock the test moves, through the same handlers (adapters/sim/stop_orders.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from binance.error import ClientError
from sim_clock import BIG, moving, run_until
from test_sim_conformance import ccxt_client, connector, serve

from adapters.sim.routes import Endpoints
from adapters.sim.server import SimServer

SYMBOL = "BTCUSDT"
STOPS = ("STOP_LOSS", "STOP_LOSS_LIMIT", "TAKE_PROFIT", "TAKE_PROFIT_LIMIT")


@pytest.fixture
def server() -> Iterator[SimServer]:
    srv = serve(fill_model="book", balances=BIG)
    yield srv
    srv.stop()


def p(x: float) -> str:
    return f"{x:.2f}"


def last_price(spot: Any) -> float:
    return float(spot.ticker_price(SYMBOL)["price"])


def error(call: Any, *args: Any, **kwargs: Any) -> ClientError:
    with pytest.raises(ClientError) as info:
        call(*args, **kwargs)
    return info.value


def test_exchange_info_lists_the_stop_types_and_trailing_filter(server: SimServer) -> None:
    info = connector(server).exchange_info(symbol=SYMBOL)["symbols"][0]
    assert set(STOPS) <= set(info["orderTypes"])
    assert info["allowTrailingStop"] is True
    trailing = next(f for f in info["filters"] if f["filterType"] == "TRAILING_DELTA")
    assert (trailing["minTrailingBelowDelta"], trailing["maxTrailingAboveDelta"]) == (10, 2000)


def test_ccxt_stop_loss_limit_is_held_new_and_listed(server: SimServer) -> None:
    spot, ex = connector(server), ccxt_client(server)
    last = last_price(spot)
    placed = ex.create_order("BTC/USDT", "STOP_LOSS_LIMIT", "sell", 0.01, round(last - 60, 2),
                             {"stopPrice": round(last - 50, 2), "timeInForce": "GTC"})
    assert placed["status"] == "open"
    assert placed["info"]["type"] == "STOP_LOSS_LIMIT"
    assert placed["info"]["workingTime"] == -1
    assert float(placed["info"]["stopPrice"]) == round(last - 50, 2)
    order = spot.get_order(SYMBOL, orderId=int(placed["id"]))
    assert (order["status"], order["isWorking"], order["stopPrice"]) == (
        "NEW", False, f"{round(last - 50, 2):.8f}")
    assert [o["orderId"] for o in spot.get_open_orders(SYMBOL)] == [int(placed["id"])]
    balances = {b["asset"]: b for b in spot.account()["balances"]}
    assert float(balances["BTC"]["locked"]) == 0.0  # held off the book: nothing locked
    assert ex.cancel_order(placed["id"], "BTC/USDT")["status"] == "canceled"


def test_ccxt_unified_stop_loss_and_take_profit_prices(server: SimServer) -> None:
    spot, ex = connector(server), ccxt_client(server)
    last = last_price(spot)
    sl = ex.create_order("BTC/USDT", "market", "sell", 0.01, None,
                         {"stopLossPrice": round(last - 100, 2)})
    tp = ex.create_order("BTC/USDT", "limit", "sell", 0.01, round(last + 110, 2),
                         {"takeProfitPrice": round(last + 100, 2)})
    trig = ex.create_order("BTC/USDT", "limit", "buy", 0.01, round(last + 60, 2),
                           {"triggerPrice": round(last + 50, 2)})
    types = {o["orderId"]: o["type"] for o in spot.get_open_orders(SYMBOL)}
    assert [types[int(o["id"])] for o in (sl, tp, trig)] == [
        "STOP_LOSS", "TAKE_PROFIT_LIMIT", "STOP_LOSS_LIMIT"]
    fetched = ex.fetch_order(sl["id"], "BTC/USDT")
    assert fetched["triggerPrice"] == round(last - 100, 2)


def test_trailing_delta_is_accepted_and_shown(server: SimServer) -> None:
    spot = connector(server)
    placed = spot.new_order(SYMBOL, "BUY", "TAKE_PROFIT", quantity="0.01", trailingDelta=500,
                            newOrderRespType="RESULT")
    assert (placed["status"], placed["trailingDelta"], placed["workingTime"]) == ("NEW", 500, -1)
    assert placed["price"] == "0.00000000"
    order = spot.get_order(SYMBOL, orderId=placed["orderId"])
    assert order["trailingDelta"] == 500 and order["trailingTime"] > 0


def test_parameter_rules(server: SimServer) -> None:
    spot = connector(server)
    last = last_price(spot)
    below, above = p(last - 100), p(last + 100)

    def code(**params: Any) -> tuple[int, str]:
        err = error(spot.new_order, SYMBOL, "SELL", **params)
        return err.error_code, err.error_message

    assert code(type="STOP_LOSS", quantity="0.01") == (
        -1102, "Param 'stopPrice' or 'trailingDelta' must be sent, but both were empty/null!")
    assert code(type="STOP_LOSS", stopPrice=below)[0] == -1102  # quantity
    assert code(type="STOP_LOSS_LIMIT", quantity="0.01", price=below,
                stopPrice=below) == (-1102, "Mandatory parameter 'timeInForce' was not sent, "
                                            "was empty/null, or malformed.")
    assert code(type="STOP_LOSS_LIMIT", quantity="0.01", timeInForce="GTC",
                stopPrice=below)[0] == -1102  # price
    assert code(type="STOP_LOSS", quantity="0.01", stopPrice=below, price=below) == (
        -1106, "Parameter 'price' sent when not required.")
    assert code(type="TAKE_PROFIT", quantity="0.01", stopPrice=above,
                timeInForce="GTC")[0] == -1106
    assert code(type="LIMIT", quantity="0.01", price=above, timeInForce="GTC",
                stopPrice=above) == (-1106, "Parameter 'stopPrice' sent when not required.")
    assert code(type="MARKET", quantity="0.01", trailingDelta=100)[0] == -1106
    assert code(type="STOP_LOSS", quoteOrderQty="100", stopPrice=below)[0] == -1106
    for delta in (5, 2001):
        assert code(type="STOP_LOSS", quantity="0.01", trailingDelta=delta) == (
            -1013, "Filter failure: TRAILING_DELTA")
    assert code(type="STOP_LOSS", quantity="0.01", stopPrice=above) == (
        -2010, "Order would trigger immediately.")
    assert code(type="TAKE_PROFIT", quantity="0.01", stopPrice=below)[0] == -2010
    assert spot.get_open_orders(SYMBOL) == []
    assert spot.new_order_test(SYMBOL, "SELL", "TAKE_PROFIT_LIMIT", quantity="0.01",
                               price=above, stopPrice=above, timeInForce="GTC") == {}
    assert spot.get_open_orders(SYMBOL) == []


# -- triggers, in process ---------------------------------------------------------------------

def order(eps: Endpoints, order_id: int) -> Any:
    return eps.account.query_order({"symbol": SYMBOL, "orderId": str(order_id)})


def place(eps: Endpoints, **params: str) -> int:
    return int(eps.account.new_order({"symbol": SYMBOL, "quantity": "0.01", **params})["orderId"])


def test_a_sell_stop_loss_triggers_as_market_when_the_price_falls() -> None:
    clock, sim, eps = moving()
    last = sim.market.quote("BTC/USDT")[2]
    oid = place(eps, side="SELL", type="STOP_LOSS", stopPrice=p(last - 20))
    assert order(eps, oid)["status"] == "NEW"
    run_until(clock, sim, lambda: sim.market.quote("BTC/USDT")[2] <= last - 20)
    done = order(eps, oid)
    assert (done["status"], done["type"], done["isWorking"]) == ("FILLED", "STOP_LOSS", True)
    trade = sim.my_trades("BTC/USDT")[-1]
    assert (trade["order"], trade["side"], trade["amount"]) == (str(oid), "sell", 0.01)
    assert eps.account.open_orders({"symbol": SYMBOL}) == []


def test_a_buy_stop_loss_limit_goes_on_the_book_at_its_price_when_the_price_rises() -> None:
    clock, sim, eps = moving()
    last = sim.market.quote("BTC/USDT")[2]
    oid = place(eps, side="BUY", type="STOP_LOSS_LIMIT", stopPrice=p(last + 20),
                price=p(last / 2), timeInForce="GTC")
    assert sim.fetch_balance()["USDT"]["used"] == 0.0
    run_until(clock, sim, lambda: sim.market.quote("BTC/USDT")[2] >= last + 20)
    rests = order(eps, oid)
    assert (rests["status"], rests["price"], rests["isWorking"]) == ("NEW", f"{last / 2:.8f}",
                                                                     True)
    assert sim.fetch_balance()["USDT"]["used"] == pytest.approx(0.01 * round(last / 2, 2))


def test_a_sell_take_profit_waits_for_a_rise() -> None:
    clock, sim, eps = moving()
    last = sim.market.quote("BTC/USDT")[2]
    oid = place(eps, side="SELL", type="TAKE_PROFIT", stopPrice=p(last + 20))
    run_until(clock, sim, lambda: sim.market.quote("BTC/USDT")[2] >= last + 20)
    assert order(eps, oid)["status"] == "FILLED"


def test_a_trailing_sell_stop_fires_after_a_fall_from_the_peak() -> None:
    clock, sim, eps = moving()
    oid = place(eps, side="SELL", type="STOP_LOSS", trailingDelta="50")
    seen = [sim.market.quote("BTC/USDT")[2]]

    def fell() -> bool:
        last = sim.market.quote("BTC/USDT")[2]
        seen.append(last)
        return sim.order_by_id(oid)["status"] != "open"

    run_until(clock, sim, fell)
    assert order(eps, oid)["status"] == "FILLED"
    assert seen[-1] <= max(seen) * (1 - 50 / 10_000) + 1e-9


def test_order_types_other_than_market_and_limit_answer_ack_by_default(server: SimServer
                                                                       ) -> None:
    """Binance: MARKET and LIMIT default to FULL, every other type to ACK."""
    spot = connector(server)
    ack = spot.new_order(SYMBOL, "BUY", "TAKE_PROFIT", quantity="0.01", trailingDelta=500)
    assert set(ack) == {"symbol", "orderId", "orderListId", "clientOrderId", "transactTime"}
    market = spot.new_order(SYMBOL, "BUY", "MARKET", quantity="0.01")
    assert "fills" in market
