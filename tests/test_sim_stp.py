"""Self-trade prevention on the simulator (Binance's faqs/stp_faq.md): a new order that reaches a
resting order of the same account meets its STP mode (EXPIRE_MAKER by default, EXPIRE_TAKER,
EXPIRE_BOTH, DECREMENT, TRANSFER, NONE = the self-trade happens), with EXPIRED_IN_MATCH,
preventedMatchId / preventedQuantity, FULL's preventedMatches and GET myPreventedMatches; and
the expiryReason of orders that expire by their own rules.

Over HTTP with binance-connector and ccxt on a real-clock server (the market moves only a minute
after it starts, so each test sees one fixed book and computes its expectations from the depth
it serves); the reaction of an order list to a leg STP expired in process, through the same
handlers.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from binance.error import ClientError
from sim_clock import BIG, moving
from test_sim_conformance import ccxt_client, connector, serve

from adapters.sim.server import SimServer

SYMBOL = "BTCUSDT"


@pytest.fixture
def server() -> Iterator[SimServer]:
    srv = serve(seed=21, fill_model="book", balances=BIG)
    yield srv
    srv.stop()


def levels(spot: Any, side: str, n: int = 3) -> list[tuple[Decimal, Decimal]]:
    return [(Decimal(p), Decimal(q)) for p, q in spot.depth(SYMBOL, limit=5)[side][:n]]


def locked(spot: Any, asset: str) -> Decimal:
    return next(Decimal(b["locked"]) for b in spot.account()["balances"] if b["asset"] == asset)


def rest_sell(spot: Any, qty: str, price: Decimal, **extra: Any) -> int:
    """A resting SELL of the account's own (at or above the ask: the synthetic bids never cross
    it this minute)."""
    placed = spot.new_order(SYMBOL, "SELL", "LIMIT", timeInForce="GTC", quantity=qty,
                            price=str(price), **extra)
    assert placed["status"] == "NEW"
    return int(placed["orderId"])


def prevented(spot: Any, **params: Any) -> list[dict[str, Any]]:
    return spot.query_prevented_matches(SYMBOL, **params)


def test_exchange_info_lists_the_stp_modes_and_refuses_others(server: SimServer) -> None:
    spot = connector(server)
    info = spot.exchange_info(symbol=SYMBOL)["symbols"][0]
    assert info["defaultSelfTradePreventionMode"] == "EXPIRE_MAKER"
    assert info["allowedSelfTradePreventionModes"] == [
        "NONE", "EXPIRE_TAKER", "EXPIRE_MAKER", "EXPIRE_BOTH", "DECREMENT", "TRANSFER"]
    with pytest.raises(ClientError) as err:
        spot.new_order(SYMBOL, "BUY", "MARKET", quantity="0.001",
                       selfTradePreventionMode="SOMETIMES")
    assert err.value.error_code == -1130


def test_expire_maker_by_default_expires_the_resting_order_and_walks_on(
        server: SimServer) -> None:
    spot = connector(server)
    (ask, _), = levels(spot, "asks", 1)
    maker = rest_sell(spot, "0.01", ask)  # at the synthetic best ask: met before that level
    assert locked(spot, "BTC") == Decimal("0.01")
    taker = spot.new_order(SYMBOL, "BUY", "LIMIT", timeInForce="GTC", quantity="0.02",
                           price=str(ask))
    assert (taker["status"], taker["executedQty"], taker["selfTradePreventionMode"]) == (
        "FILLED", "0.02000000", "EXPIRE_MAKER")
    assert [(Decimal(f["price"]), f["qty"]) for f in taker["fills"]] == [(ask, "0.02000000")]
    match = {"preventedMatchId": 0, "makerSymbol": SYMBOL, "makerOrderId": maker,
             "price": f"{ask:.8f}", "makerPreventedQuantity": "0.01000000"}
    assert taker["preventedMatches"] == [match]
    assert "preventedQuantity" not in taker  # the taker lost nothing
    expired = spot.get_order(SYMBOL, orderId=maker)
    assert (expired["status"], expired["executedQty"], expired["preventedMatchId"],
            expired["preventedQuantity"]) == ("EXPIRED_IN_MATCH", "0.00000000", 0, "0.01000000")
    assert "expiryReason" not in expired
    assert locked(spot, "BTC") == 0  # the expired maker gave its lock back
    assert spot.get_open_orders(SYMBOL) == []
    assert [o["status"] for o in spot.get_orders(SYMBOL)] == ["EXPIRED_IN_MATCH", "FILLED"]
    row = {"symbol": SYMBOL, "preventedMatchId": 0, "takerOrderId": taker["orderId"],
           "makerSymbol": SYMBOL, "makerOrderId": maker, "tradeGroupId": -1,
           "selfTradePreventionMode": "EXPIRE_MAKER", "price": f"{ask:.8f}",
           "makerPreventedQuantity": "0.01000000"}
    by_id = prevented(spot, preventedMatchId=0)
    assert by_id == [{**row, "transactTime": by_id[0]["transactTime"]}]
    assert prevented(spot, orderId=maker) == prevented(spot, orderId=taker["orderId"]) == by_id
    assert prevented(spot, orderId=maker, fromPreventedMatchId=1) == []


def test_expire_taker_with_ccxt_keeps_the_maker(server: SimServer) -> None:
    spot, ex = connector(server), ccxt_client(server)
    (ask, _), = levels(spot, "asks", 1)
    maker = rest_sell(spot, "0.01", ask)
    order = ex.create_order("BTC/USDT", "limit", "buy", 0.02, float(ask),
                            {"selfTradePrevention": "expire_taker"})
    assert (order["status"], order["filled"]) == ("expired", 0.0)  # EXPIRED_IN_MATCH
    info = order["info"]
    assert (info["status"], info["preventedQuantity"], info["fills"]) == (
        "EXPIRED_IN_MATCH", "0.02000000", [])
    assert info["preventedMatches"] == [{"preventedMatchId": 0, "makerSymbol": SYMBOL,
                                         "makerOrderId": maker, "price": f"{ask:.8f}",
                                         "takerPreventedQuantity": "0.02000000"}]
    kept = spot.get_order(SYMBOL, orderId=maker)
    assert kept["status"] == "NEW" and "preventedQuantity" not in kept
    assert locked(spot, "USDT") == 0  # the taker did not rest
    queried = spot.get_order(SYMBOL, orderId=int(order["id"]))
    assert (queried["preventedMatchId"], queried["preventedQuantity"]) == (0, "0.02000000")
    assert ex.fetch_order(order["id"], "BTC/USDT")["status"] == "expired"
    rows = ex.private_get_mypreventedmatches({"symbol": SYMBOL, "orderId": order["id"]})
    assert [(r["selfTradePreventionMode"], r.get("takerPreventedQuantity"),
             r.get("makerPreventedQuantity")) for r in rows] == [
        ("EXPIRE_TAKER", "0.02000000", None)]


def test_expire_both_after_a_partial_fill_from_the_book(server: SimServer) -> None:
    spot = connector(server)
    (p0, q0), (p1, _) = levels(spot, "asks", 2)
    maker = rest_sell(spot, "0.005", p1)  # behind level 0, ahead of level 1
    qty = q0 + Decimal("0.01")
    taker = spot.new_order(SYMBOL, "BUY", "LIMIT", timeInForce="GTC", quantity=str(qty),
                           price=str(p1), selfTradePreventionMode="EXPIRE_BOTH")
    assert (taker["status"], Decimal(taker["executedQty"]), taker["preventedQuantity"]) == (
        "EXPIRED_IN_MATCH", q0, "0.01000000")
    assert [(Decimal(f["price"]), Decimal(f["qty"])) for f in taker["fills"]] == [(p0, q0)]
    assert taker["preventedMatches"][0]["takerPreventedQuantity"] == "0.01000000"
    assert taker["preventedMatches"][0]["makerPreventedQuantity"] == "0.00500000"
    assert spot.get_order(SYMBOL, orderId=maker)["status"] == "EXPIRED_IN_MATCH"
    assert locked(spot, "BTC") == locked(spot, "USDT") == 0


def test_decrement_and_transfer_prevent_the_smaller_quantity(server: SimServer) -> None:
    spot = connector(server)
    (ask, _), = levels(spot, "asks", 1)
    maker = rest_sell(spot, "0.03", ask)
    small = spot.new_order(SYMBOL, "BUY", "MARKET", quantity="0.01",
                           selfTradePreventionMode="DECREMENT")
    assert (small["status"], small["preventedQuantity"], small["executedQty"]) == (
        "EXPIRED_IN_MATCH", "0.01000000", "0.00000000")
    assert small["preventedMatches"][0]["makerPreventedQuantity"] == "0.01000000"
    resting = spot.get_order(SYMBOL, orderId=maker)
    assert (resting["status"], resting["preventedMatchId"], resting["preventedQuantity"]) == (
        "NEW", 0, "0.01000000")  # still on the book, with less to give
    assert locked(spot, "BTC") == Decimal("0.02")
    # TRANSFER against a maker that is not TRANSFER counts as DECREMENT (stp_faq.md's table)
    big = spot.new_order(SYMBOL, "BUY", "LIMIT", timeInForce="GTC", quantity="0.05",
                         price=str(ask), selfTradePreventionMode="TRANSFER")
    assert (big["status"], big["executedQty"], big["preventedQuantity"]) == (
        "FILLED", "0.03000000", "0.02000000")
    assert big["preventedMatches"] == [{"preventedMatchId": 1, "makerSymbol": SYMBOL,
                                        "makerOrderId": maker, "price": f"{ask:.8f}",
                                        "takerPreventedQuantity": "0.02000000",
                                        "makerPreventedQuantity": "0.02000000"}]
    gone = spot.get_order(SYMBOL, orderId=maker)
    assert (gone["status"], gone["preventedMatchId"], gone["preventedQuantity"]) == (
        "EXPIRED_IN_MATCH", 1, "0.03000000")
    assert locked(spot, "BTC") == 0
    assert [r["selfTradePreventionMode"] for r in prevented(spot, orderId=maker)] == [
        "DECREMENT", "DECREMENT"]


def test_an_amended_order_keeps_its_prevented_quantity(server: SimServer) -> None:
    spot = connector(server)
    (ask, _), = levels(spot, "asks", 1)
    maker = rest_sell(spot, "0.03", ask)
    spot.new_order(SYMBOL, "BUY", "MARKET", quantity="0.01", selfTradePreventionMode="DECREMENT")
    amended = spot.sign_request("PUT", "/api/v3/order/amend/keepPriority",
                                {"symbol": SYMBOL, "orderId": maker, "newQty": "0.025"})
    assert (amended["amendedOrder"]["qty"], amended["amendedOrder"]["preventedQty"]) == (
        "0.02500000", "0.01000000")
    assert locked(spot, "BTC") == Decimal("0.015")  # quantity - prevented quantity


def test_none_lets_the_self_trade_happen(server: SimServer) -> None:
    spot = connector(server)
    (ask, _), = levels(spot, "asks", 1)
    maker = rest_sell(spot, "0.01", ask, selfTradePreventionMode="NONE")
    taker = spot.new_order(SYMBOL, "BUY", "LIMIT", timeInForce="GTC", quantity="0.004",
                           price=str(ask), selfTradePreventionMode="NONE")
    assert taker["status"] == "FILLED" and "preventedMatches" not in taker
    (fill,) = taker["fills"]
    assert (Decimal(fill["price"]), fill["qty"]) == (ask, "0.00400000")
    half = spot.get_order(SYMBOL, orderId=maker)
    assert (half["status"], half["executedQty"]) == ("PARTIALLY_FILLED", "0.00400000")
    rows = spot.my_trades(SYMBOL)
    assert [(t["id"], t["orderId"], t["isBuyer"], t["isMaker"]) for t in rows] == [
        (fill["tradeId"], taker["orderId"], True, False),
        (fill["tradeId"], maker, False, True)]  # one trade, both sides of it
    assert Decimal(rows[1]["commission"]) == (Decimal("0.004") * ask * Decimal("0.001")
                                              ).quantize(Decimal("1e-8"))
    assert locked(spot, "BTC") == Decimal("0.006")
    assert prevented(spot, orderId=maker) == []


def test_a_quote_order_qty_sell_meets_an_own_buy(server: SimServer) -> None:
    spot = connector(server)
    (bid, _), = levels(spot, "bids", 1)
    maker = spot.new_order(SYMBOL, "BUY", "LIMIT", timeInForce="GTC", quantity="0.01",
                           price=str(bid))["orderId"]
    sold = spot.new_order(SYMBOL, "SELL", "MARKET", quoteOrderQty="1000")  # EXPIRE_MAKER
    qty = (Decimal(1000) / bid).quantize(Decimal("0.00001"), rounding="ROUND_DOWN")
    assert (sold["status"], Decimal(sold["executedQty"]), Decimal(sold["origQty"])) == (
        "FILLED", qty, qty)
    assert {Decimal(f["price"]) for f in sold["fills"]} == {bid}  # the synthetic bid level
    assert sold["preventedMatches"][0]["makerPreventedQuantity"] == "0.01000000"
    assert spot.get_order(SYMBOL, orderId=maker)["status"] == "EXPIRED_IN_MATCH"
    assert locked(spot, "USDT") == 0


def test_limit_maker_that_would_trade_with_an_own_order_is_rejected(server: SimServer) -> None:
    spot = connector(server)
    (bid, _), = levels(spot, "bids", 1)
    (ask, _), = levels(spot, "asks", 1)
    assert ask - bid > Decimal("0.02")
    inside = ask - Decimal("0.01")  # inside the spread: the best ask now is the account's
    rest_sell(spot, "0.01", inside)
    with pytest.raises(ClientError) as err:
        spot.new_order(SYMBOL, "BUY", "LIMIT_MAKER", quantity="0.01", price=str(inside))
    assert (err.value.error_code, err.value.error_message) == (
        -2010, "Order would immediately match and take.")
    # a plain LIMIT there meets the own order (default EXPIRE_MAKER) and rests
    placed = spot.new_order(SYMBOL, "BUY", "LIMIT", timeInForce="GTC", quantity="0.01",
                            price=str(inside))
    assert placed["status"] == "NEW" and len(placed["preventedMatches"]) == 1


def test_fok_that_cannot_fill_whole_meets_nothing(server: SimServer) -> None:
    spot = connector(server)
    (ask, _), = levels(spot, "asks", 1)
    maker = rest_sell(spot, "0.01", ask)
    fok = spot.new_order(SYMBOL, "BUY", "LIMIT", timeInForce="FOK", quantity="0.02",
                         price=str(ask), selfTradePreventionMode="EXPIRE_TAKER")
    assert (fok["status"], fok["fills"], fok["expiryReason"]) == (
        "EXPIRED", [], "UNFILLED_FOK_ORDER_EXPIRED")
    assert "preventedMatches" not in fok
    assert spot.get_order(SYMBOL, orderId=maker)["status"] == "NEW"


def test_expiry_reasons_of_orders_that_expire_by_their_rules(server: SimServer) -> None:
    spot = connector(server)
    (p0, q0), (p1, _) = levels(spot, "asks", 2)
    ioc = spot.new_order(SYMBOL, "BUY", "LIMIT", timeInForce="IOC", quantity=str(q0 + 1),
                         price=str(p0))
    assert (ioc["status"], ioc["expiryReason"]) == ("EXPIRED", "UNFILLED_IOC_QUANTITY_EXPIRED")
    assert spot.get_order(SYMBOL, orderId=ioc["orderId"])["expiryReason"] == (
        "UNFILLED_IOC_QUANTITY_EXPIRED")
    ack = spot.new_order(SYMBOL, "BUY", "LIMIT", timeInForce="IOC", quantity=str(q0 + 1),
                         price=str(p0), newOrderRespType="ACK")
    assert "expiryReason" not in ack
    filled = spot.new_order(SYMBOL, "BUY", "LIMIT", timeInForce="IOC", quantity="0.001",
                            price=str(p1), newOrderRespType="RESULT")
    assert filled["status"] == "FILLED" and "expiryReason" not in filled


def test_an_oco_leg_expired_by_stp_ends_its_list() -> None:
    _, sim, eps = moving(seed=9)
    bid, ask, last = sim.market.quote("BTC/USDT")
    placed = eps.lists.oco({"symbol": SYMBOL, "side": "SELL", "quantity": "0.01",
                            "aboveType": "LIMIT_MAKER", "abovePrice": f"{ask:.2f}",
                            "belowType": "STOP_LOSS", "belowStopPrice": f"{last - 50:.2f}"})
    stop_id, limit_id = (o["orderId"] for o in placed["orders"])
    taker = eps.account.new_order({"symbol": SYMBOL, "side": "BUY", "type": "MARKET",
                                   "quantity": "0.02"})
    assert taker["preventedMatches"][0]["makerOrderId"] == limit_id
    limit = eps.account.query_order({"symbol": SYMBOL, "orderId": str(limit_id)})
    stop = eps.account.query_order({"symbol": SYMBOL, "orderId": str(stop_id)})
    assert (limit["status"], limit["orderListId"]) == ("EXPIRED_IN_MATCH", 1)
    assert (stop["status"], stop["expiryReason"]) == ("EXPIRED", "OCO_TRIGGER")
    assert eps.listq.query_list({"orderListId": "1"})["listOrderStatus"] == "ALL_DONE"
    assert bid < ask
