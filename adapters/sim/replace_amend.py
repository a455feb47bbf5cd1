"""SIGNED cancel-replace and amend endpoints (Binance's rest-api.md), apart from the lists.

POST order/cancelReplace (STOP_ON_FAILURE / ALLOW_FAILURE; -2021/-2022 with `data`) and PUT
order/amend/keepPriority (reduce an open order's quantity in place; the amendments are what GET
order/amendments serves).  Split from order_lists.py because they change one order, not a list:
they touch the lists only where the order is a leg of one (cancelling a leg ends its list; an
amended leg's answer carries its list's status), through the ListBook.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

from adapters.sim import binance_wire as wire
from adapters.sim import order_wire
from adapters.sim.account_routes import Account
from adapters.sim.binance_wire import num, wire_symbol
from adapters.sim.engine import Simulator
from adapters.sim.list_book import ListBook, OnListBook
from adapters.sim.market_routes import Symbols
from adapters.sim.params import float_param, side_param

REPLACE_MODES = ("STOP_ON_FAILURE", "ALLOW_FAILURE")


class DataError(wire.ApiError):
    """A Binance error whose body carries `data` (cancelReplace's partial failures)."""

    def __init__(self, status: int, code: int, msg: str, data: dict[str, Any]) -> None:
        super().__init__(status, code, msg)
        self.data = data

    def body(self) -> dict[str, Any]:
        return {"code": self.code, "msg": self.msg, "data": self.data}


class ReplaceAmend(OnListBook):
    """cancelReplace and amend on the core's one account; `new_id` makes client ids."""

    def __init__(self, sim: Simulator, symbols: Symbols, account: Account, book: ListBook,
                 new_id: Callable[[], str]) -> None:
        super().__init__(sim, symbols, account, book, new_id)
        self._exec_ids = itertools.count(1)
        self._amendments: dict[int, list[dict[str, Any]]] = {}

    # -- cancel-replace --------------------------------------------------------------------------

    def cancel_replace(self, params: dict[str, str]) -> Any:
        """POST order/cancelReplace: cancel, then place (STOP_ON_FAILURE: only if the cancel
        worked).  Both worked: 200; otherwise -2022 (400, nothing placed) or -2021 (409, one
        of the two worked), each with `data`."""
        symbol = self._symbol(params)
        mode = params.get("cancelReplaceMode")
        if not mode:
            raise wire.missing("cancelReplaceMode")
        if mode not in REPLACE_MODES:
            raise wire.ApiError(400, -1100, "Illegal characters found in parameter "
                                            "'cancelReplaceMode'; legal range is "
                                            "'STOP_ON_FAILURE, ALLOW_FAILURE'.")
        side_param(params, "side")
        if not params.get("type"):
            raise wire.missing("type")
        if "cancelOrderId" not in params and not params.get("cancelOrigClientOrderId"):
            raise wire.ApiError(400, -1102, "Param 'cancelOrigClientOrderId' or 'cancelOrderId' "
                                            "must be sent, but both were empty/null!")
        cancel = {"symbol": params["symbol"]}
        for theirs, ours in (("cancelOrderId", "orderId"),
                             ("cancelOrigClientOrderId", "origClientOrderId"),
                             ("cancelNewClientOrderId", "newClientOrderId")):
            if theirs in params:
                cancel[ours] = params[theirs]
        place = {k: v for k, v in params.items()
                 if not k.startswith("cancel") and k not in ("timestamp", "signature",
                                                              "recvWindow")}
        with self.sim.lock:
            cancel_ok, new_ok = True, True
            try:
                cancel_answer: Any = self._cancel_one(cancel, symbol)
            except wire.ApiError as err:
                cancel_ok, cancel_answer = False, err.body()
            new_answer: Any = None
            if cancel_ok or mode == "ALLOW_FAILURE":
                try:
                    new_answer = self.account.new_order(place)
                except wire.ApiError as err:
                    new_ok, new_answer = False, err.body()
                except Exception as exc:
                    if not type(exc).__module__.startswith("ccxt"):
                        raise
                    new_ok, new_answer = False, wire.error_from_core(exc).body()
            else:
                new_ok = False
        result = {"cancelResult": "SUCCESS" if cancel_ok else "FAILURE",
                  "newOrderResult": ("SUCCESS" if new_ok else "FAILURE") if new_answer
                  is not None else "NOT_ATTEMPTED",
                  "cancelResponse": cancel_answer, "newOrderResponse": new_answer}
        if cancel_ok and new_ok:
            return result
        if not new_ok and not cancel_ok:
            raise DataError(400, -2022, "Order cancel-replace failed.", result)
        raise DataError(409, -2021, "Order cancel-replace partially failed.", result)

    def _cancel_one(self, cancel: dict[str, str], symbol: str) -> Any:
        """DELETE order's answer; an order of a list cancels its whole list."""
        try:
            order_id, _ = self.account._find(cancel)
        except wire.ApiError as err:
            if err.code == -2013:
                raise wire.ApiError(400, -2011, "Unknown order sent.") from None
            raise
        try:
            answer = self.account.cancel_order({**cancel, "orderId": str(order_id)})
        except Exception as exc:  # filled or cancelled already: the core's OrderNotFound
            if not type(exc).__module__.startswith("ccxt"):
                raise
            raise wire.error_from_core(exc, "cancel") from exc
        if self.book.list_of(order_id) is not None:  # its answer shows the list already
            self.book.reconcile()
        return answer

    # -- amend keep priority ---------------------------------------------------------------------

    def amend(self, params: dict[str, str]) -> Any:
        """PUT order/amend/keepPriority: executedQty < newQty < origQty."""
        symbol = self._symbol(params)
        if "newQty" not in params:
            raise wire.missing("newQty")
        new_qty = float_param(params, "newQty")
        if new_qty <= 0:
            raise wire.illegal("newQty")
        with self.sim.lock:
            try:
                order_id, order = self.account._find(params)
            except wire.ApiError as err:
                if err.code == -2013:
                    raise wire.ApiError(400, -2038, "Unknown order sent.") from None
                raise
            if order["status"] != "open":
                raise wire.ApiError(400, -2038, "Unknown order sent.")
            if new_qty > order["amount"]:
                raise wire.ApiError(400, -2038, "Order amend (quantity increase) is not "
                                                "supported.")
            if new_qty == order["amount"] or new_qty <= order["filled"]:
                raise wire.ApiError(400, -2038, "The requested action would change no state; "
                                                "rejecting")
            step = self.symbols.markets[symbol]["precision"]["amount"]
            if abs(new_qty / step - round(new_qty / step)) > 1e-9:
                raise wire.ApiError(400, -1013, "Filter failure: LOT_SIZE")
            new_cid = params.get("newClientOrderId") or self.new_id()
            done = self.sim.amend_order(symbol, order_id, new_qty, new_cid)
            now = self.sim.server_time()
            exec_id = next(self._exec_ids)
            self._amendments.setdefault(order_id, []).append({
                "symbol": wire_symbol(symbol), "orderId": order_id, "executionId": exec_id,
                "origClientOrderId": order["clientOrderId"], "newClientOrderId": new_cid,
                "origQty": num(order["amount"]), "newQty": num(new_qty), "time": now})
            lst = self.book.list_of(order_id)
            wire_type = self.account._wire_type(order_id, done)
            amended = {
                "symbol": wire_symbol(symbol), "orderId": order_id,
                "orderListId": lst.list_id if lst else -1,
                "origClientOrderId": order["clientOrderId"], "clientOrderId": new_cid,
                "price": num(0.0 if done["price"] is None else done["price"]),
                "qty": num(new_qty), "executedQty": num(done["filled"]),
                "preventedQty": num(done.get("preventedQuantity") or 0.0),
                "quoteOrderQty": num(done.get("quoteOrderQty") or 0.0),
                "cumulativeQuoteQty": num(done["cost"]),
                "status": order_wire.wire_status(done, self.account.list_of(order_id)[1]),
                "timeInForce": done.get("timeInForce") or "GTC", "type": wire_type,
                "side": done["side"].upper(), "workingTime": done.get("workingTime"),
                "selfTradePreventionMode": done.get("selfTradePreventionMode") or "NONE"}
            answer: dict[str, Any] = {"transactTime": now, "executionId": exec_id,
                                      "amendedOrder": amended}
            if lst is not None:
                status = self.book.status(lst)
                status.pop("listStatusType")
                status.pop("transactionTime")
                answer["listStatus"] = status
            return answer

    def amendments_of(self, symbol: str, order_id: int, from_id: int | None,
                      limit: int) -> list[dict[str, Any]]:
        """GET order/amendments' rows for one order, oldest first (the hook info_routes uses)."""
        with self.sim.lock:
            rows = [r for r in self._amendments.get(order_id, ())
                    if r["symbol"] == wire_symbol(symbol)
                    and (from_id is None or r["executionId"] >= from_id)]
        return rows[:limit]
