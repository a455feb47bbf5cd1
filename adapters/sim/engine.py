"""The simulator core: one account's balances and orders matched against a seeded Market.

Transport-free on purpose: the in-process paper adapter calls it directly, and an HTTP front
end can serve the same object in an exchange's wire format.  Orders are validated the way
Binance does (LOT_SIZE, PRICE_FILTER, MIN_NOTIONAL, balance: filters.py) and raise ccxt's classes.

Fills: market orders fill at once at ask/bid moved by `slippage_bps`, taker fee in quote.  A
limit order that crosses the book fills at once as taker at its limit price; otherwise it rests
(funds locked in 'used') and fills whole as maker at its limit price on the first call of any
kind that sees the book cross it.  No partial fills, no order book depth.  Each fill is one trade
of the account (`my_trades`).  Orders are kept by exchange id; a client order id need only be
unique among open orders, as on Binance, so a look-up by client id finds the newest order.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from adapters.sim.faults import ccxt_error
from adapters.sim.filters import invalid, plan_order
from adapters.sim.market import Market
from adapters.sim.specs import MarketSpec, build_specs, iso8601

DEFAULT_BALANCES: dict[str, float] = {"USDT": 10_000.0, "BTC": 0.5, "ETH": 5.0}


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
        self._orders: dict[int, dict[str, Any]] = {}  # exchange order id -> order
        self._newest: dict[tuple[str, str], int] = {}  # (symbol, client id) -> newest order id
        self._locks: dict[int, tuple[str, float]] = {}
        self._trades: list[dict[str, Any]] = []  # the account's fills, oldest first
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
            newest = self._orders.get(self._newest.get(key, 0))
            if newest is not None and newest["status"] == "open":
                raise invalid("Duplicate order sent")
            currency = spec.quote if side == "buy" else spec.base
            plan = plan_order(spec, side, type, float(amount), price,
                              quote=self.market.quote(symbol), free=self._free.get(currency, 0.0),
                              slippage_bps=self.slippage_bps)
            order = self._new_order(spec, side, type, float(amount), price, client_order_id)
            if test:
                order.update(status="test", id=None)
                return order
            order_id = self._next_id
            self._next_id += 1
            order["id"] = str(order_id)
            self._orders[order_id] = order
            self._newest[key] = order_id
            if plan.fills_now:
                self._fill(spec, order, plan.price, plan.fee_rate)
            else:
                self._move(plan.lock_currency, plan.lock_amount, to_used=True)
                self._locks[order_id] = (plan.lock_currency, plan.lock_amount)
            return dict(order)

    def fetch_order(self, symbol: str, *, client_order_id: str | None = None,
                    order_id: int | str | None = None) -> dict[str, Any] | None:
        """The order with this exchange id, else the newest with this client id (or None)."""
        self.market.spec(symbol)
        with self._lock:
            self._sweep()
            order = self._find(symbol, client_order_id, order_id)
            return dict(order) if order is not None else None

    def cancel_order(self, symbol: str, *, client_order_id: str | None = None,
                     order_id: int | str | None = None) -> dict[str, Any]:
        """Cancel an open order and release its funds; filled/cancelled/unknown → OrderNotFound."""
        self.market.spec(symbol)
        with self._lock:
            self._sweep()
            order = self._find(symbol, client_order_id, order_id)
            if order is None or order["status"] != "open":
                raise ccxt_error("OrderNotFound",
                                 f"Unknown order sent: {client_order_id or order_id}")
            currency, locked = self._locks.pop(int(order["id"]))
            self._move(currency, locked, to_used=False)
            order["status"] = "canceled"
            order["lastUpdateTimestamp"] = self.market.now_ms()
            return dict(order)

    def orders(self, symbol: str | None = None) -> list[dict[str, Any]]:
        """Every order placed (of `symbol`, or all), oldest first; copies."""
        with self._lock:
            self._sweep()
            return [dict(o) for o in self._orders.values()
                    if symbol is None or o["symbol"] == symbol]

    def my_trades(self, symbol: str | None = None) -> list[dict[str, Any]]:
        """The account's fills (ccxt trade shape, `order` the exchange order id), oldest first."""
        with self._lock:
            self._sweep()
            return [dict(t) for t in self._trades if symbol is None or t["symbol"] == symbol]

    def _find(self, symbol: str, client_order_id: str | None,
              order_id: int | str | None) -> dict[str, Any] | None:
        if order_id is not None:
            order = self._orders.get(int(order_id))
        else:
            order = self._orders.get(self._newest.get((symbol, str(client_order_id)), 0))
        return order if order is not None and order["symbol"] == symbol else None

    # -- internals (callers hold the lock) ---------------------------------------------------

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
            "lastUpdateTimestamp": now,
        }

    def _fill(self, spec: MarketSpec, order: dict[str, Any], price: float, fee_rate: float,
              maker: bool = False) -> None:
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
            lastUpdateTimestamp=now,
        )
        if order["price"] is None:
            order["price"] = price
        self._trades.append({
            "id": str(len(self._trades) + 1), "order": order["id"], "symbol": spec.symbol,
            "side": order["side"], "type": order["type"], "price": price, "amount": amount,
            "cost": notional, "fee": {"cost": fee, "currency": spec.quote},
            "takerOrMaker": "maker" if maker else "taker",
            "timestamp": now, "datetime": iso8601(now),
        })

    def _move(self, currency: str, amount: float, *, to_used: bool) -> None:
        """Shift funds between free and used (lock on rest, release on cancel or fill)."""
        sign = 1.0 if to_used else -1.0
        self._free[currency] -= sign * amount
        self._used[currency] += sign * amount
        if abs(self._used[currency]) < 1e-12:
            self._used[currency] = 0.0

    def _sweep(self) -> None:
        """Fill every resting order the current book crosses (as maker, at its limit price)."""
        for key in list(self._locks):
            order = self._orders[key]
            spec = self.market.specs[order["symbol"]]
            bid, ask, _ = self.market.quote(spec.symbol)
            crossed = order["price"] >= ask if order["side"] == "buy" else order["price"] <= bid
            if crossed:
                currency, locked = self._locks.pop(key)
                self._move(currency, locked, to_used=False)
                self._fill(spec, order, order["price"], spec.maker_fee, maker=True)
