"""The order book the simulator serves and fills against.

The book is synthetic and deterministic: level i of the asks is at `ask + i * gap`, of the bids
at `bid - i * gap` (gap = 1 bp of the last price, at least one tick), each holding a tenth of an
average minute's base volume over the rolling day, growing by half of that per level (never
below one lot).  It is the book GET /api/v3/depth serves (binance_wire.depth builds the same
levels from the same inputs), rebuilt on every call: the account's own fills do not deplete it,
as the account is a small participant in a deep market.  A taker order's walk of it (with the
account's own resting orders in it) is matching.py's.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from adapters.sim.market import Market


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
