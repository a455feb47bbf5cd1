"""The simulator core: one account's balances and orders matched against a seeded Market.

Transport-free on purpose: the in-process paper adapter calls it directly, and an HTTP front
end can serve the same object in an exchange's wire format.  Orders are validated the way
Binance does (LOT_SIZE, PRICE_FILTER, MIN_NOTIONAL, balance: filters.py) and raise ccxt's classes.

Two fill models (`fill_model`): "simple" (the core's and the paper adapter's default; the HTTP
server's from_config defaults to "book") and "book" (Binance's rules), described in fills.py,
which applies them to the account: fills, commission, funds locked by a resting order, the sweep
that fills resting orders as maker.  A taker order's walk of the book, the account's own resting
orders in it, is matching.py's; self-trade prevention takes effect in self_trade.py.  Here:
validation, the public ccxt-named calls and the hooks order lists use; the orders' records and
look-ups (by exchange id, the newest by client id) are order_records.py.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from adapters.sim.faults import ccxt_error
from adapters.sim.fills import Ledger
from adapters.sim.filters import Plan, invalid, plan_order
from adapters.sim.held_orders import HeldOrders
from adapters.sim.market import Market
from adapters.sim.matching import Resting, Walk, taker_fills
from adapters.sim.order_records import OrderRecords, new_order_record
from adapters.sim.self_trade import PreventedMatch, PreventedMatches, prevent, resting_against
from adapters.sim.settings import SimSettings, check_fill_model, simulator_settings
from adapters.sim.specs import MarketSpec

DEFAULT_BALANCES: dict[str, float] = {"USDT": 10_000.0, "BTC": 0.5, "ETH": 5.0}
TIME_IN_FORCE = ("GTC", "IOC", "FOK")


class Simulator(HeldOrders):
    """The simulated exchange; every public method is thread-safe and named as in ccxt."""

    def __init__(
        self,
        market: Market,
        balances: Mapping[str, float] | None = None,
        *,
        slippage_bps: float = 1.0,
        fill_model: str = "simple",
        bnb_burn: bool = False,
    ) -> None:
        check_fill_model(fill_model)
        self.market = market
        self.slippage_bps = float(slippage_bps)
        self.fill_model = fill_model
        self.bnb_burn = bool(bnb_burn)
        initial = DEFAULT_BALANCES if balances is None else balances
        self._ledger = Ledger(market, initial, fill_model=fill_model, bnb_burn=self.bnb_burn)
        self._records = OrderRecords()
        self.prevented = PreventedMatches()  # self-trade prevention's record (self_trade.py)
        self._lock = threading.RLock()
        self._hooks: list[Callable[[], None]] = []  # after each sweep (order lists)

    @classmethod
    def create(cls, **settings: Any) -> Simulator:
        """Build from plain config: the keywords of settings.simulator_settings, which checks
        them (drift/volatility annualised, *_bps in basis points)."""
        return cls.build(simulator_settings(**settings))

    @classmethod
    def build(cls, checked: SimSettings) -> Simulator:
        market = Market(checked.specs, checked.seed, spread_bps=checked.spread_bps,
                        history=checked.history, clock_offset_ms=checked.clock_offset_ms,
                        clock=checked.clock or time.time)
        return cls(market, checked.balances, slippage_bps=checked.slippage_bps,
                   fill_model=checked.fill_model, bnb_burn=checked.bnb_burn)

    # -- market data -----------------------------------------------------------------------

    def server_time(self) -> int:
        return self.market.now_ms()

    def load_markets(self) -> dict[str, dict[str, Any]]:
        return self.market.markets()

    def fetch_ticker(self, symbol: str) -> dict[str, Any]:
        with self._lock:
            self._sweep()
            return self.market.ticker(symbol)

    def fetch_ohlcv(
        self, symbol: str, timeframe: str = "1m", limit: int = 100
    ) -> list[list[float]]:
        return self.market.ohlcv(symbol, timeframe, limit)

    # -- account ---------------------------------------------------------------------------

    def fetch_balance(self) -> dict[str, dict[str, float]]:
        with self._lock:
            self._sweep()
            # Rounded for display only: float noise like 500.49999999999994 helps nobody.
            free, used = self._ledger.free, self._ledger.used
            return {c: {"free": round(free[c], 10), "used": round(used[c], 10),
                        "total": round(free[c] + used[c], 10)} for c in free}

    def create_order(
        self,
        symbol: str,
        side: str,
        type: str,
        amount: float,
        price: float | None = None,
        *,
        client_order_id: str,
        test: bool = True,
        time_in_force: str = "GTC",
        quote_amount: float | None = None,
        stp_mode: str = "NONE",
        extra: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Validate, then (unless `test`) fill or rest the order; returns a ccxt-shaped order.

        `time_in_force` (limit orders): GTC rests what does not fill at once, IOC expires it,
        FOK fills whole or expires.  `quote_amount` (market orders): the quote to spend (buy) or
        receive (sell), Binance's quoteOrderQty; `amount` is then the estimate the filters
        check, and in the "book" model the quantity is what the walk of the book gives.
        `stp_mode`: the order's self-trade prevention; `extra`: fields stored as they are.
        """
        spec = self.market.spec(symbol)
        if time_in_force not in TIME_IN_FORCE:
            raise invalid(f"timeInForce must be one of {TIME_IN_FORCE}, got {time_in_force!r}")
        with self._lock:
            self._sweep()
            self._records.check_unique(symbol, client_order_id)
            amount, plan, walk = self._plan(spec, side, type, float(amount), price,
                                            time_in_force, quote_amount, stp_mode)
            order = new_order_record(spec, side, type, float(amount), price, client_order_id,
                                     self.market.now_ms(), time_in_force, quote_amount,
                                     stp_mode)
            order.update(extra or {})
            if test:
                order.update(status="test", id=None)
                return order
            self._records.register(order)
            self._settle(spec, order, plan, walk)
            return dict(order)

    def fetch_order(self, symbol: str, *, client_order_id: str | None = None,
                    order_id: int | str | None = None) -> dict[str, Any] | None:
        """The order with this exchange id, else the newest with this client id (or None)."""
        self.market.spec(symbol)
        with self._lock:
            self._sweep()
            order = self._records.find(symbol, client_order_id, order_id)
            return dict(order) if order is not None else None

    def cancel_order(self, symbol: str, *, client_order_id: str | None = None,
                     order_id: int | str | None = None, status: str = "canceled",
                     reason: str | None = None) -> dict[str, Any]:
        """Cancel an open order and release its funds; filled/cancelled/unknown → OrderNotFound.
        `status="expired"`: an order list's other leg, ended by the exchange for `reason`
        (Binance's expiryReason)."""
        self.market.spec(symbol)
        with self._lock:
            self._sweep()
            order = self._records.find(symbol, client_order_id, order_id)
            if order is None or order["status"] != "open":
                raise ccxt_error("OrderNotFound",
                                 f"Unknown order sent: {client_order_id or order_id}")
            self._ledger.release(int(order["id"]))  # a held order locks nothing
            order.update(status=status, lastUpdateTimestamp=self.market.now_ms())
            if reason:
                order["expiryReason"] = reason
            return dict(order)

    def orders(self, symbol: str | None = None) -> list[dict[str, Any]]:
        """Every order placed (of `symbol`, or all), oldest first; copies."""
        with self._lock:
            self._sweep()
            return [dict(o) for o in self._records.by_id.values()
                    if symbol is None or o["symbol"] == symbol]

    def prevented_matches(self, symbol: str | None = None, *,
                          taker_id: int | None = None) -> list[PreventedMatch]:
        """The account's prevented matches (self_trade.py; of `symbol`, of one taker order),
        oldest first."""
        with self._lock:
            self._sweep()
            return [r for r in self.prevented.rows if (symbol is None or r.symbol == symbol)
                    and (taker_id is None or r.taker_id == taker_id)]

    def my_trades(self, symbol: str | None = None) -> list[dict[str, Any]]:
        """The account's fills (ccxt trade shape, `order` the exchange order id), oldest first."""
        with self._lock:
            self._sweep()
            return [dict(t) for t in self._ledger.trades if symbol is None or t["symbol"] == symbol]

    # -- order lists and stops (their core calls: held_orders.py) ----------------------------

    @property
    def lock(self) -> threading.RLock:
        """The core's lock, for callers that must see and change several orders at once."""
        return self._lock

    def order_by_id(self, order_id: int | str) -> dict[str, Any]:
        """A copy of the order with this exchange id, without a sweep (for sweep hooks)."""
        with self._lock:
            return dict(self._records.by_id[int(order_id)])

    def add_sweep_hook(self, hook: Callable[[], None]) -> None:
        """Call `hook` (under the lock) after every sweep of resting orders: order lists use it
        to react to maker fills (an OCO's other leg, an OTO's pending order)."""
        self._hooks.append(hook)

    def resting(self, symbol: str, side: str, limit: float | None = None) -> list[Resting]:
        """The account's resting orders a `side` taker at `limit` would meet, best first (the
        book model only: the simple model never meets its own orders)."""
        if self.fill_model != "book":
            return []
        with self._lock:
            return resting_against(self._records.by_id, self._ledger.locks, symbol, side, limit)

    def _plan(self, spec: MarketSpec, side: str, type_: str, amount: float,
              price: float | None, time_in_force: str, quote_amount: float | None,
              stp_mode: str = "NONE") -> tuple[float, Plan, Walk]:
        """The filters' plan and, in the book model, the walk of the book (with the account's
        own orders, under `stp_mode`): (quantity, plan, walk); raises the filters' and the
        funds' rejections."""
        free = self._ledger.free.get(spec.quote if side == "buy" else spec.base, 0.0)
        book = self.fill_model == "book"
        plan = plan_order(spec, side, type_, amount, price, quote=self.market.quote(spec.symbol),
                          free=math.inf if book else free,
                          slippage_bps=0.0 if book else self.slippage_bps)
        walk = Walk()
        if book:
            own = self.resting(spec.symbol, side, float(price) if type_ == "limit" else None)
            amount, walk = taker_fills(self.market, spec, side, type_, amount, price, plan,
                                       time_in_force, quote_amount, free, own, stp_mode)
        return amount, plan, walk

    def _settle(self, spec: MarketSpec, order: dict[str, Any], plan: Plan, walk: Walk) -> None:
        """Apply a placed (or triggered) order's walk: its prevented matches, then its fills."""
        prevent(self._ledger, self.prevented, spec, order, walk, self._records.by_id,
                self.market.now_ms())
        self._ledger.settle(spec, order, plan, walk, self._records.by_id)

    # -- internals (callers hold the lock) ---------------------------------------------------

    def _sweep(self) -> None:
        """Fill the resting orders the book now crosses (fills.py), then run the hooks."""
        self._ledger.sweep(self._records.by_id)
        for hook in self._hooks:
            hook()
