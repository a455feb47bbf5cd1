"""The core's calls for orders that are not plain placements: held off the book until
triggered (a stop order, an order list's stop leg, an OTO's pending order), or amended in place.

A mixin of the Simulator (engine.py), split from it so that the core's placement path stays
readable; order lists (order_lists.py), stop orders (stop_orders.py) and amend keep priority
(replace_amend.py) use it.  A triggered order goes on the book like a new order: it walks the
book, meets the account's own resting orders under its self-trade prevention mode, fills, rests
or expires.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from adapters.sim.faults import ccxt_error
from adapters.sim.filters import plan_order
from adapters.sim.order_records import new_order_record

if TYPE_CHECKING:
    from adapters.sim.fills import Ledger
    from adapters.sim.filters import Plan
    from adapters.sim.market import Market
    from adapters.sim.matching import Walk
    from adapters.sim.order_records import OrderRecords
    from adapters.sim.specs import MarketSpec


class HeldOrders:
    """hold_order, trigger_order and amend_order on the Simulator's records and ledger."""

    market: Market
    _records: OrderRecords
    _ledger: Ledger
    _lock: threading.RLock

    if TYPE_CHECKING:
        def _sweep(self) -> None: ...

        def _plan(self, spec: MarketSpec, side: str, type_: str, amount: float,
                  price: float | None, time_in_force: str, quote_amount: float | None,
                  stp_mode: str = "NONE") -> tuple[float, Plan, Walk]: ...

        def _settle(self, spec: MarketSpec, order: dict[str, Any], plan: Plan,
                    walk: Walk) -> None: ...

    def hold_order(self, symbol: str, side: str, type: str, amount: float,
                   price: float | None, *, client_order_id: str, stop_price: float | None,
                   time_in_force: str = "GTC", stp_mode: str = "NONE",
                   extra: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """Record an open order that is not on the book yet (a stop leg, an OTO's pending
        order): it locks nothing and does not fill until `trigger_order`.  `extra`: fields
        stored on the record as they are (a stop order's trailingDelta)."""
        spec = self.market.spec(symbol)
        with self._lock:
            self._sweep()
            self._records.check_unique(symbol, client_order_id)
            plan_order(spec, side, "limit" if price or stop_price else "market", float(amount),
                       price or stop_price,
                       quote=self.market.quote(symbol), free=math.inf, slippage_bps=0.0)
            order = new_order_record(spec, side, type, float(amount), price, client_order_id,
                                     self.market.now_ms(), time_in_force, stp_mode=stp_mode)
            order.update(stopPrice=stop_price, held=True, **(extra or {}))
            self._records.register(order)
            return dict(order)

    def trigger_order(self, order_id: int | str) -> dict[str, Any]:
        """Put a held order on the book: it fills, rests or expires like a new order (funds
        are checked now; too little → expired)."""
        with self._lock:
            order = self._records.by_id[int(order_id)]
            if order["status"] != "open" or not order.pop("held", False):
                return dict(order)
            spec = self.market.specs[order["symbol"]]
            now = self.market.now_ms()
            order.update(workingTime=now, lastUpdateTimestamp=now)
            try:
                _, plan, walk = self._plan(spec, order["side"], order["type"], order["amount"],
                                           order["price"], order["timeInForce"], None,
                                           order["selfTradePreventionMode"])
            except Exception:
                order.update(status="expired", expiryReason="REJECTED")
                return dict(order)
            self._settle(spec, order, plan, walk)
            return dict(order)

    def amend_order(self, symbol: str, order_id: int | str, new_amount: float,
                    client_order_id: str) -> dict[str, Any]:
        """Reduce an open order's quantity in place (keeps its priority); releases the funds
        the cut frees.  The caller checks executed < new_amount < amount."""
        with self._lock:
            self._sweep()
            order = self._records.find(symbol, None, order_id)
            if order is None or order["status"] != "open":
                raise ccxt_error("OrderNotFound", f"Unknown order sent: {order_id}")
            cut = order["amount"] - float(new_amount)
            left = new_amount - order["filled"] - order.get("preventedQuantity", 0.0)
            order.update(amount=float(new_amount), remaining=round(left, 10),
                         clientOrderId=client_order_id, lastUpdateTimestamp=self.market.now_ms())
            self._records.renamed(order)
            self._ledger.shrink(order, cut)
            return dict(order)
