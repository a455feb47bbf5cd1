"""Iceberg orders: the `icebergQty` parameter checked as Binance checks it.

rest-api.md (POST /api/v3/order): any LIMIT or LIMIT_MAKER order, and a STOP_LOSS_LIMIT or
TAKE_PROFIT_LIMIT one, can be an iceberg order by sending `icebergQty`; an order with an
`icebergQty` must have timeInForce GTC.  errors.md and filters.md give the rejections: the
symbol's `icebergAllowed` false: -2010 "Iceberg orders are not supported for this symbol."; an
order type or timeInForce an iceberg cannot have: -2010 "Unsupported order combination" (an
order list's leg whose timeInForce is not GTC: -1160); LOT_SIZE applies to `icebergQty` as to
`quantity` (-1013 "Filter failure: LOT_SIZE"); `icebergQty` must be less than the quantity
(-2010 "IcebergQty exceeds QTY."); CEIL(quantity / icebergQty) may not exceed the symbol's
ICEBERG_PARTS limit (-1013 "Filter failure: ICEBERG_PARTS").

Fills: only the visible part of an iceberg shows in the book to other traders; the simulator's
account trades against a synthetic book that does not react to what it shows, so an iceberg
order fills exactly as an order of its full quantity would (docs/ADAPTERS.md).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from adapters.sim import binance_wire as wire
from adapters.sim.binance_wire import ICEBERG_PARTS
from adapters.sim.filters import on_grid
from adapters.sim.params import float_param

ICEBERG_TYPES = ("LIMIT", "LIMIT_MAKER", "STOP_LOSS_LIMIT", "TAKE_PROFIT_LIMIT")


def rejected(msg: str) -> wire.ApiError:
    return wire.ApiError(400, -2010, msg)


def iceberg_qty(params: Mapping[str, str], name: str, wire_type: str, time_in_force: str | None,
                quantity: float, market: Mapping[str, Any], *, leg: bool = False) -> float | None:
    """The order's icebergQty (None when `name` was not sent), or Binance's rejection (`leg`:
    an order list's leg, whose timeInForce other than GTC is -1160)."""
    if name not in params:
        return None
    qty = float_param(params, name)
    if qty < 0:
        raise wire.illegal(name)
    if not market.get("info", {}).get("icebergAllowed", True):
        raise rejected("Iceberg orders are not supported for this symbol.")
    if wire_type not in ICEBERG_TYPES:
        raise rejected("Unsupported order combination")
    if wire_type != "LIMIT_MAKER" and (time_in_force or "GTC") != "GTC":
        if leg:
            raise wire.ApiError(400, -1160, f"Parameter '{name}' is not supported if "
                                            "aboveTimeInForce/belowTimeInForce is not GTC.")
        raise rejected("Unsupported order combination")
    lot, step = market["limits"]["amount"], market["precision"]["amount"]
    if not (lot["min"] <= qty <= lot["max"] and on_grid(qty, step)):
        raise wire.ApiError(400, -1013, "Filter failure: LOT_SIZE")
    if qty >= quantity:
        raise rejected("IcebergQty exceeds QTY.")
    if math.ceil(round(quantity / qty, 9)) > ICEBERG_PARTS:
        raise wire.ApiError(400, -1013, "Filter failure: ICEBERG_PARTS")
    return qty
