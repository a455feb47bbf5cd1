"""The simulator core: one account's balances and orders matched against a seeded Market.

Transport-free on purpose: the in-process paper adapter calls it directly, and an HTTP front
end can serve the same object in an exchange's wire format.  Orders are validated the way
Binance does (LOT_SIZE, PRICE_FILTER, MIN_NOTIONAL, balance) and raise ccxt's classes.

Fills: market orders fill at once at ask/bid moved by `slippage_bps`, taker fee in quote.  A
limit order that crosses the book fills at once as taker at its limit price; otherwise it rests
(funds locked in 'used') and fills whole as maker at its limit price on the first call of any
kind that sees the book cross it.  No partial fills, no order book depth.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from adapters.sim.faults import ccxt_error
from adapters.sim.market import Market, MarketSpec, build_specs, iso8601

DEFAULT_BALANCES: dict[str, float] = {"USDT": 10_000.0, "BTC": 0.5, "ETH": 5.0}
ORDER_SIDES = ("buy", "sell")
ORDER_TYPES = ("market", "limit")


def _on_grid(value: float, step: float) -> bool:
    """Whether `value` is a whole number of `step`s (1e-9 relative tolerance for float noise)."""
    q = value / step
    return abs(q - round(q)) <= 1e-9 * max(1.0, abs(q))


def _invalid(message: str) -> Exception:
    return ccxt_error("InvalidOrder", message)


@dataclass(frozen=True)
class _Plan:
    """A validated order: the price it fills (or rests) at and what it takes from the account."""

    price: float
    fills_now: bool
    fee_rate: float
    lock_currency: str
    lock_amount: float


class Simulator:
    """The simulated exchange; every public method is thread-safe and named as in ccxt."""

    def __init__(
        self,
        market: Market,
        balances: Mapping[str, float] | None = None,
        *,
        slippage_bps: float = 1.0,
    ) -> None:
        self.market = market
        self.slippage_bps = float(slippage_bps)
        initial = DEFAULT_BALANCES if balances is None else balances
        currencies = {c for spec in market.specs.values() for c in (spec.base, spec.quote)}
        self._free = {c: 0.0 for c in sorted(currencies)}
        self._free.update({c: float(v) for c, v in initial.items()})
        self._used = dict.fromkeys(self._free, 0.0)
        self._orders: dict[tuple[str, str], dict[str, Any]] = {}
        self._locks: dict[tuple[str, str], tuple[str, float]] = {}
        self._next_id = 1
        self._lock = threading.RLock()

    @classmethod
    def create(
        cls,
        *,
        seed: int = 42,
        symbols: Iterable[str] | None = None,
        markets: Mapping[str, Mapping[str, Any]] | None = None,
        start_prices: Mapping[str, float] | None = None,
        drift: float = 0.0,
        volatility: float = 0.6,
        spread_bps: float = 2.0,
        slippage_bps: float = 1.0,
        taker_fee: float = 0.001,
        maker_fee: float = 0.001,
        min_notional: float = 10.0,
        balances: Mapping[str, float] | None = None,
        history: int = 500,
        clock_offset_ms: float = 0.0,
        clock: Callable[[], float] | None = None,
    ) -> Simulator:
        """Build from plain config; drift/volatility are annualised, *_bps in basis points."""
        specs = build_specs(symbols, markets, start_prices, drift=drift, volatility=volatility,
                            taker_fee=taker_fee, maker_fee=maker_fee, min_notional=min_notional)
        market = Market(specs, seed, spread_bps=spread_bps, history=history,
                        clock_offset_ms=clock_offset_ms, clock=clock or time.time)
        return cls(market, balances, slippage_bps=slippage_bps)

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
            return {c: {"free": round(self._free[c], 10), "used": round(self._used[c], 10),
                        "total": round(self._free[c] + self._used[c], 10)} for c in self._free}

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
    ) -> dict[str, Any]:
        """Validate, then (unless `test`) fill or rest the order; returns a ccxt-shaped order."""
        spec = self.market.spec(symbol)
        with self._lock:
            self._sweep()
            key = (symbol, client_order_id)
            if key in self._orders:
                raise _invalid("Duplicate order sent")
            plan = self._plan(spec, side, type, float(amount), price)
            order = self._new_order(spec, side, type, float(amount), price, client_order_id)
            if test:
                order.update(status="test", id=None)
                return order
            order["id"] = str(self._next_id)
            self._next_id += 1
            self._orders[key] = order
            if plan.fills_now:
                self._fill(spec, order, plan.price, plan.fee_rate)
            else:
                self._move(plan.lock_currency, plan.lock_amount, to_used=True)
                self._locks[key] = (plan.lock_currency, plan.lock_amount)
            return dict(order)

    def fetch_order(self, symbol: str, *, client_order_id: str) -> dict[str, Any] | None:
        self.market.spec(symbol)
        with self._lock:
            self._sweep()
            order = self._orders.get((symbol, client_order_id))
            return dict(order) if order is not None else None

    def cancel_order(self, symbol: str, *, client_order_id: str) -> dict[str, Any]:
        """Cancel an open order and release its funds; filled/cancelled/unknown → OrderNotFound."""
        self.market.spec(symbol)
        with self._lock:
            self._sweep()
            key = (symbol, client_order_id)
            order = self._orders.get(key)
            if order is None or order["status"] != "open":
                raise ccxt_error("OrderNotFound", f"Unknown order sent: {client_order_id}")
            currency, locked = self._locks.pop(key)
            self._move(currency, locked, to_used=False)
            order["status"] = "canceled"
            return dict(order)

    # -- internals (callers hold the lock) ---------------------------------------------------

    def _plan(
        self, spec: MarketSpec, side: str, type_: str, amount: float, price: float | None
    ) -> _Plan:
        if side not in ORDER_SIDES:
            raise _invalid(f"side must be one of {ORDER_SIDES}, got {side!r}")
        if type_ not in ORDER_TYPES:
            raise _invalid(f"type must be one of {ORDER_TYPES}, got {type_!r}")
        if not math.isfinite(amount) or amount <= 0:
            raise _invalid(f"LOT_SIZE: amount must be positive, got {amount}")
        if not _on_grid(amount, spec.amount_step):
            raise _invalid(f"LOT_SIZE: amount {amount} is not a multiple of step "
                           f"{spec.amount_step}")
        if not spec.min_qty <= amount <= spec.max_amount:
            raise _invalid(f"LOT_SIZE: amount {amount} outside [{spec.min_qty}, "
                           f"{spec.max_amount}]")
        bid, ask, _ = self.market.quote(spec.symbol)
        buy = side == "buy"
        if type_ == "limit":
            if price is None or not math.isfinite(float(price)) or float(price) <= 0:
                raise _invalid(f"PRICE_FILTER: a limit order needs a positive price, got {price}")
            limit = float(price)
            if not _on_grid(limit, spec.price_tick):
                raise _invalid(f"PRICE_FILTER: price {limit} is not a multiple of tick "
                               f"{spec.price_tick}")
            if limit > spec.max_price:
                raise _invalid(f"PRICE_FILTER: price {limit} > max {spec.max_price}")
            reference = limit
            fills_now = limit >= ask if buy else limit <= bid
            fill_price = limit
        else:
            reference = ask if buy else bid
            fills_now = True
            slip = self.slippage_bps / 10_000.0
            fill_price = ask * (1 + slip) if buy else bid * (1 - slip)
        notional = amount * reference
        if notional < spec.min_notional:
            raise _invalid(f"MIN_NOTIONAL: notional {notional:.8g} < {spec.min_notional}")
        fee_rate = spec.taker_fee if fills_now else spec.maker_fee
        currency = spec.quote if buy else spec.base
        need = amount * fill_price * (1 + fee_rate) if buy else amount
        free = self._free.get(currency, 0.0)
        if free < need - 1e-12 * max(1.0, need):
            raise ccxt_error("InsufficientFunds",
                             f"insufficient balance: need {need:.8g} {currency}, free {free:.8g}")
        return _Plan(fill_price, fills_now, fee_rate, currency, need)

    def _new_order(self, spec: MarketSpec, side: str, type_: str, amount: float,
                   price: float | None, client_order_id: str) -> dict[str, Any]:
        now = self.market.now_ms()
        return {
            "id": None, "clientOrderId": client_order_id, "symbol": spec.symbol,
            "side": side, "type": type_, "amount": amount,
            "price": float(price) if type_ == "limit" and price is not None else None,
            "average": None, "filled": 0.0, "remaining": amount, "cost": 0.0,
            "status": "open", "fee": {"cost": 0.0, "currency": spec.quote},
            "timestamp": now, "datetime": iso8601(now), "lastTradeTimestamp": None,
        }

    def _fill(self, spec: MarketSpec, order: dict[str, Any], price: float, fee_rate: float) -> None:
        amount = order["amount"]
        notional = amount * price
        fee = notional * fee_rate
        if order["side"] == "buy":
            self._free[spec.quote] -= notional + fee
            self._free[spec.base] = self._free.get(spec.base, 0.0) + amount
        else:
            self._free[spec.base] -= amount
            self._free[spec.quote] = self._free.get(spec.quote, 0.0) + notional - fee
        now = self.market.now_ms()
        order.update(
            status="closed", filled=amount, remaining=0.0, cost=notional, average=price,
            fee={"cost": fee, "currency": spec.quote}, lastTradeTimestamp=now,
        )
        if order["price"] is None:
            order["price"] = price

    def _move(self, currency: str, amount: float, *, to_used: bool) -> None:
        """Shift funds between free and used (lock on rest, release on cancel or fill)."""
        sign = 1.0 if to_used else -1.0
        self._free[currency] -= sign * amount
        self._used[currency] += sign * amount
        if abs(self._used[currency]) < 1e-12:
            self._used[currency] = 0.0

    def _sweep(self) -> None:
        """Fill every resting order the current book crosses (as maker, at its limit price)."""
        for key in [k for k, o in self._orders.items() if o["status"] == "open"]:
            order = self._orders[key]
            spec = self.market.specs[order["symbol"]]
            bid, ask, _ = self.market.quote(spec.symbol)
            crossed = order["price"] >= ask if order["side"] == "buy" else order["price"] <= bid
            if crossed:
                currency, locked = self._locks.pop(key)
                self._move(currency, locked, to_used=False)
                self._fill(spec, order, order["price"], spec.maker_fee)
