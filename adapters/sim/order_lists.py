"""SIGNED order-list, cancel-replace, amend and SOR endpoints (Binance's rest-api.md).

POST order/cancelReplace (STOP_ON_FAILURE / ALLOW_FAILURE; -2021/-2022 with `data`), PUT
order/amend/keepPriority (reduce an open order's quantity in place; the amendments are what GET
order/amendments serves), the order lists (POST orderList/oco, orderList/oto, orderList/otoco;
DELETE orderList; GET orderList, allOrderList, openOrderList) and POST sor/order[/test], which
answer -1013 "This symbol has no SOR." as Binance does for a symbol without SOR.

Model.  An order list's legs are ordinary core orders linked here by the list id.  A LIMIT /
LIMIT_MAKER leg is placed on the book at once (an OTO's working order, an OCO's limit leg); a
stop leg (STOP_LOSS[_LIMIT], TAKE_PROFIT[_LIMIT]) and an OTO's pending order are *held*: open,
listed and cancellable, but off the book and locking nothing (Binance locks an OCO's funds once,
through its limit leg).  After every sweep of the core (any call that looks at the book, the
maker fills included) the lists are reconciled: a working order that filled releases its pending
order(s); an OCO leg that traded expires the other; a held stop leg whose stopPrice the last
price has reached expires the other leg and goes on the book (STOP_LOSS / TAKE_PROFIT as a
market order, the _LIMIT kinds as a limit order); a leg cancelled by DELETE order cancels the
rest of its list.  Simplifications: no trailingDelta, iceberg or peg parameters; GET order and
allOrders show the legs with orderListId -1 and a held pending order as NEW (the list endpoints
show the list id and PENDING_NEW); a list whose second leg fails to place answers the error and
leaves its first leg cancelled.
"""

from __future__ import annotations

import itertools
import random
import string
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from adapters.sim import binance_wire as wire
from adapters.sim import order_wire
from adapters.sim.account_routes import STP_DEFAULT, Account
from adapters.sim.binance_wire import num, wire_symbol
from adapters.sim.engine import Simulator
from adapters.sim.market_routes import Symbols
from adapters.sim.params import float_param, limit_param, opt_int

STOP_TYPES = ("STOP_LOSS", "STOP_LOSS_LIMIT", "TAKE_PROFIT", "TAKE_PROFIT_LIMIT")
LIMIT_TYPES = ("LIMIT", "LIMIT_MAKER")
OCO_TYPES = ("LIMIT_MAKER", *STOP_TYPES)
REPLACE_MODES = ("STOP_ON_FAILURE", "ALLOW_FAILURE")


class DataError(wire.ApiError):
    """A Binance error whose body carries `data` (cancelReplace's partial failures)."""

    def __init__(self, status: int, code: int, msg: str, data: dict[str, Any]) -> None:
        super().__init__(status, code, msg)
        self.data = data

    def body(self) -> dict[str, Any]:
        return {"code": self.code, "msg": self.msg, "data": self.data}


def no_sor() -> wire.ApiError:
    return wire.ApiError(400, -1013, "This symbol has no SOR.")


def bad_prices() -> wire.ApiError:
    return wire.ApiError(400, -2010, "The relationship of the prices for the orders is not "
                                     "correct.")


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


class OrderLists:
    """The endpoints above on the core's one account."""

    def __init__(self, sim: Simulator, symbols: Symbols, account: Account, seed: int) -> None:
        self.sim = sim
        self.symbols = symbols
        self.account = account
        self._lists: dict[int, OrderList] = {}
        self._list_ids = itertools.count(1)
        self._exec_ids = itertools.count(1)
        self._amendments: dict[int, list[dict[str, Any]]] = {}
        self._ids_rng = random.Random(f"{seed}:order-list-ids")
        self._reconciling = False
        sim.add_sweep_hook(self._reconcile)

    # -- helpers -------------------------------------------------------------------------------

    def _new_id(self) -> str:
        alphabet = string.ascii_letters + string.digits
        return "".join(self._ids_rng.choice(alphabet) for _ in range(22))

    def _symbol(self, params: Mapping[str, str]) -> str:
        symbol = self.symbols.one(params)
        assert symbol is not None
        return symbol

    def _order(self, symbol: str, order_id: int) -> dict[str, Any]:
        order = self.sim.fetch_order(symbol, order_id=order_id)
        assert order is not None
        return order

    def _remember(self, order_id: int, wire_type: str) -> None:
        with self.account._lock:
            self.account._wire_types[order_id] = wire_type

    def _list_of(self, order_id: int) -> OrderList | None:
        return next((lst for lst in self._lists.values()
                     if any(leg.order_id == order_id for leg in lst.legs)), None)

    # -- reconciliation (after every sweep, under the core's lock) -------------------------------

    @contextmanager
    def _quiet(self) -> Iterator[None]:
        """Hold the core's lock with no reconciliation: for changes made leg by leg."""
        with self.sim.lock:
            before, self._reconciling = self._reconciling, True
            try:
                yield
            finally:
                self._reconciling = before

    def _reconcile(self) -> None:
        if self._reconciling:
            return
        self._reconciling = True
        try:
            for lst in self._lists.values():
                if lst.order_status == "EXECUTING":
                    self._advance(lst)
        finally:
            self._reconciling = False

    def _advance(self, lst: OrderList) -> None:
        orders = {leg.order_id: self.sim.order_by_id(leg.order_id) for leg in lst.legs}
        status = {i: o["status"] for i, o in orders.items()}
        cancelled = [i for i, s in status.items() if s == "canceled"]
        if cancelled:  # a leg cancelled on its own: the whole list goes
            self._end(lst, dict.fromkeys(cancelled, "canceled"), "canceled")
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
            self._end(lst, {working[0].order_id: "expired"}, "expired")
        pair = [leg for leg in lst.legs if leg.oco and not leg.pending]
        for leg in pair:
            order = self.sim.order_by_id(leg.order_id)
            if order["filled"] or (order["status"] in ("closed", "expired") and not leg.armed):
                self._end(lst, {leg.order_id: "done"}, "expired")
                break
            if leg.armed and order["status"] == "open" and self._triggered(leg, order):
                leg.armed = False
                self._end(lst, {leg.order_id: "done"}, "expired")
                self.sim.trigger_order(leg.order_id)
                break
        final = [self.sim.order_by_id(leg.order_id)["status"] for leg in lst.legs]
        if all(s != "open" for s in final):
            lst.status_type = lst.order_status = "ALL_DONE"

    def _end(self, lst: OrderList, keep: Mapping[int, str], how: str) -> None:
        """Cancel (or expire) every open leg of `lst` not named in `keep`."""
        for leg in lst.legs:
            if leg.order_id in keep:
                continue
            order = self.sim.order_by_id(leg.order_id)
            if order["status"] == "open":
                self.sim.cancel_order(lst.symbol, order_id=leg.order_id, status=how)
            leg.armed = leg.pending = False

    def _triggered(self, leg: Leg, order: Mapping[str, Any]) -> bool:
        last = self.sim.market.quote(order["symbol"])[2]
        below = (order["side"] == "sell") == leg.wire_type.startswith("STOP_LOSS")
        assert leg.stop_price is not None
        return last <= leg.stop_price if below else last >= leg.stop_price

    # -- shapes ----------------------------------------------------------------------------------

    def _report(self, lst: OrderList, leg: Leg, resp_type: str) -> dict[str, Any]:
        order = self.sim.order_by_id(leg.order_id)
        trades = [t for t in self.sim.my_trades(lst.symbol) if int(t["order"]) == leg.order_id]
        body = order_wire.new_order(order, leg.order_id, leg.wire_type, resp_type, trades)
        body["orderListId"] = lst.list_id
        if resp_type == "ACK":
            return body
        if leg.stop_price is not None:
            body["stopPrice"] = num(leg.stop_price)
        if leg.pending:
            body["status"] = "PENDING_NEW"
        if order.get("held"):
            body["workingTime"] = -1
        if leg.wire_type in ("STOP_LOSS", "TAKE_PROFIT"):
            body["price"] = num(0.0)
        return body

    def _status(self, lst: OrderList) -> dict[str, Any]:
        legs = [self.sim.order_by_id(leg.order_id) for leg in lst.legs]
        return {"orderListId": lst.list_id, "contingencyType": lst.contingency,
                "listStatusType": lst.status_type, "listOrderStatus": lst.order_status,
                "listClientOrderId": lst.client_id, "transactionTime": lst.time,
                "symbol": wire_symbol(lst.symbol),
                "orders": [{"symbol": wire_symbol(lst.symbol), "orderId": leg.order_id,
                            "clientOrderId": o["clientOrderId"]}
                           for leg, o in zip(lst.legs, legs, strict=True)]}

    # -- placing lists ---------------------------------------------------------------------------

    def _resp_type(self, params: Mapping[str, str]) -> str:
        resp = (params.get("newOrderRespType") or "FULL").upper()
        if resp not in ("ACK", "RESULT", "FULL"):
            raise wire.ApiError(400, -1100, "Illegal characters found in parameter "
                                            "'newOrderRespType'.")
        return resp

    def _leg_spec(self, params: Mapping[str, str], prefix: str, types: tuple[str, ...],
                  side: str, quantity: float) -> dict[str, Any]:
        """One leg's parameters (`prefix` + Type, Price, StopPrice, TimeInForce, ClientOrderId)
        checked as Binance does: what its type needs must be there."""
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
        return {"type": type_, "side": side, "quantity": quantity, "price": price,
                "stop": stop, "tif": tif or "GTC",
                "cid": params.get(f"{prefix}ClientOrderId") or self._new_id()}

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
            if "selfTradePreventionMode" in params:
                sub["selfTradePreventionMode"] = params["selfTradePreventionMode"]
            answer = self.account.new_order(sub)
            return Leg(int(answer["orderId"]), leg["type"])
        core_type = "market" if leg["type"] in ("MARKET", "STOP_LOSS", "TAKE_PROFIT") else "limit"
        try:
            order = self.sim.hold_order(symbol, leg["side"].lower(), core_type, leg["quantity"],
                                        leg["price"], client_order_id=leg["cid"],
                                        stop_price=leg["stop"], time_in_force=leg["tif"],
                                        stp_mode=params.get("selfTradePreventionMode")
                                        or STP_DEFAULT)
        except Exception as exc:
            if type(exc).__module__.startswith("ccxt"):
                raise wire.error_from_core(exc) from exc
            raise
        self._remember(int(order["id"]), leg["type"])
        return Leg(int(order["id"]), leg["type"], stop_price=leg["stop"], pending=held)

    def _new_list(self, symbol: str, contingency: str, params: Mapping[str, str],
                  plan: list[tuple[dict[str, Any], bool, bool]]) -> Any:
        """Place the legs in order (spec, held?, oco?); undo on a failure."""
        resp_type = self._resp_type(params)
        list_cid = params.get("listClientOrderId") or self._new_id()
        with self.sim.lock:
            if any(lst.client_id == list_cid and lst.order_status == "EXECUTING"
                   for lst in self._lists.values()):
                raise wire.ApiError(400, -2010, "Duplicate order sent.")
            lst = OrderList(next(self._list_ids), contingency, symbol, list_cid,
                            self.sim.server_time())
            with self._quiet():  # no reaction before every leg is in
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
            self._lists[lst.list_id] = lst
            with self._quiet():  # as placed: an OTO's pending order still PENDING_NEW
                reports = [self._report(lst, leg, resp_type) for leg in lst.legs]
            self._reconcile()
            return {**self._status(lst), "orderReports": reports}

    def _oco_pair(self, params: Mapping[str, str], side: str, quantity: float,
                  prefix_above: str, prefix_below: str) -> tuple[dict[str, Any], dict[str, Any]]:
        """The OCO's (below, above) legs, their types and prices checked against the last
        price: SELL limit/take-profit above > last > stop below; BUY the mirror (-2010)."""
        above = self._leg_spec(params, prefix_above, OCO_TYPES, side, quantity)
        below = self._leg_spec(params, prefix_below, OCO_TYPES, side, quantity)
        profit = ("LIMIT_MAKER", "TAKE_PROFIT", "TAKE_PROFIT_LIMIT")
        upper, lower = (above, below) if side == "SELL" else (below, above)
        if upper["type"] not in profit or lower["type"] in profit:
            raise bad_prices()
        symbol = self._symbol(params)
        last = self.sim.market.quote(symbol)[2]

        def ref(leg: Mapping[str, Any]) -> float:
            limit = leg["type"] in ("LIMIT_MAKER", "TAKE_PROFIT_LIMIT")
            return float(leg["price"] if limit else leg["stop"])

        if not ref(above) > last > ref(below):
            raise bad_prices()
        return below, above

    def oco(self, params: dict[str, str]) -> Any:
        """POST orderList/oco."""
        symbol = self._symbol(params)
        side = self._side(params, "side")
        quantity = float_param(params, "quantity") if "quantity" in params else None
        if quantity is None:
            raise wire.missing("quantity")
        below, above = self._oco_pair(params, side, quantity, "above", "below")
        return self._new_list(symbol, "OCO", params, [(below, False, True),
                                                      (above, False, True)])

    def oto(self, params: dict[str, str]) -> Any:
        """POST orderList/oto: the working order on the book, the pending one held."""
        symbol = self._symbol(params)
        working = self._working(params)
        pending = self._leg_spec(params, "pending", ("LIMIT", "MARKET", *OCO_TYPES),
                                 self._side(params, "pendingSide"),
                                 self._qty(params, "pendingQuantity"))
        return self._new_list(symbol, "OTO", params, [(working, False, False),
                                                      (pending, True, False)])

    def otoco(self, params: dict[str, str]) -> Any:
        """POST orderList/otoco: the working order, then a held OCO pair."""
        symbol = self._symbol(params)
        working = self._working(params)
        below, above = self._oco_pair(params, self._side(params, "pendingSide"),
                                      self._qty(params, "pendingQuantity"), "pendingAbove",
                                      "pendingBelow")
        return self._new_list(symbol, "OTO", params, [(working, False, False),
                                                      (below, True, True),
                                                      (above, True, True)])

    def _working(self, params: Mapping[str, str]) -> dict[str, Any]:
        return self._leg_spec(params, "working", LIMIT_TYPES, self._side(params, "workingSide"),
                              self._qty(params, "workingQuantity"))

    @staticmethod
    def _side(params: Mapping[str, str], name: str) -> str:
        side = (params.get(name) or "").upper()
        if not side:
            raise wire.missing(name)
        if side not in ("BUY", "SELL"):
            raise wire.ApiError(400, -1117, "Invalid side.")
        return side

    @staticmethod
    def _qty(params: Mapping[str, str], name: str) -> float:
        if name not in params:
            raise wire.missing(name)
        return float_param(params, name)

    # -- list look-ups and cancel ----------------------------------------------------------------

    def _find_list(self, params: Mapping[str, str], cid_name: str) -> OrderList | None:
        list_id = opt_int(params, "orderListId")
        cid = params.get(cid_name)
        if list_id is None and not cid:
            raise wire.ApiError(400, -1102, f"Param '{cid_name}' or 'orderListId' must be "
                                            "sent, but both were empty/null!")
        if list_id is not None:
            lst = self._lists.get(list_id)
            return lst if lst is not None and (not cid or lst.client_id == cid) else None
        return next((lst for lst in reversed(self._lists.values()) if lst.client_id == cid),
                    None)

    def cancel_list(self, params: dict[str, str]) -> Any:
        """DELETE orderList: cancel every open leg; ALL_DONE."""
        symbol = self._symbol(params)
        with self.sim.lock:
            self.sim.server_time()
            self.sim.orders()  # a sweep: the lists are up to date
            lst = self._find_list(params, "listClientOrderId")
            if lst is None or lst.symbol != symbol or lst.order_status != "EXECUTING":
                raise wire.ApiError(400, -2011, "Order list does not exist.")
            cancel_id = params.get("newClientOrderId") or self._new_id()
            with self._quiet():
                self._end(lst, {}, "canceled")
            lst.status_type = lst.order_status = "ALL_DONE"
            now = self.sim.server_time()
            reports = []
            for leg in lst.legs:
                order = self.sim.order_by_id(leg.order_id)
                body = order_wire.cancel_order(order, leg.order_id, leg.wire_type,
                                               cancel_id if leg is lst.legs[0] else
                                               self._new_id(), now)
                body["orderListId"] = lst.list_id
                if leg.stop_price is not None:
                    body["stopPrice"] = num(leg.stop_price)
                reports.append(body)
            return {**self._status(lst), "transactionTime": now, "orderReports": reports}

    def query_list(self, params: dict[str, str]) -> Any:
        """GET orderList."""
        with self.sim.lock:
            self.sim.orders()
            lst = self._find_list(params, "origClientOrderId")
            if lst is None:
                raise wire.ApiError(400, -2013, "Order list does not exist.")
            return self._status(lst)

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
            rows = list(self._lists.values())
            page = Account._page(rows, lambda r: r.list_id, lambda r: r.time, limit, from_id,
                                 start, end)
            return [self._status(lst) for lst in page]

    def open_lists(self, params: dict[str, str]) -> Any:
        """GET openOrderList."""
        with self.sim.lock:
            self.sim.orders()
            return [self._status(lst) for lst in self._lists.values()
                    if lst.order_status == "EXECUTING"]

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
        self._side(params, "side")
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
        lst = self._list_of(order_id)
        if lst is not None:
            answer["orderListId"] = lst.list_id
            self._reconcile()
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
            new_cid = params.get("newClientOrderId") or self._new_id()
            done = self.sim.amend_order(symbol, order_id, new_qty, new_cid)
            now = self.sim.server_time()
            exec_id = next(self._exec_ids)
            self._amendments.setdefault(order_id, []).append({
                "symbol": wire_symbol(symbol), "orderId": order_id, "executionId": exec_id,
                "origClientOrderId": order["clientOrderId"], "newClientOrderId": new_cid,
                "origQty": num(order["amount"]), "newQty": num(new_qty), "time": now})
            lst = self._list_of(order_id)
            wire_type = self.account._wire_type(order_id, done)
            amended = {
                "symbol": wire_symbol(symbol), "orderId": order_id,
                "orderListId": lst.list_id if lst else -1,
                "origClientOrderId": order["clientOrderId"], "clientOrderId": new_cid,
                "price": num(0.0 if done["price"] is None else done["price"]),
                "qty": num(new_qty), "executedQty": num(done["filled"]),
                "preventedQty": num(0.0), "quoteOrderQty": num(done.get("quoteOrderQty") or 0.0),
                "cumulativeQuoteQty": num(done["cost"]), "status": order_wire.wire_status(done),
                "timeInForce": done.get("timeInForce") or "GTC", "type": wire_type,
                "side": done["side"].upper(), "workingTime": done.get("workingTime"),
                "selfTradePreventionMode": done.get("selfTradePreventionMode") or "NONE"}
            answer: dict[str, Any] = {"transactTime": now, "executionId": exec_id,
                                      "amendedOrder": amended}
            if lst is not None:
                status = self._status(lst)
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

    # -- SOR ---------------------------------------------------------------------------------------

    def sor_order(self, params: dict[str, str]) -> Any:
        """POST sor/order[/test]: the simulator configures no SOR, so every symbol answers
        Binance's -1013 for a symbol without one (after the symbol and mandatory checks)."""
        self._symbol(params)
        self._side(params, "side")
        if not params.get("type"):
            raise wire.missing("type")
        if "quantity" not in params:
            raise wire.missing("quantity")
        raise no_sor()
