"""Binance spot REST shapes of the account, its orders, trades and commissions (SIGNED answers).

Pure functions over the core's ccxt-shaped orders and trades; split from binance_wire.py (market
data, errors, numbers) so each file stays readable.  An order that is a leg of an order list is
rendered with its `list_id` (else -1) and, while an OTO's pending order, as PENDING_NEW; the
conditional fields of rest-api.md ("Conditional fields in Order Responses") appear as Binance
sends them: `icebergQty` in placement and cancel answers only when the order has one (queries
always carry it, 0 without), `preventedMatchId`/`preventedQuantity` once STP took quantity from
the order (a placement answer: `preventedQuantity` and, FULL, `preventedMatches`), and
`expiryReason` on an EXPIRED order.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from adapters.sim.binance_wire import num, wire_symbol
from adapters.sim.self_trade import NO_TRADE_GROUP, PreventedMatch

STATUS_TO_WIRE = {"open": "NEW", "closed": "FILLED", "canceled": "CANCELED",
                  "expired": "EXPIRED"}


def wire_status(order: Mapping[str, Any], pending: bool = False) -> str:
    """Binance's status: an open order with fills is PARTIALLY_FILLED, an OTO's held pending
    order PENDING_NEW, an order STP expired EXPIRED_IN_MATCH."""
    status = STATUS_TO_WIRE.get(order["status"], "NEW")
    if status == "NEW" and pending:
        return "PENDING_NEW"
    if status == "EXPIRED" and order.get("expiredInMatch"):
        return "EXPIRED_IN_MATCH"
    return "PARTIALLY_FILLED" if status == "NEW" and order.get("filled") else status


def account(
    balances: Mapping[str, Mapping[str, float]], now: int, taker: float, maker: float,
    omit_zero: bool = False,
) -> dict[str, Any]:
    """GET account's answer (commissions in Binance's basis points and decimal rates)."""
    rows = [{"asset": c, "free": num(b["free"]), "locked": num(b["used"])}
            for c, b in balances.items()]
    if omit_zero:
        rows = [r for r in rows if float(r["free"]) or float(r["locked"])]
    return {
        "makerCommission": round(maker * 10_000), "takerCommission": round(taker * 10_000),
        "buyerCommission": 0, "sellerCommission": 0,
        "commissionRates": {"maker": num(maker), "taker": num(taker), "buyer": num(0),
                            "seller": num(0)},
        "canTrade": True, "canWithdraw": False, "canDeposit": False, "brokered": False,
        "requireSelfTradePrevention": False, "preventSor": False, "updateTime": now,
        "accountType": "SPOT", "balances": rows, "permissions": ["SPOT"], "uid": 1,
    }


def _order_core(order: Mapping[str, Any], order_id: int, wire_type: str, list_id: int = -1,
                pending: bool = False) -> dict[str, Any]:
    market_type = order["type"] == "market"
    return {
        "symbol": wire_symbol(order["symbol"]), "orderId": order_id, "orderListId": list_id,
        "clientOrderId": order["clientOrderId"],
        "price": num(0.0 if market_type else order["price"]), "origQty": num(order["amount"]),
        "executedQty": num(order["filled"]),
        "origQuoteOrderQty": num(order.get("quoteOrderQty") or 0.0),
        "cummulativeQuoteQty": num(order["cost"]),
        "status": wire_status(order, pending),
        "timeInForce": order.get("timeInForce") or "GTC", "type": wire_type,
        "side": order["side"].upper(),
        "selfTradePreventionMode": order.get("selfTradePreventionMode") or "NONE",
    }


def _conditional(order: Mapping[str, Any], query: bool) -> dict[str, Any]:
    """icebergQty, preventedMatchId/preventedQuantity and expiryReason, when they apply
    (`query`: GET order, openOrders, allOrders and cancels; else a placement answer)."""
    body: dict[str, Any] = {}
    if query or order.get("icebergQty"):
        body["icebergQty"] = num(order.get("icebergQty") or 0.0)
    if order.get("preventedQuantity"):
        if query:
            body["preventedMatchId"] = order["preventedMatchId"]
        body["preventedQuantity"] = num(order["preventedQuantity"])
    if order.get("expiryReason") and wire_status(order) == "EXPIRED":
        body["expiryReason"] = order["expiryReason"]
    return body


def prevented_entry(row: PreventedMatch) -> dict[str, Any]:
    """One of a FULL placement answer's `preventedMatches` (the taker's side of it)."""
    body: dict[str, Any] = {"preventedMatchId": row.match_id,
                            "makerSymbol": wire_symbol(row.symbol), "makerOrderId": row.maker_id,
                            "price": num(row.price)}
    if row.taker_qty:
        body["takerPreventedQuantity"] = num(row.taker_qty)
    if row.maker_qty:
        body["makerPreventedQuantity"] = num(row.maker_qty)
    return body


def prevented_match(row: PreventedMatch) -> dict[str, Any]:
    """One row of GET myPreventedMatches."""
    body = {"symbol": wire_symbol(row.symbol), "preventedMatchId": row.match_id,
            "takerOrderId": row.taker_id, "makerSymbol": wire_symbol(row.symbol),
            "makerOrderId": row.maker_id, "tradeGroupId": NO_TRADE_GROUP,
            "selfTradePreventionMode": row.mode, "price": num(row.price)}
    if row.taker_qty:
        body["takerPreventedQuantity"] = num(row.taker_qty)
    if row.maker_qty:
        body["makerPreventedQuantity"] = num(row.maker_qty)
    return {**body, "transactTime": row.time}


def fills(trades: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The `fills` of a FULL order answer: the order's trades so far."""
    return [{"price": num(t["price"]), "qty": num(t["amount"]), "commission": num(t["fee"]["cost"]),
             "commissionAsset": t["fee"]["currency"], "tradeId": int(t["id"])} for t in trades]


def new_order(
    order: Mapping[str, Any], order_id: int, wire_type: str, resp_type: str = "FULL",
    trades: Iterable[Mapping[str, Any]] = (), list_id: int = -1, pending: bool = False,
    prevented: Iterable[PreventedMatch] = (),
) -> dict[str, Any]:
    """POST /api/v3/order's answer in ACK, RESULT or FULL shape (`prevented`: the matches STP
    prevented for this taker, FULL's `preventedMatches`)."""
    ack = {"symbol": wire_symbol(order["symbol"]), "orderId": order_id, "orderListId": list_id,
           "clientOrderId": order["clientOrderId"], "transactTime": order["timestamp"]}
    if resp_type == "ACK":
        return ack
    body = {**_order_core(order, order_id, wire_type, list_id, pending), **ack,
            **_stop_fields(order), "workingTime": _working_time(order),
            **_conditional(order, query=False)}
    if resp_type == "FULL":
        body["fills"] = fills(trades)
        matches = [prevented_entry(row) for row in prevented]
        if matches:
            body["preventedMatches"] = matches
    return body


def query_order(order: Mapping[str, Any], order_id: int, wire_type: str, list_id: int = -1,
                pending: bool = False) -> dict[str, Any]:
    """GET /api/v3/order's answer (and each of openOrders, allOrders)."""
    updated = order.get("lastUpdateTimestamp") or order["timestamp"]
    return {**_order_core(order, order_id, wire_type, list_id, pending),
            "stopPrice": num(order.get("stopPrice") or 0.0), **_stop_fields(order),
            "time": order["timestamp"], "updateTime": updated,
            "isWorking": not order.get("held"), "workingTime": _working_time(order),
            **_conditional(order, query=True)}


def _working_time(order: Mapping[str, Any]) -> int:
    """-1 while the order is held off the book (a stop not triggered yet), as on Binance."""
    if order.get("held"):
        return -1
    return order.get("workingTime") or order["timestamp"]


def _stop_fields(order: Mapping[str, Any]) -> dict[str, Any]:
    """A stop order's stopPrice and trailingDelta / trailingTime (when it has them)."""
    body: dict[str, Any] = {}
    if order.get("stopPrice") is not None:
        body["stopPrice"] = num(order["stopPrice"])
    if order.get("trailingDelta") is not None:
        body.update(trailingDelta=order["trailingDelta"], trailingTime=order["trailingTime"])
    return body


def cancel_order(
    order: Mapping[str, Any], order_id: int, wire_type: str, cancel_id: str, now: int,
    list_id: int = -1,
) -> dict[str, Any]:
    """DELETE /api/v3/order's answer: clientOrderId is the cancel's own id, as on Binance, and
    transactTime the moment of the cancel itself (the order's updateTime, one clock reading)."""
    body = _order_core(order, order_id, wire_type, list_id)
    extra = _conditional(order, query=True)
    if not order.get("icebergQty"):
        extra.pop("icebergQty")
    return {**body, "origClientOrderId": order["clientOrderId"], "clientOrderId": cancel_id,
            "transactTime": order.get("lastUpdateTimestamp") or now, **_stop_fields(order),
            **extra}


def trade(fill: Mapping[str, Any], list_id: int = -1) -> dict[str, Any]:
    """One of the core's fills as a myTrades row (`list_id`: its order's list, else -1)."""
    fee = fill["fee"]
    return {"symbol": wire_symbol(fill["symbol"]), "id": int(fill["id"]),
            "orderId": int(fill["order"]), "orderListId": list_id, "price": num(fill["price"]),
            "qty": num(fill["amount"]), "quoteQty": num(fill["cost"]),
            "commission": num(fee["cost"]), "commissionAsset": fee["currency"],
            "time": fill["timestamp"], "isBuyer": fill["side"] == "buy",
            "isMaker": fill["takerOrMaker"] == "maker", "isBestMatch": True}


def commission_rates(maker: float, taker: float, buyer: float | None = None,
                     seller: float | None = None) -> dict[str, str]:
    """{maker, taker[, buyer, seller]} as Binance's decimal rate strings."""
    rates = {"maker": num(maker), "taker": num(taker)}
    if buyer is not None and seller is not None:
        rates.update(buyer=num(buyer), seller=num(seller))
    return rates


# BNB burn is off in the simulator (it has no BNB balance): Binance's 25 % discount, disabled.
NO_BNB_DISCOUNT = {"enabledForAccount": False, "enabledForSymbol": False,
                   "discountAsset": "BNB", "discount": "0.25000000"}


def account_commission(market: Mapping[str, Any]) -> dict[str, Any]:
    """GET account/commission: the market's maker/taker fee as the standard rates; no special
    or tax commission (zero), no BNB discount."""
    return {"symbol": market["id"],
            "standardCommission": commission_rates(market["maker"], market["taker"], 0.0, 0.0),
            "specialCommission": commission_rates(0.0, 0.0, 0.0, 0.0),
            "taxCommission": commission_rates(0.0, 0.0, 0.0, 0.0),
            "discount": dict(NO_BNB_DISCOUNT)}


def order_commission(market: Mapping[str, Any]) -> dict[str, Any]:
    """POST order/test with computeCommissionRates=true: the rates for that order."""
    return {"standardCommissionForOrder": commission_rates(market["maker"], market["taker"]),
            "specialCommissionForOrder": commission_rates(0.0, 0.0),
            "taxCommissionForOrder": commission_rates(0.0, 0.0),
            "discount": dict(NO_BNB_DISCOUNT)}
