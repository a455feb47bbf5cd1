"""The order book the simulator serves and fills against, and the walk of a taker order.

The book is synthetic and deterministic: level i of the asks is at `ask + i * gap`, of the bids
at `bid - i * gap` (gap = 1 bp of the last price, at least one tick), each holding a tenth of an
average minute's base volume over the rolling day, growing by half of that per level (never
below one lot).  It is the book GET /api/v3/depth serves (binance_wire.depth builds the same
levels from the same inputs), rebuilt on every call: the account's own fills do not deplete it,
as the account is a small participant in a deep market.

A taker order walks it level by level (`take`): up to its quantity, or until it has spent its
`quoteOrderQty`, and never past its limit price.  Quantities are counted in whole lot steps, so
no float noise reaches the wire.  `taker_fills` is that walk for one order of the simulator's
"book" fill model (engine.py): its quantity, its fills, FOK's all-or-nothing and the funds check.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

from adapters.sim.faults import ccxt_error
from adapters.sim.filters import invalid

if TYPE_CHECKING:
    from adapters.sim.filters import Plan
    from adapters.sim.market import Market
    from adapters.sim.specs import MarketSpec

MAX_LEVELS = 5_000  # GET depth's largest limit: a taker order sees at most this many levels


def step_floor(value: float, step: float) -> float:
    """`value` rounded down onto the `step` grid (as binance_wire.step_floor)."""
    return round(math.floor(value / step + 1e-9) * step, 10)


@dataclass(frozen=True)
class Book:
    """One symbol's book at one moment; levels are computed on demand."""

    bid: float
    ask: float
    gap: float
    per_minute: float  # the rolling day's base volume per minute
    step: float
    min_qty: float

    @classmethod
    def of(cls, market: Market, symbol: str) -> Book:
        spec = market.spec(symbol)
        bid, ask, last = market.quote(symbol)
        tick = spec.price_tick
        gap = max(tick, round(last * 1e-4 / tick) * tick)
        volume = market.rolling_day(symbol)["baseVolume"] or 0.0
        return cls(bid, ask, gap, volume / 1_440.0, spec.amount_step, spec.min_qty)

    def qty(self, level: int) -> float:
        return max(step_floor(self.per_minute * 0.1 * (1 + 0.5 * level), self.step),
                   self.min_qty)

    def level(self, side: str, i: int) -> tuple[float, float] | None:
        """Level `i` of 'asks' or 'bids' as (price, qty); None past the book's end."""
        if side == "asks":
            return round(self.ask + i * self.gap, 10), self.qty(i)
        price = round(self.bid - i * self.gap, 10)
        return (price, self.qty(i)) if price > 0 else None

    def levels(self, side: str, limit: int) -> list[tuple[float, float]]:
        rows = (self.level(side, i) for i in range(limit))
        return [r for r in rows if r is not None]

    def take(self, side: str, *, amount: float | None = None, quote: float | None = None,
             limit: float | None = None) -> list[tuple[float, float]]:
        """The fills (price, qty) of a taker order on `side` ('buy' takes the asks): `amount`
        base units or `quote` to spend/receive, at prices no worse than `limit`."""
        book_side = "asks" if side == "buy" else "bids"
        steps_left = round(amount / self.step) if amount is not None else None
        quote_left = quote
        out: list[tuple[float, float]] = []
        for i in range(MAX_LEVELS):
            row = self.level(book_side, i)
            if row is None:
                break
            price, qty = row
            if limit is not None and (price > limit if side == "buy" else price < limit):
                break
            can = round(qty / self.step)
            if steps_left is not None:
                take = min(can, steps_left)
                steps_left -= take
            else:
                assert quote_left is not None
                take = min(can, math.floor(quote_left / (price * self.step) + 1e-9))
                quote_left -= take * self.step * price
            if take > 0:
                out.append((price, round(take * self.step, 10)))
            if (steps_left is not None and steps_left <= 0) or take < can:
                break
        return out


def taker_fills(market: Market, spec: MarketSpec, side: str, type_: str, amount: float,
                price: float | None, plan: Plan, time_in_force: str,
                quote_amount: float | None, free: float) -> tuple[float, list[tuple[float, float]]]:
    """The order's quantity and its immediate fills against the book; raises
    InsufficientFunds as Binance would (a limit BUY needs quantity x price up front)."""
    buy = side == "buy"
    fills: list[tuple[float, float]] = []
    if type_ == "market" and quote_amount is not None:
        fills = market.book(spec.symbol).take(side, quote=float(quote_amount))
        if not fills:
            raise invalid(f"LOT_SIZE: quoteOrderQty {quote_amount} buys less than one "
                          f"step {spec.amount_step}")
        amount = round(sum(q for _, q in fills), 10)
    elif plan.fills_now:
        fills = market.book(spec.symbol).take(
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
