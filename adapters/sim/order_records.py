"""The simulator's order records: their ccxt shape, exchange ids and client-id look-ups.

Split from the Simulator (engine.py) so that the rules of identity live in one place: orders
are kept by exchange id, and a client order id need only be unique among open orders, as on
Binance, so a look-up by client id finds the newest order with it.  Callers hold the
Simulator's lock.
"""

from __future__ import annotations

from typing import Any

from adapters.sim.filters import invalid
from adapters.sim.specs import MarketSpec, iso8601


def new_order_record(spec: MarketSpec, side: str, type_: str, amount: float,
                     price: float | None, client_order_id: str, now: int,
                     time_in_force: str = "GTC", quote_amount: float | None = None,
                     stp_mode: str = "NONE") -> dict[str, Any]:
    """A fresh open order in ccxt's shape (no id yet, nothing filled)."""
    return {
        "timeInForce": time_in_force, "quoteOrderQty": float(quote_amount or 0.0),
        "selfTradePreventionMode": stp_mode, "workingTime": now,
        "id": None, "clientOrderId": client_order_id, "symbol": spec.symbol,
        "side": side, "type": type_, "amount": amount,
        "price": float(price) if type_ == "limit" and price is not None else None,
        "average": None, "filled": 0.0, "remaining": amount, "cost": 0.0,
        "status": "open", "fee": {"cost": 0.0, "currency": spec.quote},
        "timestamp": now, "datetime": iso8601(now), "lastTradeTimestamp": None,
        "lastUpdateTimestamp": now,
    }


class OrderRecords:
    """Every order placed, by exchange id (oldest first), and the newest per client id."""

    def __init__(self) -> None:
        self.by_id: dict[int, dict[str, Any]] = {}  # exchange order id -> order
        self._newest: dict[tuple[str, str], int] = {}  # (symbol, client id) -> newest order id
        self._next_id = 1

    def check_unique(self, symbol: str, client_order_id: str) -> None:
        """A client order id may be reused once its newest order is no longer open."""
        newest = self.by_id.get(self._newest.get((symbol, client_order_id), 0))
        if newest is not None and newest["status"] == "open":
            raise invalid("Duplicate order sent")

    def register(self, order: dict[str, Any]) -> None:
        """Give `order` the next exchange id and make it its client id's newest order."""
        order_id, self._next_id = self._next_id, self._next_id + 1
        order["id"] = str(order_id)
        self.by_id[order_id] = order
        self.renamed(order)

    def renamed(self, order: dict[str, Any]) -> None:
        """`order` (now) answers to its clientOrderId: it is that id's newest order."""
        self._newest[(order["symbol"], order["clientOrderId"])] = int(order["id"])

    def find(self, symbol: str, client_order_id: str | None,
             order_id: int | str | None) -> dict[str, Any] | None:
        """The order with this exchange id, else the newest with this client id, of `symbol`."""
        if order_id is not None:
            order = self.by_id.get(int(order_id))
        else:
            order = self.by_id.get(self._newest.get((symbol, str(client_order_id)), 0))
        return order if order is not None and order["symbol"] == symbol else None
