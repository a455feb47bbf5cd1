"""SIGNED account and order endpoints (account, order, openOrders, allOrders, myTrades).

The core keeps orders by exchange id and lists them and the account's fills; this adds what only
the wire knows (each order's wire type: LIMIT_MAKER looks like a limit to the core; which order
list an order is a leg of, through the `list_of` hook order lists install), the iceberg and STP
parameters (iceberg.py, self_trade.py) and Binance's paging rules for allOrders and myTrades.
"""

from __future__ import annotations

import random
import string
import threading
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from adapters.sim import binance_wire as wire
from adapters.sim import order_wire
from adapters.sim.engine import Simulator
from adapters.sim.iceberg import iceberg_qty
from adapters.sim.intervals import DAY_MS
from adapters.sim.market_routes import Symbols
from adapters.sim.params import float_param, int_param, limit_param, opt_int
from adapters.sim.self_trade import STP_DEFAULT, STP_MODES
from adapters.sim.stop_orders import MARKET_STOPS, STOP_TYPES, StopBook, stop_params

__all__ = ["ORDER_TYPES", "STP_DEFAULT", "STP_MODES", "Account", "stp_param"]

Row = tuple[int, dict[str, Any]]  # (orderId, core order)
ORDER_TYPES = ("LIMIT", "MARKET", "LIMIT_MAKER", *STOP_TYPES)  # exchangeInfo's orderTypes
T = TypeVar("T")


def stp_param(params: Mapping[str, str]) -> str:
    """selfTradePreventionMode: the symbol's default when absent; not an STP mode: -1130."""
    stp = params.get("selfTradePreventionMode") or STP_DEFAULT
    if stp not in STP_MODES:
        raise wire.ApiError(400, -1130, "Data sent for parameter 'selfTradePreventionMode' "
                                        "is not valid.")
    return stp


class Account:
    """Order entry and look-ups on the core's one account, in Binance's shapes and errors."""

    def __init__(self, sim: Simulator, symbols: Symbols, seed: int) -> None:
        self.sim = sim
        self.symbols = symbols
        self._markets = symbols.markets
        self._ids_rng = random.Random(f"{seed}:client-order-ids")
        self._wire_types: dict[int, str] = {}
        self._lock = threading.Lock()
        self.stops = StopBook(sim)  # the held standalone stop orders (stop_orders.py)
        # orderId -> (orderListId, PENDING_NEW?); order lists (order_lists.py) install theirs
        self.list_of: Callable[[int], tuple[int, bool]] = lambda _order_id: (-1, False)

    def account(self, params: dict[str, str]) -> Any:
        any_market = next(iter(self._markets.values()))
        omit = params.get("omitZeroBalances", "false").lower() == "true"
        return order_wire.account(self.sim.fetch_balance(), self.sim.server_time(),
                                  any_market["taker"], any_market["maker"], omit)

    def new_order(self, params: dict[str, str], test: bool = False) -> Any:
        symbol = self.symbols.one(params)
        assert symbol is not None
        side = (params.get("side") or "").upper()
        wire_type = (params.get("type") or "").upper()
        if not side:
            raise wire.missing("side")
        if side not in ("BUY", "SELL"):
            raise wire.ApiError(400, -1117, "Invalid side.")
        if not wire_type:
            raise wire.missing("type")
        if wire_type not in ORDER_TYPES:
            raise wire.ApiError(400, -1116, "Invalid orderType.")
        tif = params.get("timeInForce")
        limit_kind = wire_type in ("LIMIT", "STOP_LOSS_LIMIT", "TAKE_PROFIT_LIMIT")
        if limit_kind and not tif:
            raise wire.missing("timeInForce")
        if limit_kind and tif not in ("GTC", "IOC", "FOK"):
            raise wire.ApiError(400, -1115, "Invalid timeInForce.")
        if not limit_kind and tif:
            raise wire.not_required("timeInForce")
        price = float_param(params, "price") if "price" in params else None
        market_kind = wire_type in ("MARKET", *MARKET_STOPS)
        if market_kind and price is not None:
            raise wire.not_required("price")
        if not market_kind and price is None:
            raise wire.missing("price")
        stop, delta = stop_params(wire_type, params)
        amount = self._quantity(symbol, side, wire_type, params)
        iceberg = iceberg_qty(params, "icebergQty", wire_type, tif, amount,
                              self._markets[symbol])
        # Binance: MARKET and LIMIT answer FULL by default, every other type ACK
        resp_type = (params.get("newOrderRespType")
                     or ("FULL" if wire_type in ("MARKET", "LIMIT") else "ACK")).upper()
        if resp_type not in ("ACK", "RESULT", "FULL"):
            raise wire.ApiError(400, -1100, "Illegal characters found in parameter "
                                            "'newOrderRespType'.")
        if wire_type == "LIMIT_MAKER" and self._would_take(symbol, side, price):  # type: ignore[arg-type]
            raise wire.ApiError(400, -2010, "Order would immediately match and take.")
        stp = stp_param(params)
        cid = params.get("newClientOrderId") or self._new_client_id()
        extra = {} if iceberg is None else {"icebergQty": iceberg}
        if wire_type in STOP_TYPES:
            order = self.stops.place(symbol, side, wire_type, amount, price, stop, delta,
                                     client_order_id=cid, time_in_force=tif or "GTC",
                                     stp_mode=stp, test=test, extra=extra)
            return self._answer(order, wire_type, resp_type, test)
        quote_qty = (float_param(params, "quoteOrderQty") if wire_type == "MARKET"
                     and "quantity" not in params and "quoteOrderQty" in params else None)
        order = self.sim.create_order(symbol, side.lower(), "market" if wire_type == "MARKET"
                                      else "limit", amount, price, client_order_id=cid,
                                      test=test, time_in_force=tif or "GTC",
                                      quote_amount=quote_qty, stp_mode=stp, extra=extra)
        return self._answer(order, wire_type, resp_type, test)

    def _would_take(self, symbol: str, side: str, price: float) -> bool:
        """A LIMIT_MAKER at `price` would trade at once: with the book, or with a resting order
        of the account's own (rejected before STP could apply)."""
        bid, ask, _ = self.sim.market.quote(symbol)
        if price >= ask if side == "BUY" else price <= bid:
            return True
        return bool(self.sim.resting(symbol, side.lower(), price))

    def _answer(self, order: Mapping[str, Any], wire_type: str, resp_type: str,
                test: bool) -> Any:
        if test:
            return {}
        order_id = int(order["id"])
        with self._lock:
            self._wire_types[order_id] = wire_type
        trades = [t for t in self.sim.my_trades(order["symbol"]) if t["order"] == order["id"]]
        return order_wire.new_order(order, order_id, wire_type, resp_type, trades,
                                    *self.list_of(order_id),
                                    prevented=self.sim.prevented_matches(taker_id=order_id))

    def test_order(self, params: dict[str, str]) -> Any:
        return self.new_order(params, test=True)

    def _quantity(self, symbol: str, side: str, wire_type: str, params: dict[str, str]) -> float:
        if "quantity" in params:
            return float_param(params, "quantity")
        if wire_type == "MARKET" and "quoteOrderQty" in params:
            bid, ask, _ = self.sim.market.quote(symbol)
            step = self._markets[symbol]["precision"]["amount"]
            return wire.step_floor(float_param(params, "quoteOrderQty") / (ask if side == "BUY"
                                                                           else bid), step)
        if wire_type == "MARKET":
            raise wire.ApiError(400, -1102, "Param 'quantity' or 'quoteOrderQty' must be sent, "
                                            "but both were empty/null!")
        raise wire.missing("quantity")

    def _find(self, params: dict[str, str]) -> Row:
        """The order named by orderId and/or origClientOrderId: (orderId, core order).

        Both given: the order with that id, and only if its client id matches (Binance's rule).
        """
        symbol = self.symbols.one(params)
        assert symbol is not None
        cid = params.get("origClientOrderId")
        if "orderId" in params:
            order = self.sim.fetch_order(symbol, order_id=int_param(params, "orderId"))
            if order is not None and cid and order["clientOrderId"] != cid:
                order = None
        elif cid:
            order = self.sim.fetch_order(symbol, client_order_id=cid)
        else:
            raise wire.ApiError(400, -1102, "Param 'origClientOrderId' or 'orderId' must be "
                                            "sent, but both were empty/null!")
        if order is None:
            raise wire.ApiError(400, -2013, "Order does not exist.")
        return int(order["id"]), order

    def _wire_type(self, order_id: int, order: Mapping[str, Any]) -> str:
        with self._lock:
            return self._wire_types.get(order_id, str(order["type"]).upper())

    def view(self, order_id: int, order: Mapping[str, Any]) -> dict[str, Any]:
        """One order as GET order, openOrders and allOrders show it."""
        return order_wire.query_order(order, order_id, self._wire_type(order_id, order),
                                      *self.list_of(order_id))

    def query_order(self, params: dict[str, str]) -> Any:
        return self.view(*self._find(params))

    def cancel_order(self, params: dict[str, str]) -> Any:
        try:
            order_id, order = self._find(params)
        except wire.ApiError as err:
            if err.code == -2013:
                raise wire.ApiError(400, -2011, "Unknown order sent.") from None
            raise
        done = self.sim.cancel_order(order["symbol"], order_id=order_id)
        cancel_id = params.get("newClientOrderId") or self._new_client_id()
        return order_wire.cancel_order(done, order_id, self._wire_type(order_id, done),
                                       cancel_id, self.sim.server_time(),
                                       self.list_of(order_id)[0])

    def _orders_of(self, symbols: list[str] | None) -> list[Row]:
        """The core's orders (of `symbols`, or all) as (orderId, order), oldest first."""
        return [(int(o["id"]), o) for o in self.sim.orders()
                if symbols is None or o["symbol"] in symbols]

    def open_orders(self, params: dict[str, str]) -> Any:
        symbol = self.symbols.one(params, required=False)
        return [self.view(i, o) for i, o in self._orders_of([symbol] if symbol else None)
                if o["status"] == "open"]

    @staticmethod
    def _window(params: dict[str, str]) -> tuple[int | None, int | None]:
        """startTime/endTime; both given may span at most 24 hours (-1127)."""
        start, end = opt_int(params, "startTime"), opt_int(params, "endTime")
        if start is not None and end is not None and end - start > DAY_MS:
            raise wire.over_a_day()
        return start, end

    @staticmethod
    def _page(rows: list[T], ident: Callable[[T], int], when: Callable[[T], int], limit: int,
              from_id: int | None, start: int | None, end: int | None) -> list[T]:
        """Binance's paging: ids >= from_id (oldest first), else the oldest since startTime,
        else the newest until endTime, else the most recent."""
        if from_id is not None:
            return [r for r in rows if ident(r) >= from_id][:limit]
        if start is not None:
            hi = end if end is not None else 2**62
            return [r for r in rows if start <= when(r) <= hi][:limit]
        if end is not None:
            rows = [r for r in rows if when(r) <= end]
        return rows[-limit:]

    def all_orders(self, params: dict[str, str]) -> Any:
        """allOrders: orderId pages from an id; startTime/endTime (then orderId is ignored)
        filter by the last update."""
        symbol = self.symbols.one(params)
        start, end = self._window(params)
        from_id = opt_int(params, "orderId") if start is None and end is None else None
        rows = self._page(self._orders_of([symbol]), lambda r: r[0],  # type: ignore[list-item]
                          lambda r: r[1]["lastUpdateTimestamp"], limit_param(params), from_id,
                          start, end)
        return [self.view(i, o) for i, o in rows]

    def my_trades(self, params: dict[str, str]) -> Any:
        """myTrades: one order's trades (orderId, optionally from fromId), from a trade id, or
        by time; fromId and orderId do not combine with startTime/endTime (-1128)."""
        symbol = self.symbols.one(params)
        timed = "startTime" in params or "endTime" in params
        if timed and ("fromId" in params or "orderId" in params):
            raise wire.bad_combination()
        start, end = self._window(params)
        order_id, from_id = opt_int(params, "orderId"), opt_int(params, "fromId", 0)
        trades = self.sim.my_trades(symbol)
        if order_id is not None:  # that order's trades, oldest first
            trades = [t for t in trades if int(t["order"]) == order_id]
            from_id = from_id or 0
        page = self._page(trades, lambda t: int(t["id"]), lambda t: t["timestamp"],
                          limit_param(params), from_id, start, end)
        return [order_wire.trade(t, self.list_of(int(t["order"]))[0]) for t in page]

    def _new_client_id(self) -> str:
        """A Binance-style 22-character id, from a seeded stream so runs repeat."""
        alphabet = string.ascii_letters + string.digits
        with self._lock:
            return "".join(self._ids_rng.choice(alphabet) for _ in range(22))
