"""Standalone stop orders on POST /api/v3/order: STOP_LOSS[_LIMIT] and TAKE_PROFIT[_LIMIT].

Parameters (Binance's spot REST docs): STOP_LOSS / TAKE_PROFIT need quantity and stopPrice or
trailingDelta; the _LIMIT kinds also timeInForce and price.  Neither stopPrice nor
trailingDelta: -1102; stopPrice or trailingDelta on another type, price on STOP_LOSS /
TAKE_PROFIT, timeInForce on a non-limit kind, quoteOrderQty on any stop kind: -1106.
trailingDelta (basis points) must lie within the symbol's TRAILING_DELTA filter (10..2000):
else -1013 "Filter failure: TRAILING_DELTA".  A stopPrice the last price has already reached
(no trailingDelta): -2010 "Order would trigger immediately.".

Model.  The order is accepted as NEW and held off the book (Simulator.hold_order: open,
listed by GET order / openOrders with its stopPrice, cancellable, locking nothing).  After every
sweep `StopBook.watch` checks the last price: a SELL STOP_LOSS (BUY TAKE_PROFIT) triggers when
it falls to or below stopPrice, a SELL TAKE_PROFIT (BUY STOP_LOSS) when it rises to or above.
Triggered (Simulator.trigger_order), STOP_LOSS / TAKE_PROFIT go on as a MARKET order, the
_LIMIT kinds as a LIMIT order at price (funds checked then; too little: EXPIRED).
Trailing (simplified): with trailingDelta alone the order tracks from placement; with a
stopPrice too, the stopPrice (reached in the direction above) activates the tracking.  While
tracking, a SELL triggers once the last price has fallen trailingDelta bps below the highest
last price seen since, a BUY once it has risen trailingDelta bps above the lowest.  Prices are
seen once per sweep (not every trade in between).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from adapters.sim import binance_wire as wire
from adapters.sim.engine import Simulator
from adapters.sim.params import float_param, int_param

STOP_TYPES = ("STOP_LOSS", "STOP_LOSS_LIMIT", "TAKE_PROFIT", "TAKE_PROFIT_LIMIT")
MARKET_STOPS = ("STOP_LOSS", "TAKE_PROFIT")
TRAILING_MIN, TRAILING_MAX = 10, 2000
TRAILING_FILTER = {"filterType": "TRAILING_DELTA",
                   "minTrailingAboveDelta": TRAILING_MIN, "maxTrailingAboveDelta": TRAILING_MAX,
                   "minTrailingBelowDelta": TRAILING_MIN, "maxTrailingBelowDelta": TRAILING_MAX}


def falls(side: str, wire_type: str) -> bool:
    """True when the order triggers on a fall to stopPrice (SELL STOP_LOSS, BUY TAKE_PROFIT)."""
    return (side.upper() == "SELL") == wire_type.startswith("STOP_LOSS")


def stop_params(wire_type: str, params: Mapping[str, str]) -> tuple[float | None, int | None]:
    """(stopPrice, trailingDelta) of a new order, checked as Binance does (see above)."""
    if wire_type not in STOP_TYPES:
        for name in ("stopPrice", "trailingDelta"):
            if name in params:
                raise wire.not_required(name)
        return None, None
    if "quoteOrderQty" in params:
        raise wire.not_required("quoteOrderQty")
    stop = float_param(params, "stopPrice") if params.get("stopPrice") else None
    delta = int_param(params, "trailingDelta") if params.get("trailingDelta") else None
    if stop is None and delta is None:
        raise wire.ApiError(400, -1102, "Param 'stopPrice' or 'trailingDelta' must be sent, "
                                        "but both were empty/null!")
    if delta is not None and not TRAILING_MIN <= delta <= TRAILING_MAX:
        raise wire.ApiError(400, -1013, "Filter failure: TRAILING_DELTA")
    return stop, delta


def reached(below: bool, stop: float, last: float) -> bool:
    return last <= stop if below else last >= stop


@dataclass
class Stop:
    order_id: int
    symbol: str
    sell: bool
    below: bool
    stop: float | None
    delta: int | None
    extreme: float | None = None  # the best last price since tracking started (trailing)


class StopBook:
    """The held standalone stop orders of the core's one account, watched after every sweep."""

    def __init__(self, sim: Simulator) -> None:
        self.sim = sim
        self.stops: dict[int, Stop] = {}
        sim.add_sweep_hook(self.watch)

    def place(self, symbol: str, side: str, wire_type: str, amount: float, price: float | None,
              stop: float | None, delta: int | None, *, client_order_id: str,
              time_in_force: str, stp_mode: str, test: bool = False,
              extra: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """Check and (unless `test`) hold a stop order; returns the core order (`extra`: fields
        stored as they are, an iceberg's icebergQty)."""
        below = falls(side, wire_type)
        last = self.sim.market.quote(symbol)[2]
        if delta is None and stop is not None and reached(below, stop, last):
            raise wire.ApiError(400, -2010, "Order would trigger immediately.")
        core_type = "market" if wire_type in MARKET_STOPS else "limit"
        if test:
            return self.sim.create_order(symbol, side.lower(), "limit", amount, price or stop
                                         or last, client_order_id=client_order_id, test=True,
                                         time_in_force=time_in_force, stp_mode=stp_mode)
        now = self.sim.server_time()
        tracking = delta is not None and stop is None
        extra = dict(extra or {})
        if delta is not None:
            extra.update(trailingDelta=delta, trailingTime=now if tracking else -1)
        with self.sim.lock:
            order = self.sim.hold_order(symbol, side.lower(), core_type, amount, price,
                                        client_order_id=client_order_id, stop_price=stop,
                                        time_in_force=time_in_force, stp_mode=stp_mode,
                                        extra=extra)
            self.stops[int(order["id"])] = Stop(int(order["id"]), symbol, side == "SELL", below,
                                                stop, delta, last if tracking else None)
        return order

    def watch(self) -> None:
        """Trigger every held stop whose condition the last price now meets (under the lock)."""
        for order_id, stop in list(self.stops.items()):
            order = self.sim.order_by_id(order_id)
            if order["status"] != "open" or not order.get("held"):
                del self.stops[order_id]
                continue
            if self._fires(stop, self.sim.market.quote(stop.symbol)[2]):
                del self.stops[order_id]
                self.sim.trigger_order(order_id)

    @staticmethod
    def _fires(s: Stop, last: float) -> bool:
        if s.delta is None:
            assert s.stop is not None
            return reached(s.below, s.stop, last)
        if s.extreme is None:  # waiting for the activation price
            assert s.stop is not None
            if reached(s.below, s.stop, last):
                s.extreme = last
            return False
        if s.sell:
            s.extreme = max(s.extreme, last)
            return last <= s.extreme * (1 - s.delta / 10_000)
        s.extreme = min(s.extreme, last)
        return last >= s.extreme * (1 + s.delta / 10_000)
