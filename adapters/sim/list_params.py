"""The request parameters of the order-list endpoints (POST orderList/oco, oto, otoco).

Split from the handlers (order_lists.py): reading a list's legs from their prefixed parameters
(above*/below*, working*/pending*; the deprecated POST order/oco's price, stopPrice,
stopLimitPrice, limit*/stop*) and checking them the way Binance does (what a leg's type needs
must be there; an OCO's prices must bracket the last price; a leg's `<prefix>IcebergQty` as
iceberg.py checks an icebergQty) is a job of its own.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from adapters.sim import binance_wire as wire
from adapters.sim.iceberg import iceberg_qty
from adapters.sim.list_book import OCO_TYPES, STOP_TYPES
from adapters.sim.params import float_param
from adapters.sim.stop_orders import stop_params


def bad_prices() -> wire.ApiError:
    return wire.ApiError(400, -2010, "The relationship of the prices for the orders is not "
                                     "correct.")


def response_type(params: Mapping[str, str]) -> str:
    """newOrderRespType: FULL when absent; ACK, RESULT or FULL, else -1100."""
    resp = (params.get("newOrderRespType") or "FULL").upper()
    if resp not in ("ACK", "RESULT", "FULL"):
        raise wire.ApiError(400, -1100, "Illegal characters found in parameter "
                                        "'newOrderRespType'.")
    return resp


def quantity_param(params: Mapping[str, str], name: str) -> float:
    """A mandatory quantity (-1102 when absent)."""
    if name not in params:
        raise wire.missing(name)
    return float_param(params, name)


def leg_spec(params: Mapping[str, str], prefix: str, types: tuple[str, ...], side: str,
             quantity: float, new_id: Callable[[], str],
             market: Mapping[str, Any]) -> dict[str, Any]:
    """One leg's parameters (`prefix` + Type, Price, StopPrice, TimeInForce, ClientOrderId,
    IcebergQty) checked as Binance does: what its type needs must be there."""
    type_ = (params.get(f"{prefix}Type") or "").upper()
    if not type_:
        raise wire.missing(f"{prefix}Type")
    if type_ not in types:
        raise wire.ApiError(400, -1116, "Invalid orderType.")
    price = float_param(params, f"{prefix}Price") if f"{prefix}Price" in params else None
    stop = (float_param(params, f"{prefix}StopPrice") if f"{prefix}StopPrice" in params
            else None)
    tif = params.get(f"{prefix}TimeInForce")
    limit_priced = ("LIMIT", "LIMIT_MAKER", "STOP_LOSS_LIMIT", "TAKE_PROFIT_LIMIT")
    if type_ in limit_priced and price is None:
        raise wire.missing(f"{prefix}Price")
    if type_ in STOP_TYPES and stop is None:
        raise wire.missing(f"{prefix}StopPrice")
    if type_ in ("LIMIT", "STOP_LOSS_LIMIT", "TAKE_PROFIT_LIMIT") and not tif:
        raise wire.missing(f"{prefix}TimeInForce")
    if tif and tif not in ("GTC", "IOC", "FOK"):
        raise wire.ApiError(400, -1115, "Invalid timeInForce.")
    if type_ in ("STOP_LOSS", "TAKE_PROFIT", "MARKET") and price is not None:
        raise wire.not_required(f"{prefix}Price")
    return leg(type_, side, quantity, price, stop, tif, params.get(f"{prefix}ClientOrderId")
               or new_id(), iceberg_qty(params, f"{prefix}IcebergQty", type_, tif, quantity,
                                        market, leg=True))


def leg(type_: str, side: str, quantity: float, price: float | None, stop: float | None,
        tif: str | None, cid: str, iceberg: float | None) -> dict[str, Any]:
    """A checked leg as order_lists.py places it."""
    return {"type": type_, "side": side, "quantity": quantity, "price": price, "stop": stop,
            "tif": tif or "GTC", "cid": cid, "iceberg": iceberg}


def oco_pair(params: Mapping[str, str], side: str, quantity: float, prefix_above: str,
             prefix_below: str, last_price: Callable[[], float], new_id: Callable[[], str],
             market: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The OCO's (below, above) legs, their types and prices checked against the last
    price: SELL limit/take-profit above > last > stop below; BUY the mirror (-2010)."""
    above = leg_spec(params, prefix_above, OCO_TYPES, side, quantity, new_id, market)
    below = leg_spec(params, prefix_below, OCO_TYPES, side, quantity, new_id, market)
    profit = ("LIMIT_MAKER", "TAKE_PROFIT", "TAKE_PROFIT_LIMIT")
    upper, lower = (above, below) if side == "SELL" else (below, above)
    if upper["type"] not in profit or lower["type"] in profit:
        raise bad_prices()
    last = last_price()

    def ref(leg: Mapping[str, Any]) -> float:
        limit = leg["type"] in ("LIMIT_MAKER", "TAKE_PROFIT_LIMIT")
        return float(leg["price"] if limit else leg["stop"])

    if not ref(above) > last > ref(below):
        raise bad_prices()
    return below, above


def legacy_oco(params: Mapping[str, str], side: str, last_price: Callable[[], float],
               new_id: Callable[[], str],
               market: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The deprecated POST order/oco's (stop, limit) legs: a LIMIT_MAKER at `price` and a
    STOP_LOSS at `stopPrice` (STOP_LOSS_LIMIT at `stopLimitPrice`, which needs
    `stopLimitTimeInForce`), both of `quantity`; SELL: price > last > stopPrice, BUY the mirror
    (-2010).  trailingDelta is read for its range only (lists do not trail, see order_lists)."""
    for name in ("quantity", "price", "stopPrice"):
        if name not in params:
            raise wire.missing(name)
    quantity = float_param(params, "quantity")
    price, stop = float_param(params, "price"), float_param(params, "stopPrice")
    stop_limit = (float_param(params, "stopLimitPrice") if "stopLimitPrice" in params
                  else None)
    tif = params.get("stopLimitTimeInForce")
    if stop_limit is not None and not tif:
        raise wire.missing("stopLimitTimeInForce")
    if stop_limit is None and tif:
        raise wire.not_required("stopLimitTimeInForce")
    if tif and tif not in ("GTC", "IOC", "FOK"):
        raise wire.ApiError(400, -1115, "Invalid timeInForce.")
    if "trailingDelta" in params:
        stop_params("STOP_LOSS", {"stopPrice": params["stopPrice"],
                                  "trailingDelta": params["trailingDelta"]})
    stop_type = "STOP_LOSS_LIMIT" if stop_limit is not None else "STOP_LOSS"
    limit_leg = leg("LIMIT_MAKER", side, quantity, price, None, None,
                    params.get("limitClientOrderId") or new_id(),
                    iceberg_qty(params, "limitIcebergQty", "LIMIT_MAKER", None, quantity, market,
                                leg=True))
    stop_leg = leg(stop_type, side, quantity, stop_limit, stop, tif,
                   params.get("stopClientOrderId") or new_id(),
                   iceberg_qty(params, "stopIcebergQty", stop_type, tif, quantity, market,
                               leg=True))
    last = last_price()
    if not (price > last > stop if side == "SELL" else price < last < stop):
        raise bad_prices()
    return stop_leg, limit_leg
