"""Iceberg orders on the simulator (rest-api.md, filters.md, errors.md): icebergAllowed and the
ICEBERG_PARTS filter in exchangeInfo, every rejection with Binance's code and message,
`icebergQty` echoed by placement (only when sent), query, list and cancel answers, and fills
exactly as the full quantity's (only the visible part would show to other traders; the synthetic
book does not react to it).

Over HTTP with binance-connector and ccxt on a real-clock server (one fixed book per test).
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


@pytest.fixture
def server() -> Iterator[SimServer]:
    srv = serve(seed=31, fill_model="book", balances=BIG)
    yield srv
    srv.stop()


def best(spot: Any, side: str) -> Decimal:
    return Decimal(spot.depth(SYMBOL, limit=5)[side][0][0])


def error(call: Any, *args: Any, **kwargs: Any) -> tuple[int, str]:
    with pytest.raises(ClientError) as info:
        call(*args, **kwargs)
    return info.value.error_code, info.value.error_message


def test_exchange_info_allows_icebergs_with_the_iceberg_parts_filter(server: SimServer) -> None:
    info = connector(server).exchange_info(symbol=SYMBOL)["symbols"][0]
    assert info["icebergAllowed"] is True
    filters = {f["filterType"]: f for f in info["filters"]}
    assert filters["ICEBERG_PARTS"] == {"filterType": "ICEBERG_PARTS", "limit": 100}


def test_an_iceberg_limit_is_echoed_everywhere(server: SimServer) -> None:
    spot = connector(server)
    price = str(best(spot, "bids") - 100)
    placed = spot.new_order(SYMBOL, "BUY", "LIMIT", timeInForce="GTC", quantity="0.05",
                            icebergQty="0.01", price=price)
    assert (placed["status"], placed["icebergQty"]) == ("NEW", "0.01000000")
    result = spot.new_order(SYMBOL, "BUY", "LIMIT", timeInForce="GTC", quantity="0.05",
                            icebergQty="0.02", price=price, newOrderRespType="RESULT")
    assert result["icebergQty"] == "0.02000000"
    plain = spot.new_order(SYMBOL, "BUY", "LIMIT", timeInForce="GTC", quantity="0.05",
                           price=price)
    assert "icebergQty" not in plain  # only when the parameter was sent
    assert spot.get_order(SYMBOL, orderId=placed["orderId"])["icebergQty"] == "0.01000000"
    assert spot.get_order(SYMBOL, orderId=plain["orderId"])["icebergQty"] == "0.00000000"
    assert [o["icebergQty"] for o in spot.get_open_orders(SYMBOL)] == [
        "0.01000000", "0.02000000", "0.00000000"]
    assert [o["icebergQty"] for o in spot.get_orders(SYMBOL)] == [
        "0.01000000", "0.02000000", "0.00000000"]
    cancelled = spot.cancel_order(SYMBOL, orderId=placed["orderId"])
    assert cancelled["icebergQty"] == "0.01000000"
    assert "icebergQty" not in spot.cancel_order(SYMBOL, orderId=plain["orderId"])
    # LIMIT_MAKER and STOP_LOSS_LIMIT (GTC) can be icebergs too
    maker = spot.new_order(SYMBOL, "BUY", "LIMIT_MAKER", quantity="0.05", icebergQty="0.01",
                           price=price, newOrderRespType="RESULT")
    stop = spot.new_order(SYMBOL, "SELL", "STOP_LOSS_LIMIT", timeInForce="GTC",
                          quantity="0.05", icebergQty="0.01", price=price,
                          stopPrice=str(Decimal(price) + 1), newOrderRespType="FULL")
    assert maker["icebergQty"] == stop["icebergQty"] == "0.01000000"
    assert spot.get_order(SYMBOL, orderId=stop["orderId"])["icebergQty"] == "0.01000000"


def test_ccxt_iceberg_amount(server: SimServer) -> None:
    ex = ccxt_client(server)
    bid = float(best(connector(server), "bids"))
    order = ex.create_order("BTC/USDT", "limit", "buy", 0.05, round(bid - 100, 2),
                            {"icebergAmount": 0.01})
    assert order["status"] == "open" and order["info"]["icebergQty"] == "0.01000000"
    fetched = ex.fetch_order(order["id"], "BTC/USDT")
    assert fetched["info"]["icebergQty"] == "0.01000000"


def test_an_iceberg_fills_like_its_full_quantity(server: SimServer) -> None:
    spot = connector(server)
    (p0, q0), (p1, _) = [(Decimal(p), Decimal(q))
                         for p, q in spot.depth(SYMBOL, limit=5)["asks"][:2]]
    qty = q0 + Decimal("0.01")
    iceberg = spot.new_order(SYMBOL, "BUY", "LIMIT", timeInForce="GTC", quantity=str(qty),
                             icebergQty=str((qty / 4).quantize(Decimal("0.00001"))),
                             price=str(p1))
    plain = spot.new_order(SYMBOL, "BUY", "LIMIT", timeInForce="GTC", quantity=str(qty),
                           price=str(p1))
    assert iceberg["status"] == plain["status"] == "FILLED"
    assert [(f["price"], f["qty"]) for f in iceberg["fills"]] == [
        (f["price"], f["qty"]) for f in plain["fills"]] == [
        (f"{p0:.8f}", f"{q0:.8f}"), (f"{p1:.8f}", "0.01000000")]


@pytest.mark.parametrize(("extra", "expected"), [
    ({"type": "LIMIT", "timeInForce": "IOC"}, (-2010, "Unsupported order combination")),
    ({"type": "LIMIT", "timeInForce": "FOK"}, (-2010, "Unsupported order combination")),
    ({"type": "MARKET"}, (-2010, "Unsupported order combination")),
    ({"type": "LIMIT", "timeInForce": "GTC", "icebergQty": "0.05"},
     (-2010, "IcebergQty exceeds QTY.")),
    ({"type": "LIMIT", "timeInForce": "GTC", "icebergQty": "0.000015"},
     (-1013, "Filter failure: LOT_SIZE")),
    ({"type": "LIMIT", "timeInForce": "GTC", "icebergQty": "0"},
     (-1013, "Filter failure: LOT_SIZE")),
    ({"type": "LIMIT", "timeInForce": "GTC", "icebergQty": "0.0004"},
     (-1013, "Filter failure: ICEBERG_PARTS")),  # CEIL(0.05 / 0.0004) = 125 parts > 100
    ({"type": "LIMIT", "timeInForce": "GTC", "icebergQty": "-0.01"}, (-1100, None)),
])
def test_iceberg_rejections(server: SimServer, extra: dict[str, str],
                            expected: tuple[int, str | None]) -> None:
    spot = connector(server)
    params = {"quantity": "0.05", "icebergQty": "0.01", **extra}
    if params["type"] == "LIMIT":
        params["price"] = str(best(spot, "bids") - 100)
    type_ = params.pop("type")
    for call in (spot.new_order, spot.new_order_test):
        code, msg = error(call, SYMBOL, "BUY", type_, **params)
        assert code == expected[0] and (expected[1] is None or msg == expected[1])
    assert spot.get_open_orders(SYMBOL) == []


def test_exactly_iceberg_parts_is_accepted(server: SimServer) -> None:
    spot = connector(server)
    price = str(best(spot, "bids") - 100)
    placed = spot.new_order(SYMBOL, "BUY", "LIMIT", timeInForce="GTC", quantity="0.05",
                            icebergQty="0.0005", price=price)  # exactly 100 parts
    assert placed["icebergQty"] == "0.00050000"


def test_a_symbol_without_icebergs_refuses_them() -> None:
    srv = serve(seed=32, fill_model="book", balances=BIG,
                markets={"BTC/USDT": {"start_price": 60_000.0, "iceberg_allowed": False}})
    try:
        spot = connector(srv)
        assert spot.exchange_info(symbol=SYMBOL)["symbols"][0]["icebergAllowed"] is False
        price = str(best(spot, "bids") - 100)
        assert error(spot.new_order, SYMBOL, "BUY", "LIMIT", timeInForce="GTC",
                     quantity="0.05", icebergQty="0.01", price=price) == (
            -2010, "Iceberg orders are not supported for this symbol.")
        assert spot.new_order(SYMBOL, "BUY", "LIMIT", timeInForce="GTC", quantity="0.05",
                              price=price)["status"] == "NEW"
    finally:
        srv.stop()


def test_order_list_legs_take_iceberg_quantities(server: SimServer) -> None:
    spot = connector(server)
    last = Decimal(spot.ticker_price(SYMBOL)["price"])
    ask = best(spot, "asks")
    placed = spot.new_oco_order(SYMBOL, "SELL", "0.05", "LIMIT_MAKER", "STOP_LOSS_LIMIT",
                                abovePrice=str(ask + 100), aboveIcebergQty="0.01",
                                belowStopPrice=str(last - 100), belowPrice=str(last - 110),
                                belowTimeInForce="GTC", belowIcebergQty="0.02")
    stop, limit = placed["orderReports"]
    assert (stop["icebergQty"], limit["icebergQty"]) == ("0.02000000", "0.01000000")
    assert spot.get_order(SYMBOL, orderId=stop["orderId"])["icebergQty"] == "0.02000000"
    code, msg = error(spot.new_oco_order, SYMBOL, "SELL", "0.05", "LIMIT_MAKER",
                      "STOP_LOSS_LIMIT", abovePrice=str(ask + 100), belowStopPrice=str(last - 100),
                      belowPrice=str(last - 110), belowTimeInForce="IOC",
                      belowIcebergQty="0.02")
    assert (code, msg) == (-1160, "Parameter 'belowIcebergQty' is not supported if "
                                  "aboveTimeInForce/belowTimeInForce is not GTC.")
