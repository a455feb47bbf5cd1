"""The simulator's order lists (OCO, OTO, OTOCO): their records and how their legs react.

Split from the HTTP handlers (order_lists.py) so that the list model lives apart from the wire:
an order list's legs are ordinary core orders linked here by the list id.  After every sweep of
the core (any call that looks at the book, the maker fills included) `ListBook.reconcile` moves
each executing list on: a working order that filled releases its pending order(s); an OCO leg
that traded expires the other; a held stop leg whose stopPrice the last price has reached
expires the other leg and goes on the book; a leg cancelled on its own cancels the rest of its
list.  The legs the list book ends by its rules expire with Binance's expiryReason: OCO_TRIGGER
(the other leg of an OCO traded or triggered), OTO_PHASE_ONE_EXPIRED (an OTO's working order
expired).  `leg_info` tells the wire which list an order is a leg of (its orderListId) and
whether it is still pending (PENDING_NEW).  Every method expects the caller to hold the core's
lock (the sweep hook does).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from adapters.sim import binance_wire as wire
from adapters.sim.binance_wire import wire_symbol
from adapters.sim.engine import Simulator
from adapters.sim.params import opt_int

if TYPE_CHECKING:
    from adapters.sim.account_routes import Account
    from adapters.sim.market_routes import Symbols

STOP_TYPES = ("STOP_LOSS", "STOP_LOSS_LIMIT", "TAKE_PROFIT", "TAKE_PROFIT_LIMIT")
LIMIT_TYPES = ("LIMIT", "LIMIT_MAKER")
OCO_TYPES = ("LIMIT_MAKER", *STOP_TYPES)


@dataclass
class Leg:
    order_id: int
    wire_type: str
    stop_price: float | None = None
    pending: bool = False  # an OTO's pending order, held until the working order fills
    armed: bool = False  # a held stop leg watching the last price
    oco: bool = False  # one of the list's OCO pair


@dataclass
class OrderList:
    list_id: int
    contingency: str  # "OCO" or "OTO" (an OTOCO is an OTO whose pending orders are an OCO)
    symbol: str
    client_id: str
    time: int
    legs: list[Leg] = field(default_factory=list)
    status_type: str = "EXEC_STARTED"
    order_status: str = "EXECUTING"


class ListBook:
    """Every order list of the core's one account, by list id, kept in step with its legs."""

    def __init__(self, sim: Simulator) -> None:
        self.sim = sim
        self.lists: dict[int, OrderList] = {}
        self._legs: dict[int, tuple[OrderList, Leg]] = {}  # order id -> its list and leg
        self._list_ids = itertools.count(1)
        self._reconciling = False
        sim.add_sweep_hook(self.reconcile)

    def next_list_id(self) -> int:
        return next(self._list_ids)

    def add(self, lst: OrderList) -> None:
        """Register a placed list: its legs now answer with its orderListId."""
        self.lists[lst.list_id] = lst
        self._legs.update({leg.order_id: (lst, leg) for leg in lst.legs})

    def list_of(self, order_id: int) -> OrderList | None:
        """The list `order_id` is a leg of, if any."""
        found = self._legs.get(order_id)
        return found[0] if found else None

    def leg_info(self, order_id: int) -> tuple[int, bool]:
        """(orderListId, PENDING_NEW?) of an order: (-1, False) for one of no list."""
        found = self._legs.get(order_id)
        return (found[0].list_id, found[1].pending) if found else (-1, False)

    def find(self, params: Mapping[str, str], cid_name: str) -> OrderList | None:
        """The list named by orderListId and/or the client list id `cid_name` (-1102: neither)."""
        list_id = opt_int(params, "orderListId")
        cid = params.get(cid_name)
        if list_id is None and not cid:
            raise wire.ApiError(400, -1102, f"Param '{cid_name}' or 'orderListId' must be "
                                            "sent, but both were empty/null!")
        if list_id is not None:
            lst = self.lists.get(list_id)
            return lst if lst is not None and (not cid or lst.client_id == cid) else None
        return next((lst for lst in reversed(self.lists.values()) if lst.client_id == cid),
                    None)

    def status(self, lst: OrderList) -> dict[str, Any]:
        """The list's wire shape (GET orderList, the list part of every list answer)."""
        legs = [self.sim.order_by_id(leg.order_id) for leg in lst.legs]
        return {"orderListId": lst.list_id, "contingencyType": lst.contingency,
                "listStatusType": lst.status_type, "listOrderStatus": lst.order_status,
                "listClientOrderId": lst.client_id, "transactionTime": lst.time,
                "symbol": wire_symbol(lst.symbol),
                "orders": [{"symbol": wire_symbol(lst.symbol), "orderId": leg.order_id,
                            "clientOrderId": o["clientOrderId"]}
                           for leg, o in zip(lst.legs, legs, strict=True)]}

    # -- reconciliation (after every sweep, under the core's lock) -------------------------------

    @contextmanager
    def quiet(self) -> Iterator[None]:
        """Hold the core's lock with no reconciliation: for changes made leg by leg."""
        with self.sim.lock:
            before, self._reconciling = self._reconciling, True
            try:
                yield
            finally:
                self._reconciling = before

    def reconcile(self) -> None:
        if self._reconciling:
            return
        self._reconciling = True
        try:
            for lst in self.lists.values():
                if lst.order_status == "EXECUTING":
                    self._advance(lst)
        finally:
            self._reconciling = False

    def _advance(self, lst: OrderList) -> None:
        orders = {leg.order_id: self.sim.order_by_id(leg.order_id) for leg in lst.legs}
        status = {i: o["status"] for i, o in orders.items()}
        cancelled = [i for i, s in status.items() if s == "canceled"]
        if cancelled:  # a leg cancelled on its own: the whole list goes
            self.end(lst, dict.fromkeys(cancelled, "canceled"), "canceled")
            lst.status_type = lst.order_status = "ALL_DONE"
            return
        pending = [leg for leg in lst.legs if leg.pending]
        working = [leg for leg in lst.legs if not leg.pending and not leg.oco]
        if working and status[working[0].order_id] == "closed" and pending:
            for leg in pending:
                leg.pending = False
                if leg.wire_type in STOP_TYPES:
                    leg.armed = True
                else:
                    self.sim.trigger_order(leg.order_id)
        elif working and status[working[0].order_id] == "expired":
            self.end(lst, {working[0].order_id: "expired"}, "expired", "OTO_PHASE_ONE_EXPIRED")
        pair = [leg for leg in lst.legs if leg.oco and not leg.pending]
        for leg in pair:
            order = self.sim.order_by_id(leg.order_id)
            if order["filled"] or (order["status"] in ("closed", "expired") and not leg.armed):
                self.end(lst, {leg.order_id: "done"}, "expired", "OCO_TRIGGER")
                break
            if leg.armed and order["status"] == "open" and self._triggered(leg, order):
                leg.armed = False
                self.end(lst, {leg.order_id: "done"}, "expired", "OCO_TRIGGER")
                self.sim.trigger_order(leg.order_id)
                break
        final = [self.sim.order_by_id(leg.order_id)["status"] for leg in lst.legs]
        if all(s != "open" for s in final):
            lst.status_type = lst.order_status = "ALL_DONE"

    def end(self, lst: OrderList, keep: Mapping[int, str], how: str,
            reason: str | None = None) -> None:
        """Cancel (or expire, for `reason`) every open leg of `lst` not named in `keep`."""
        for leg in lst.legs:
            if leg.order_id in keep:
                continue
            order = self.sim.order_by_id(leg.order_id)
            if order["status"] == "open":
                self.sim.cancel_order(lst.symbol, order_id=leg.order_id, status=how,
                                      reason=reason)
            leg.armed = leg.pending = False

    def _triggered(self, leg: Leg, order: Mapping[str, Any]) -> bool:
        last = self.sim.market.quote(order["symbol"])[2]
        below = (order["side"] == "sell") == leg.wire_type.startswith("STOP_LOSS")
        assert leg.stop_price is not None
        return last <= leg.stop_price if below else last >= leg.stop_price


class OnListBook:
    """What the list endpoints beside the placing ones (list_queries.py, replace_amend.py)
    share: the core, symbol look-up, the account's order answers, the list book and `new_id`,
    which makes client ids."""

    def __init__(self, sim: Simulator, symbols: Symbols, account: Account, book: ListBook,
                 new_id: Callable[[], str]) -> None:
        self.sim = sim
        self.symbols = symbols
        self.account = account
        self.book = book
        self.new_id = new_id

    def _symbol(self, params: Mapping[str, str]) -> str:
        symbol = self.symbols.one(params)
        assert symbol is not None
        return symbol
