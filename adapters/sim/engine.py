"""The simulator core: one account's balances and orders matched against a seeded Market.

Transport-free on purpose: the in-process paper adapter calls it directly, and an HTTP front
end can serve the same object in an exchange's wire format.  Orders are validated the way
Binance does (LOT_SIZE, PRICE_FILTER, MIN_NOTIONAL, balance: filters.py) and raise ccxt's classes.

Two fill models (`fill_model`).  "simple" (the core's and the paper adapter's default, kept for
existing runs; the HTTP server's from_config defaults to "book"): market orders
fill at once at ask/bid moved by `slippage_bps`, taker fee in quote; a limit order that crosses
the book fills at once as taker at its limit price.  "book" (Binance's rules): a taker order walks
the levels of the market's order book (adapters.sim.book, the book GET depth serves), filling at
each level's price (price improvement for a marketable limit), a `quote_amount` order spends its
quote, and the commission is charged in the asset received (BUY: base, SELL: quote; in BNB at a
25% discount when `bnb_burn` is on and the account holds enough BNB).  In both, a limit order's
rest (GTC) rests (funds locked in 'used') and fills as maker at its limit price on the first call
of any kind that sees the book cross it; IOC expires what did not fill at once, FOK fills whole
or expires untouched, a market order's rest past the book's end expires.  Each fill is one trade
of the account (`my_trades`).  Orders are kept by exchange id; a client order id need only be
unique among open orders, as on Binance, so a look-up by client id finds the newest order.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from adapters.sim.faults import ccxt_error
from adapters.sim.filters import invalid, plan_order
from adapters.sim.market import Market
from adapters.sim.specs import MarketSpec, build_specs, iso8601

DEFAULT_BALANCES: dict[str, float] = {"USDT": 10_000.0, "BTC": 0.5, "ETH": 5.0}
FILL_MODELS = ("simple", "book")
TIME_IN_FORCE = ("GTC", "IOC", "FOK")
BNB_DISCOUNT = 0.25  # paying commission in BNB (Binance's "BNB burn") saves a quarter


class Simulator:
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
        if fill_model not in FILL_MODELS:
            raise ValueError(f"fill_model must be one of {FILL_MODELS}, got {fill_model!r}")
        self.market = market
        self.slippage_bps = float(slippage_bps)
        self.fill_model = fill_model
        self.bnb_burn = bool(bnb_burn)
        initial = DEFAULT_BALANCES if balances is None else balances
        currencies = {c for spec in market.specs.values() for c in (spec.base, spec.quote)}
        self._free = {c: 0.0 for c in sorted(currencies)}
        self._free.update({c: float(v) for c, v in initial.items()})
        self._used = dict.fromkeys(self._free, 0.0)
        self._orders: dict[int, dict[str, Any]] = {}  # exchange order id -> order
        self._newest: dict[tuple[str, str], int] = {}  # (symbol, client id) -> newest order id
        self._locks: dict[int, tuple[str, float]] = {}
        self._rested_in: dict[int, int] = {}  # book model: order id -> market minute it rested
        self._trades: list[dict[str, Any]] = []  # the account's fills, oldest first
        self._next_id = 1
        self._lock = threading.RLock()
        self._hooks: list[Callable[[], None]] = []  # after each sweep (order lists)

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
        fill_model: str = "simple",
        bnb_burn: bool = False,
    ) -> Simulator:
        """Build from plain config; drift/volatility are annualised, *_bps in basis points."""
        specs = build_specs(symbols, markets, start_prices, drift=drift, volatility=volatility,
                            taker_fee=taker_fee, maker_fee=maker_fee, min_notional=min_notional)
        market = Market(specs, seed, spread_bps=spread_bps, history=history,
                        clock_offset_ms=clock_offset_ms, clock=clock or time.time)
        return cls(market, balances, slippage_bps=slippage_bps, fill_model=fill_model,
                   bnb_burn=bnb_burn)

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
        time_in_force: str = "GTC",
        quote_amount: float | None = None,
        stp_mode: str = "NONE",
    ) -> dict[str, Any]:
        """Validate, then (unless `test`) fill or rest the order; returns a ccxt-shaped order.

        `time_in_force` (limit orders): GTC rests what does not fill at once, IOC expires it,
        FOK fills whole or expires.  `quote_amount` (market orders): the quote to spend (buy) or
        receive (sell), Binance's quoteOrderQty; `amount` is then the estimate the filters
        check, and in the "book" model the quantity is what the walk of the book gives.
        """
        spec = self.market.spec(symbol)
        if time_in_force not in TIME_IN_FORCE:
            raise invalid(f"timeInForce must be one of {TIME_IN_FORCE}, got {time_in_force!r}")
        with self._lock:
            self._sweep()
            key = (symbol, client_order_id)
            newest = self._orders.get(self._newest.get(key, 0))
            if newest is not None and newest["status"] == "open":
                raise invalid("Duplicate order sent")
            currency = spec.quote if side == "buy" else spec.base
            free = self._free.get(currency, 0.0)
            book = self.fill_model == "book"
            plan = plan_order(spec, side, type, float(amount), price,
                              quote=self.market.quote(symbol),
                              free=math.inf if book else free,
                              slippage_bps=0.0 if book else self.slippage_bps)
            fills: list[tuple[float, float]] = []
            if book:
                amount, fills = self._walk(spec, side, type, float(amount), price, plan,
                                           time_in_force, quote_amount, free)
            order = self._new_order(spec, side, type, float(amount), price, client_order_id,
                                    time_in_force, quote_amount, stp_mode)
            if test:
                order.update(status="test", id=None)
                return order
            order_id = self._next_id
            self._next_id += 1
            order["id"] = str(order_id)
            self._orders[order_id] = order
            self._newest[key] = order_id
            if book:
                self._execute(spec, order, fills)
            elif plan.fills_now:
                self._fill(spec, order, plan.price, plan.fee_rate)
            elif time_in_force != "GTC":
                order["status"] = "expired"  # IOC/FOK that cannot fill at once
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
                     order_id: int | str | None = None,
                     status: str = "canceled") -> dict[str, Any]:
        """Cancel an open order and release its funds; filled/cancelled/unknown → OrderNotFound.
        `status="expired"`: an order list's other leg, ended by the exchange."""
        self.market.spec(symbol)
        with self._lock:
            self._sweep()
            order = self._find(symbol, client_order_id, order_id)
            if order is None or order["status"] != "open":
                raise ccxt_error("OrderNotFound",
                                 f"Unknown order sent: {client_order_id or order_id}")
            held = self._locks.pop(int(order["id"]), None)  # a held order locks nothing
            if held is not None:
                self._move(held[0], held[1], to_used=False)
            order["status"] = status
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

    # -- order lists (adapters.sim.order_lists): held legs, triggers, amendments ------------

    @property
    def lock(self) -> threading.RLock:
        """The core's lock, for callers that must see and change several orders at once."""
        return self._lock

    def order_by_id(self, order_id: int | str) -> dict[str, Any]:
        """A copy of the order with this exchange id, without a sweep (for sweep hooks)."""
        with self._lock:
            return dict(self._orders[int(order_id)])

    def add_sweep_hook(self, hook: Callable[[], None]) -> None:
        """Call `hook` (under the lock) after every sweep of resting orders: order lists use it
        to react to maker fills (an OCO's other leg, an OTO's pending order)."""
        self._hooks.append(hook)

    def hold_order(self, symbol: str, side: str, type: str, amount: float,
                   price: float | None, *, client_order_id: str, stop_price: float | None,
                   time_in_force: str = "GTC", stp_mode: str = "NONE") -> dict[str, Any]:
        """Record an open order that is not on the book yet (a stop leg, an OTO's pending
        order): it locks nothing and does not fill until `trigger_order`."""
        spec = self.market.spec(symbol)
        with self._lock:
            self._sweep()
            newest = self._orders.get(self._newest.get((symbol, client_order_id), 0))
            if newest is not None and newest["status"] == "open":
                raise invalid("Duplicate order sent")
            plan_order(spec, side, "limit" if price or stop_price else "market", float(amount),
                       price or stop_price,
                       quote=self.market.quote(symbol), free=math.inf, slippage_bps=0.0)
            order = self._new_order(spec, side, type, float(amount), price, client_order_id,
                                    time_in_force, stp_mode=stp_mode)
            order.update(id=str(self._next_id), stopPrice=stop_price, held=True)
            self._orders[self._next_id] = order
            self._newest[(symbol, client_order_id)] = self._next_id
            self._next_id += 1
            return dict(order)

    def trigger_order(self, order_id: int | str) -> dict[str, Any]:
        """Put a held order on the book: it fills, rests or expires like a new order (funds
        are checked now; too little → expired)."""
        with self._lock:
            order = self._orders[int(order_id)]
            if order["status"] != "open" or not order.pop("held", False):
                return dict(order)
            spec = self.market.specs[order["symbol"]]
            side, type_, price = order["side"], order["type"], order["price"]
            free = self._free.get(spec.quote if side == "buy" else spec.base, 0.0)
            book = self.fill_model == "book"
            now = self.market.now_ms()
            order.update(workingTime=now, lastUpdateTimestamp=now)
            try:
                plan = plan_order(spec, side, type_, order["amount"], price,
                                  quote=self.market.quote(spec.symbol),
                                  free=math.inf if book else free,
                                  slippage_bps=0.0 if book else self.slippage_bps)
                fills: list[tuple[float, float]] = []
                if book:
                    _, fills = self._walk(spec, side, type_, order["amount"], price, plan,
                                          order["timeInForce"], None, free)
            except Exception:
                order["status"] = "expired"
                return dict(order)
            if book:
                self._execute(spec, order, fills)
            elif plan.fills_now:
                self._fill(spec, order, plan.price, plan.fee_rate)
            elif order["timeInForce"] != "GTC":
                order["status"] = "expired"
            else:
                self._move(plan.lock_currency, plan.lock_amount, to_used=True)
                self._locks[int(order_id)] = (plan.lock_currency, plan.lock_amount)
            return dict(order)

    def amend_order(self, symbol: str, order_id: int | str, new_amount: float,
                    client_order_id: str) -> dict[str, Any]:
        """Reduce an open order's quantity in place (keeps its priority); releases the funds
        the cut frees.  The caller checks executed < new_amount < amount."""
        with self._lock:
            self._sweep()
            order = self._find(symbol, None, order_id)
            if order is None or order["status"] != "open":
                raise ccxt_error("OrderNotFound", f"Unknown order sent: {order_id}")
            cut = order["amount"] - float(new_amount)
            order.update(amount=float(new_amount), remaining=round(new_amount - order["filled"],
                                                                     10),
                         clientOrderId=client_order_id, lastUpdateTimestamp=self.market.now_ms())
            self._newest[(symbol, client_order_id)] = int(order["id"])
            held = self._locks.get(int(order["id"]))
            if held is not None:
                currency, locked = held
                free = cut * order["price"] if order["side"] == "buy" else cut
                self._move(currency, free, to_used=False)
                self._locks[int(order["id"])] = (currency, locked - free)
            return dict(order)

    def _find(self, symbol: str, client_order_id: str | None,
              order_id: int | str | None) -> dict[str, Any] | None:
        if order_id is not None:
            order = self._orders.get(int(order_id))
        else:
            order = self._orders.get(self._newest.get((symbol, str(client_order_id)), 0))
        return order if order is not None and order["symbol"] == symbol else None

    # -- internals (callers hold the lock) ---------------------------------------------------

    def _new_order(self, spec: MarketSpec, side: str, type_: str, amount: float,
                   price: float | None, client_order_id: str, time_in_force: str = "GTC",
                   quote_amount: float | None = None, stp_mode: str = "NONE") -> dict[str, Any]:
        now = self.market.now_ms()
        return {
            "timeInForce": time_in_force, "quoteOrderQty": float(quote_amount or 0.0),
            "selfTradePreventionMode": stp_mode, "workingTime": now,
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
        """Fill every resting order the current book crosses (as maker, at its limit price); in
        the book model not before the market's next minute (a new book)."""
        for key in list(self._locks):
            order = self._orders[key]
            if self._rested_in.get(key, -1) == self.market.index():
                continue  # the book it has taken from stays as it left it until the next minute
            spec = self.market.specs[order["symbol"]]
            bid, ask, _ = self.market.quote(spec.symbol)
            crossed = order["price"] >= ask if order["side"] == "buy" else order["price"] <= bid
            if crossed:
                currency, locked = self._locks.pop(key)
                self._move(currency, locked, to_used=False)
                if self.fill_model == "book":
                    self._trade(spec, order, order["price"], order["remaining"], spec.maker_fee,
                                maker=True)
                    order["status"] = "closed"
                else:
                    self._fill(spec, order, order["price"], spec.maker_fee, maker=True)
        for hook in self._hooks:
            hook()

    # -- the "book" fill model (callers hold the lock) ----------------------------------------

    def _walk(self, spec: MarketSpec, side: str, type_: str, amount: float, price: float | None,
              plan: Any, time_in_force: str, quote_amount: float | None,
              free: float) -> tuple[float, list[tuple[float, float]]]:
        """The order's quantity and its immediate fills against the book; raises
        InsufficientFunds as Binance would (a limit BUY needs quantity x price up front)."""
        buy = side == "buy"
        fills: list[tuple[float, float]] = []
        if type_ == "market" and quote_amount is not None:
            fills = self.market.book(spec.symbol).take(side, quote=float(quote_amount))
            if not fills:
                raise invalid(f"LOT_SIZE: quoteOrderQty {quote_amount} buys less than one "
                              f"step {spec.amount_step}")
            amount = round(sum(q for _, q in fills), 10)
        elif plan.fills_now:
            fills = self.market.book(spec.symbol).take(
                side, amount=amount, limit=float(price) if type_ == "limit" else None)
            if time_in_force == "FOK" and sum(q for _, q in fills) < amount - spec.amount_step / 2:
                fills = []  # all or nothing
        if buy:
            need = (amount * float(price) if type_ == "limit"  # type: ignore[arg-type]
                    else sum(p * q for p, q in fills))
        else:
            need = amount
        currency = spec.quote if buy else spec.base
        if free < need - 1e-12 * max(1.0, need):
            raise ccxt_error("InsufficientFunds",
                             f"insufficient balance: need {need:.8g} {currency}, free {free:.8g}")
        return amount, fills

    def _execute(self, spec: MarketSpec, order: dict[str, Any],
                 fills: list[tuple[float, float]]) -> None:
        """Apply the taker fills, then rest (GTC limit), expire (IOC, FOK, market) or close."""
        for price, qty in fills:
            self._trade(spec, order, price, qty, spec.taker_fee)
        remaining = order["remaining"]
        if remaining <= spec.amount_step / 2:
            order.update(status="closed", remaining=0.0)
        elif order["type"] == "limit" and order["timeInForce"] == "GTC":
            buy = order["side"] == "buy"
            currency = spec.quote if buy else spec.base
            lock = remaining * order["price"] if buy else remaining
            self._move(currency, lock, to_used=True)
            self._locks[int(order["id"])] = (currency, lock)
            self._rested_in[int(order["id"])] = self.market.index()
        else:
            order.update(status="expired", lastUpdateTimestamp=self.market.now_ms())

    def _commission(self, spec: MarketSpec, buy: bool, qty: float, notional: float,
                    rate: float) -> tuple[str, float]:
        """(asset, amount): in BNB at a discount when enabled and affordable, else in the asset
        received (BUY: base, SELL: quote)."""
        bnb_market = f"BNB/{spec.quote}"
        if self.bnb_burn and bnb_market in self.market.specs:
            bnb = round(notional * rate * (1 - BNB_DISCOUNT) / self.market.quote(bnb_market)[2],
                        10)
            if self._free.get("BNB", 0.0) >= bnb:
                return "BNB", bnb
        return (spec.base, round(qty * rate, 12)) if buy else (spec.quote,
                                                                round(notional * rate, 12))

    def _trade(self, spec: MarketSpec, order: dict[str, Any], price: float, qty: float,
               fee_rate: float, maker: bool = False) -> None:
        """One fill of `order` (book model): balances, the order's totals, one account trade."""
        buy = order["side"] == "buy"
        notional = price * qty
        asset, fee = self._commission(spec, buy, qty, notional, fee_rate)
        received, paid = (spec.base, spec.quote) if buy else (spec.quote, spec.base)
        self._free[paid] -= notional if buy else qty
        self._free[received] = self._free.get(received, 0.0) + (qty if buy else notional)
        self._free[asset] = self._free.get(asset, 0.0) - fee
        now = self.market.now_ms()
        filled = round(order["filled"] + qty, 10)
        cost = order["cost"] + notional
        total_fee = fee + (order["fee"]["cost"] if order["fee"]["currency"] == asset else 0.0)
        order.update(filled=filled, remaining=round(order["amount"] - filled, 10), cost=cost,
                     average=cost / filled, fee={"cost": total_fee, "currency": asset},
                     lastTradeTimestamp=now, lastUpdateTimestamp=now)
        self._trades.append({
            "id": str(len(self._trades) + 1), "order": order["id"], "symbol": spec.symbol,
            "side": order["side"], "type": order["type"], "price": price, "amount": qty,
            "cost": notional, "fee": {"cost": fee, "currency": asset},
            "takerOrMaker": "maker" if maker else "taker",
            "timestamp": now, "datetime": iso8601(now),
        })
