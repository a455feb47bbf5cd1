"""SIGNED account and order endpoints (account, order, openOrders, allOrders, myTrades).

The core knows orders only by (symbol, clientOrderId) and has no listing call, so this keeps
Binance's numeric orderId -> (symbol, clientOrderId) map, each order's wire type (LIMIT_MAKER
looks like a limit to the core) and which orders filled as taker.
"""

from __future__ import annotations

import random
import string
import threading
from collections.abc import Mapping
from typing import Any

from adapters.sim import binance_wire as wire
from adapters.sim.engine import Simulator
from adapters.sim.market_routes import Symbols
from adapters.sim.params import float_param, int_param

Row = tuple[int, dict[str, Any]]  # (orderId, core order)


class Account:
    """Order entry and look-ups on the core's one account, in Binance's shapes and errors."""

    def __init__(self, sim: Simulator, symbols: Symbols, seed: int) -> None:
        self.sim = sim
        self.symbols = symbols
        self._markets = symbols.markets
        self._ids_rng = random.Random(f"{seed}:client-order-ids")
        self.orders: dict[int, tuple[str, str]] = {}  # orderId -> (symbol, clientOrderId)
        self._wire_types: dict[int, str] = {}
        self._taker: set[int] = set()
        self._lock = threading.Lock()

    def account(self, params: dict[str, str]) -> Any:
        any_market = next(iter(self._markets.values()))
        omit = params.get("omitZeroBalances", "false").lower() == "true"
        return wire.account(self.sim.fetch_balance(), self.sim.server_time(),
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
        if wire_type not in ("LIMIT", "MARKET", "LIMIT_MAKER"):
            raise wire.ApiError(400, -1116, "Invalid orderType.")
        tif = params.get("timeInForce")
        if wire_type == "LIMIT" and not tif:
            raise wire.missing("timeInForce")
        if wire_type == "LIMIT" and tif != "GTC":
            raise wire.ApiError(400, -1115, "Invalid timeInForce.")  # the core rests GTC only
        if wire_type != "LIMIT" and tif:
            raise wire.not_required("timeInForce")
        price = float_param(params, "price") if "price" in params else None
        if wire_type == "MARKET" and price is not None:
            raise wire.not_required("price")
        if wire_type != "MARKET" and price is None:
            raise wire.missing("price")
        amount = self._quantity(symbol, side, wire_type, params)
        resp_type = (params.get("newOrderRespType") or "FULL").upper()
        if resp_type not in ("ACK", "RESULT", "FULL"):
            raise wire.ApiError(400, -1100, "Illegal characters found in parameter "
                                            "'newOrderRespType'.")
        bid, ask, _ = self.sim.market.quote(symbol)
        if wire_type == "LIMIT_MAKER" and (price >= ask if side == "BUY" else price <= bid):  # type: ignore[operator]
            raise wire.ApiError(400, -2010, "Order would immediately match and take.")
        cid = params.get("newClientOrderId") or self._new_client_id()
        order = self.sim.create_order(symbol, side.lower(), "market" if wire_type == "MARKET"
                                      else "limit", amount, price, client_order_id=cid,
                                      test=test)
        if test:
            return {}
        order_id = int(order["id"])
        with self._lock:
            self.orders[order_id] = (symbol, cid)
            self._wire_types[order_id] = wire_type
            if order["status"] == "closed":
                self._taker.add(order_id)
        return wire.new_order(order, order_id, wire_type, resp_type)

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
        """The order named by orderId or origClientOrderId: (orderId, core order)."""
        symbol = self.symbols.one(params)
        assert symbol is not None
        cid = params.get("origClientOrderId")
        if "orderId" in params:
            order_id = int_param(params, "orderId")
            with self._lock:
                known = self.orders.get(order_id)
            if known is None or known[0] != symbol:
                raise wire.ApiError(400, -2013, "Order does not exist.")
            cid = known[1]
        elif not cid:
            raise wire.ApiError(400, -1102, "Param 'origClientOrderId' or 'orderId' must be "
                                            "sent, but both were empty/null!")
        order = self.sim.fetch_order(symbol, client_order_id=cid)
        if order is None:
            raise wire.ApiError(400, -2013, "Order does not exist.")
        return int(order["id"]), order

    def _wire_type(self, order_id: int, order: Mapping[str, Any]) -> str:
        with self._lock:
            return self._wire_types.get(order_id, str(order["type"]).upper())

    def query_order(self, params: dict[str, str]) -> Any:
        order_id, order = self._find(params)
        return wire.query_order(order, order_id, self._wire_type(order_id, order))

    def cancel_order(self, params: dict[str, str]) -> Any:
        try:
            order_id, order = self._find(params)
        except wire.ApiError as err:
            if err.code == -2013:
                raise wire.ApiError(400, -2011, "Unknown order sent.") from None
            raise
        done = self.sim.cancel_order(order["symbol"], client_order_id=order["clientOrderId"])
        cancel_id = params.get("newClientOrderId") or self._new_client_id()
        return wire.cancel_order(done, order_id, self._wire_type(order_id, done), cancel_id,
                                 self.sim.server_time())

    def _orders_of(self, symbols: list[str] | None) -> list[Row]:
        """Orders placed through this server (the core has no listing call), by orderId."""
        with self._lock:
            known = sorted(self.orders.items())
        rows = []
        for order_id, (symbol, cid) in known:
            if symbols is None or symbol in symbols:
                order = self.sim.fetch_order(symbol, client_order_id=cid)
                if order is not None:
                    rows.append((order_id, order))
        return rows

    def open_orders(self, params: dict[str, str]) -> Any:
        symbol = self.symbols.one(params, required=False)
        return [wire.query_order(o, i, self._wire_type(i, o))
                for i, o in self._orders_of([symbol] if symbol else None)
                if o["status"] == "open"]

    def cancel_all(self, params: dict[str, str]) -> Any:
        symbol = self.symbols.one(params)
        open_ = [(i, o) for i, o in self._orders_of([symbol]) if o["status"] == "open"]  # type: ignore[list-item]
        if not open_:
            raise wire.ApiError(400, -2011, "Unknown order sent.")
        now = self.sim.server_time()
        return [wire.cancel_order(self.sim.cancel_order(o["symbol"],
                                                        client_order_id=o["clientOrderId"]),
                                  i, self._wire_type(i, o), self._new_client_id(), now)
                for i, o in open_]

    @staticmethod
    def _selected(params: dict[str, str], rows: list[Row]) -> list[Row]:
        """allOrders/myTrades paging: from an orderId, within a time range, up to `limit`."""
        lo, hi = int_param(params, "startTime", 0), int_param(params, "endTime", 2**62)
        first_id = int_param(params, "orderId", int_param(params, "fromId", 0))
        rows = [(i, o) for i, o in rows if i >= first_id and lo <= o["timestamp"] <= hi]
        return rows[:min(int_param(params, "limit", 500), 1_000)]

    def all_orders(self, params: dict[str, str]) -> Any:
        symbol = self.symbols.one(params)
        rows = self._selected(params, self._orders_of([symbol]))  # type: ignore[list-item]
        return [wire.query_order(o, i, self._wire_type(i, o)) for i, o in rows]

    def my_trades(self, params: dict[str, str]) -> Any:
        symbol = self.symbols.one(params)
        filled = [(i, o) for i, o in self._orders_of([symbol])  # type: ignore[list-item]
                  if o["status"] == "closed"]
        with self._lock:
            taker = set(self._taker)
        return [wire.trade(o, i, maker=i not in taker) for i, o in self._selected(params, filled)]

    def _new_client_id(self) -> str:
        """A Binance-style 22-character id, from a seeded stream so runs repeat."""
        alphabet = string.ascii_letters + string.digits
        with self._lock:
            return "".join(self._ids_rng.choice(alphabet) for _ in range(22))
