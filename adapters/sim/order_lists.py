"""SIGNED order-list placement, cancel-replace, amend and SOR endpoints (Binance's rest-api.md).

POST order/cancelReplace (STOP_ON_FAILURE / ALLOW_FAILURE; -2021/-2022 with `data`), PUT
order/amend/keepPriority (reduce an open order's quantity in place; the amendments are what GET
order/amendments serves), the order lists (POST orderList/oco, orderList/oto, orderList/otoco
and the deprecated POST order/oco, whose price / stopPrice / stopLimitPrice / limit* / stop*
parameters make the same OCO: a LIMIT_MAKER and a STOP_LOSS[_LIMIT] leg, the stop leg first)
and POST sor/order[/test], which answer -1013 "This symbol has no SOR." as Binance does for a
symbol without SOR.

Here the handlers; the lists' records and reconciliation are list_book.py, their request
parameters list_params.py, their look-ups and cancels (and DELETE openOrders, which cancels
lists whole) list_queries.py, cancel-replace and amend replace_amend.py (delegated to below).

Model.  An order list's legs are ordinary core orders linked by the list id: every order
answer (GET order, openOrders, allOrders, myTrades, cancels) shows a leg's orderListId, and an
OTO's pending order as PENDING_NEW until it goes on the book.  A LIMIT / LIMIT_MAKER leg is
placed on the book at once (an OTO's working order, an OCO's limit leg); a stop leg
(STOP_LOSS[_LIMIT], TAKE_PROFIT[_LIMIT]) and an OTO's pending order are *held*: open, listed and
cancellable, but off the book and locking nothing (Binance locks an OCO's funds once, through
its limit leg).  After every sweep of the core (any call that looks at the book, the maker
fills included) the lists are reconciled: a working order that filled releases its pending
order(s); an OCO leg that traded expires the other; a held stop leg whose stopPrice the last
price has reached expires the other leg and goes on the book (STOP_LOSS / TAKE_PROFIT as a
market order, the _LIMIT kinds as a limit order); a leg cancelled by DELETE order cancels the
rest of its list.  A leg's `<prefix>IcebergQty` is checked and kept like an order's icebergQty.
Simplifications: a leg's trailingDelta is checked for its range but not tracked (the stop leg
triggers at its stopPrice), no peg parameters; a list whose second leg fails to place answers
the error and leaves its first leg cancelled.
"""

from __future__ import annotations

import random
import string
from collections.abc import Mapping
from typing import Any

from adapters.sim import binance_wire as wire
from adapters.sim import order_wire
from adapters.sim.account_routes import Account, stp_param
from adapters.sim.engine import Simulator
from adapters.sim.list_book import LIMIT_TYPES, OCO_TYPES, STOP_TYPES, Leg, ListBook, OrderList
from adapters.sim.list_params import (
    leg_spec,
    legacy_oco,
    oco_pair,
    quantity_param,
    response_type,
)
from adapters.sim.market_routes import Symbols
from adapters.sim.params import float_param, side_param
from adapters.sim.replace_amend import ReplaceAmend


def no_sor() -> wire.ApiError:
    return wire.ApiError(400, -1013, "This symbol has no SOR.")


class OrderLists:
    """The endpoints above on the core's one account."""

    def __init__(self, sim: Simulator, symbols: Symbols, account: Account, seed: int) -> None:
        self.sim = sim
        self.symbols = symbols
        self.account = account
        self._ids_rng = random.Random(f"{seed}:order-list-ids")
        self.book = ListBook(sim)
        account.list_of = self.book.leg_info  # every order answer shows a leg's list
        self.replace_amend = ReplaceAmend(sim, symbols, account, self.book, self.new_id)

    # -- cancel-replace and amend (replace_amend.py) ---------------------------------------------

    def cancel_replace(self, params: dict[str, str]) -> Any:
        """POST order/cancelReplace."""
        return self.replace_amend.cancel_replace(params)

    def amend(self, params: dict[str, str]) -> Any:
        """PUT order/amend/keepPriority."""
        return self.replace_amend.amend(params)

    def amendments_of(self, symbol: str, order_id: int, from_id: int | None,
                      limit: int) -> list[dict[str, Any]]:
        """GET order/amendments' rows for one order (the hook info_routes uses)."""
        return self.replace_amend.amendments_of(symbol, order_id, from_id, limit)

    # -- helpers -------------------------------------------------------------------------------

    def new_id(self) -> str:
        """A Binance-style 22-character client id, from a seeded stream so runs repeat."""
        alphabet = string.ascii_letters + string.digits
        return "".join(self._ids_rng.choice(alphabet) for _ in range(22))

    def _symbol(self, params: Mapping[str, str]) -> str:
        symbol = self.symbols.one(params)
        assert symbol is not None
        return symbol

    def _remember(self, order_id: int, wire_type: str) -> None:
        with self.account._lock:
            self.account._wire_types[order_id] = wire_type

    def _last(self, symbol: str) -> Any:
        return lambda: self.sim.market.quote(symbol)[2]

    # -- shapes ----------------------------------------------------------------------------------

    def _report(self, lst: OrderList, leg: Leg, resp_type: str) -> dict[str, Any]:
        order = self.sim.order_by_id(leg.order_id)
        trades = [t for t in self.sim.my_trades(lst.symbol) if int(t["order"]) == leg.order_id]
        return order_wire.new_order(order, leg.order_id, leg.wire_type, resp_type, trades,
                                    lst.list_id, leg.pending,
                                    self.sim.prevented_matches(taker_id=leg.order_id))

    # -- placing lists ---------------------------------------------------------------------------

    def _place(self, symbol: str, leg: Mapping[str, Any], params: Mapping[str, str],
               held: bool) -> Leg:
        """Put one leg on the book (LIMIT/LIMIT_MAKER/MARKET) or hold it."""
        if not held and leg["type"] in (*LIMIT_TYPES, "MARKET"):
            sub = {"symbol": params["symbol"], "side": leg["side"], "type": leg["type"],
                   "quantity": repr(leg["quantity"]), "newClientOrderId": leg["cid"],
                   "newOrderRespType": "ACK"}
            if leg["type"] != "MARKET":
                sub["price"] = repr(leg["price"])
            if leg["type"] == "LIMIT":
                sub["timeInForce"] = leg["tif"]
            if leg["iceberg"] is not None:
                sub["icebergQty"] = repr(leg["iceberg"])
            if "selfTradePreventionMode" in params:
                sub["selfTradePreventionMode"] = params["selfTradePreventionMode"]
            answer = self.account.new_order(sub)
            return Leg(int(answer["orderId"]), leg["type"])
        core_type = "market" if leg["type"] in ("MARKET", "STOP_LOSS", "TAKE_PROFIT") else "limit"
        extra = {} if leg["iceberg"] is None else {"icebergQty": leg["iceberg"]}
        try:
            order = self.sim.hold_order(symbol, leg["side"].lower(), core_type, leg["quantity"],
                                        leg["price"], client_order_id=leg["cid"],
                                        stop_price=leg["stop"], time_in_force=leg["tif"],
                                        stp_mode=stp_param(params), extra=extra)
        except Exception as exc:
            if type(exc).__module__.startswith("ccxt"):
                raise wire.error_from_core(exc) from exc
            raise
        self._remember(int(order["id"]), leg["type"])
        return Leg(int(order["id"]), leg["type"], stop_price=leg["stop"], pending=held)

    def _new_list(self, symbol: str, contingency: str, params: Mapping[str, str],
                  plan: list[tuple[dict[str, Any], bool, bool]]) -> Any:
        """Place the legs in order (spec, held?, oco?); undo on a failure."""
        resp_type = response_type(params)
        stp_param(params)  # -1130 before anything is placed
        list_cid = params.get("listClientOrderId") or self.new_id()
        with self.sim.lock:
            if any(lst.client_id == list_cid and lst.order_status == "EXECUTING"
                   for lst in self.book.lists.values()):
                raise wire.ApiError(400, -2010, "Duplicate order sent.")
            lst = OrderList(self.book.next_list_id(), contingency, symbol, list_cid,
                            self.sim.server_time())
            with self.book.quiet():  # no reaction before every leg is in
                try:
                    for spec, held, oco in plan:
                        leg = self._place(symbol, spec, params, held)
                        leg.oco = oco
                        leg.armed = oco and not held and spec["type"] in STOP_TYPES
                        lst.legs.append(leg)
                except Exception:
                    for leg in lst.legs:
                        self.sim.cancel_order(symbol, order_id=leg.order_id)
                    raise
            self.book.add(lst)
            with self.book.quiet():  # as placed: an OTO's pending order still PENDING_NEW
                reports = [self._report(lst, leg, resp_type) for leg in lst.legs]
            self.book.reconcile()
            return {**self.book.status(lst), "orderReports": reports}

    def _market(self, symbol: str) -> Mapping[str, Any]:
        return self.symbols.markets[symbol]

    def oco(self, params: dict[str, str]) -> Any:
        """POST orderList/oco."""
        symbol = self._symbol(params)
        side = side_param(params, "side")
        quantity = float_param(params, "quantity") if "quantity" in params else None
        if quantity is None:
            raise wire.missing("quantity")
        below, above = oco_pair(params, side, quantity, "above", "below", self._last(symbol),
                                self.new_id, self._market(symbol))
        return self._new_list(symbol, "OCO", params, [(below, False, True),
                                                      (above, False, True)])

    def legacy_oco(self, params: dict[str, str]) -> Any:
        """POST order/oco (deprecated, still served): the stop leg, then the LIMIT_MAKER."""
        symbol = self._symbol(params)
        side = side_param(params, "side")
        stop, limit = legacy_oco(params, side, self._last(symbol), self.new_id,
                                 self._market(symbol))
        return self._new_list(symbol, "OCO", params, [(stop, False, True),
                                                      (limit, False, True)])

    def oto(self, params: dict[str, str]) -> Any:
        """POST orderList/oto: the working order on the book, the pending one held."""
        symbol = self._symbol(params)
        working = self._working(params, symbol)
        pending = leg_spec(params, "pending", ("LIMIT", "MARKET", *OCO_TYPES),
                           side_param(params, "pendingSide"),
                           quantity_param(params, "pendingQuantity"), self.new_id,
                           self._market(symbol))
        return self._new_list(symbol, "OTO", params, [(working, False, False),
                                                      (pending, True, False)])

    def otoco(self, params: dict[str, str]) -> Any:
        """POST orderList/otoco: the working order, then a held OCO pair."""
        symbol = self._symbol(params)
        working = self._working(params, symbol)
        below, above = oco_pair(params, side_param(params, "pendingSide"),
                                quantity_param(params, "pendingQuantity"), "pendingAbove",
                                "pendingBelow", self._last(symbol), self.new_id,
                                self._market(symbol))
        return self._new_list(symbol, "OTO", params, [(working, False, False),
                                                      (below, True, True),
                                                      (above, True, True)])

    def _working(self, params: Mapping[str, str], symbol: str) -> dict[str, Any]:
        return leg_spec(params, "working", LIMIT_TYPES, side_param(params, "workingSide"),
                        quantity_param(params, "workingQuantity"), self.new_id,
                        self._market(symbol))

    # -- SOR ---------------------------------------------------------------------------------------

    def sor_order(self, params: dict[str, str]) -> Any:
        """POST sor/order[/test]: the simulator configures no SOR, so every symbol answers
        Binance's -1013 for a symbol without one (after the symbol and mandatory checks)."""
        self._symbol(params)
        side_param(params, "side")
        if not params.get("type"):
            raise wire.missing("type")
        if "quantity" not in params:
            raise wire.missing("quantity")
        raise no_sor()
