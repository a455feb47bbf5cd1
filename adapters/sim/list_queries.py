"""SIGNED look-ups and cancels of order lists (Binance's rest-api.md), and DELETE openOrders.

DELETE orderList (every open leg CANCELED, ALL_DONE), GET orderList, allOrderList and
openOrderList; and DELETE openOrders, which cancels every open order of a symbol "including
orders that are part of an order list": a plain order answers as DELETE order does, the legs of
a list together as one entry with the list's status and its `orderReports` (as DELETE orderList
answers).  Split from the placing handlers (order_lists.py): these only read the lists
(list_book.py) and end them.
"""

from __future__ import annotations

from typing import Any

from adapters.sim import binance_wire as wire
from adapters.sim import order_wire
from adapters.sim.account_routes import Account
from adapters.sim.list_book import OnListBook, OrderList
from adapters.sim.params import limit_param, opt_int


class ListQueries(OnListBook):
    """The endpoints above on the core's one account; `new_id` makes cancel client ids."""

    def _end(self, lst: OrderList, cancel_id: str) -> dict[str, Any]:
        """Cancel every open leg of an executing list: ALL_DONE, with its orderReports."""
        with self.book.quiet():
            self.book.end(lst, {}, "canceled")
        lst.status_type = lst.order_status = "ALL_DONE"
        now = self.sim.server_time()
        reports = []
        for leg in lst.legs:
            order = self.sim.order_by_id(leg.order_id)
            reports.append(order_wire.cancel_order(order, leg.order_id, leg.wire_type,
                                                   cancel_id, now, lst.list_id))
        return {**self.book.status(lst), "transactionTime": now, "orderReports": reports}

    def cancel_list(self, params: dict[str, str]) -> Any:
        """DELETE orderList: cancel every open leg; ALL_DONE."""
        symbol = self._symbol(params)
        with self.sim.lock:
            self.sim.orders()  # a sweep: the lists are up to date
            lst = self.book.find(params, "listClientOrderId")
            if lst is None or lst.symbol != symbol or lst.order_status != "EXECUTING":
                raise wire.ApiError(400, -2011, "Order list does not exist.")
            return self._end(lst, params.get("newClientOrderId") or self.new_id())

    def cancel_all(self, params: dict[str, str]) -> Any:
        """DELETE openOrders: every open order of the symbol, a list's legs as their list."""
        symbol = self._symbol(params)
        with self.sim.lock:
            open_ = [o for o in self.sim.orders(symbol) if o["status"] == "open"]
            if not open_:
                raise wire.ApiError(400, -2011, "Unknown order sent.")
            cancel_id, now, answer = self.new_id(), self.sim.server_time(), []
            for order in open_:
                order_id = int(order["id"])
                lst = self.book.list_of(order_id)
                if lst is not None:
                    if lst.order_status == "EXECUTING":
                        answer.append(self._end(lst, cancel_id))
                    continue
                done = self.sim.cancel_order(symbol, order_id=order_id)
                answer.append(order_wire.cancel_order(
                    done, order_id, self.account._wire_type(order_id, done), cancel_id, now))
            return answer

    def query_list(self, params: dict[str, str]) -> Any:
        """GET orderList."""
        with self.sim.lock:
            self.sim.orders()
            lst = self.book.find(params, "origClientOrderId")
            if lst is None:
                raise wire.ApiError(400, -2013, "Order list does not exist.")
            return self.book.status(lst)

    def all_lists(self, params: dict[str, str]) -> Any:
        """GET allOrderList: fromId (not with startTime/endTime), or a time window."""
        from_id = opt_int(params, "fromId")
        start, end = opt_int(params, "startTime"), opt_int(params, "endTime")
        if from_id is not None and (start is not None or end is not None):
            raise wire.bad_combination()
        start, end = Account._window(params)
        limit = limit_param(params)
        with self.sim.lock:
            self.sim.orders()
            rows = list(self.book.lists.values())
            page = Account._page(rows, lambda r: r.list_id, lambda r: r.time, limit, from_id,
                                 start, end)
            return [self.book.status(lst) for lst in page]

    def open_lists(self, params: dict[str, str]) -> Any:
        """GET openOrderList."""
        with self.sim.lock:
            self.sim.orders()
            return [self.book.status(lst) for lst in self.book.lists.values()
                    if lst.order_status == "EXECUTING"]
