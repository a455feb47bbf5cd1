"""The order ledger: every order request the exchange boundary saw, and what became of it.

An order whose outcome is unknown (timeout, 5xx, lost or unreadable answer, a phase abandoned
while its request was in flight) is a state of its own here, not an error: the run looks it up
by client order id before it ends and records the truth (placed and open/filled, or never
placed), or ends failed naming the order that stayed unknown.  The run folder's orders.parquet
is this ledger, so orders placed by a user's own phase are in it too.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

SENDING, UNKNOWN = "sending", "unknown"
# The request may have reached the exchange and nobody knows yet what it did.
UNRESOLVED = frozenset({SENDING, UNKNOWN})
# Never placed: validated only, refused locally, rejected by the exchange or absent on look-up.
NOT_PLACED = frozenset({"test", "refused", "rejected", "rejected_locally", "failed", "not_found"})
OPEN = "open"


@dataclass
class OrderRecord:
    client_order_id: str
    symbol: str
    side: str
    type: str
    amount: float
    price: float | None
    test: bool
    endpoint: str
    phase: str | None = None
    reason: str | None = None
    reference_price: float | None = None  # expected price of a market order (not sent)
    status: str = SENDING
    exchange_id: str | None = None
    filled: float | None = None
    average: float | None = None  # average fill price, from the exchange
    error: str | None = None
    reconciled: bool = False  # the status comes from a look-up, not from the order's answer
    settled: threading.Event = field(default_factory=threading.Event, repr=False)
    sent_at: float | None = field(default=None, repr=False)  # monotonic, of the last request

    def settle(self, status: str, *, error: str | None = None,
               order: Mapping[str, Any] | None = None, reconciled: bool = False) -> None:
        """Record what became of the order (from its answer or a look-up)."""
        if order is not None:
            self.exchange_id = _text(order.get("id")) or self.exchange_id
            self.filled = _number(order.get("filled"), self.filled)
            self.average = _number(order.get("average"), self.average)
        self.status, self.error, self.reconciled = status, error, reconciled or self.reconciled

    @property
    def unresolved(self) -> bool:
        return self.status in UNRESOLVED

    def row(self) -> dict[str, Any]:
        """One row of orders.parquet."""
        return {f.name: getattr(self, f.name) for f in fields(self)
                if f.name not in ("settled", "sent_at")}


def _number(value: Any, default: float | None) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) \
        else default


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def order_status(order: Mapping[str, Any]) -> str:
    """The ledger status of an exchange's (ccxt-shaped) order answer."""
    return str(order.get("status") or "accepted")


class OrderLedger:
    """Thread-safe: phases, abandoned attempts and cleanup all write to it."""

    def __init__(self) -> None:
        self._records: dict[str, OrderRecord] = {}
        self._lock = threading.Lock()

    def begin(self, record: OrderRecord) -> OrderRecord:
        with self._lock:
            self._records[record.client_order_id] = record
        return record

    def get(self, client_order_id: str) -> OrderRecord | None:
        with self._lock:
            return self._records.get(client_order_id)

    def records(self) -> list[OrderRecord]:
        with self._lock:
            return list(self._records.values())

    def unresolved(self) -> list[OrderRecord]:
        return [r for r in self.records() if r.unresolved]

    def open_orders(self) -> list[OrderRecord]:
        return [r for r in self.records() if r.status == OPEN and not r.test]

    def rows(self) -> list[dict[str, Any]]:
        return [r.row() for r in self.records()]

    def summary(self) -> dict[str, Any]:
        """For result.json: counts by status and the client ids still unresolved."""
        counts: dict[str, int] = {}
        for record in self.records():
            counts[record.status] = counts.get(record.status, 0) + 1
        return {"total": sum(counts.values()), "by_status": counts,
                "placed": sum(1 for r in self.records()
                              if r.status not in NOT_PLACED and not r.unresolved),
                "unresolved": [r.client_order_id for r in self.unresolved()]}
