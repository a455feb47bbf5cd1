"""The public trades of a minute, and Binance's ways of paging through them.

Every minute holds exactly TRADES_PER_MINUTE trades in AGGS_PER_MINUTE aggregate trades (runs of
fills from one taker order at one price and time), so trade and aggregate ids follow from the
minute alone: id = minutes since the history's first minute * count + position.  That keeps ids
consecutive and `fromId` look-ups O(1) at any depth.  The first aggregate trades at the minute's
open (in its first second), the last at its close, and the minute's high and low are hit, and
the taker buys (aggregates whose buyer is not the maker) hold exactly the minute's taker-buy
volume, so a minute's trades (and its 1s klines) aggregate exactly into its 1m kline, volumes
included.  Prices here are log prices; the market turns them into ticks.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple, TypeVar

from adapters.sim.draws import bridge, distribute

if TYPE_CHECKING:
    from adapters.sim.history import PricePath

TRADES_PER_MINUTE = 24
AGGS_PER_MINUTE = 16
_MINUTE_MS = 60_000
T = TypeVar("T")


class Agg(NamedTuple):
    """One aggregate trade: fills `first_id`.. at one price and time, in amount steps."""

    id: int
    time: int
    price: float
    buyer_maker: bool
    first_id: int
    qtys: tuple[int, ...]


class Fill(NamedTuple):
    """One public trade."""

    id: int
    time: int
    price: float
    steps: int
    buyer_maker: bool


def minute_aggs(rng: random.Random, minute: int, prices: tuple[float, float, float, float],
                steps: int, taker: int, index: int) -> list[Agg]:
    """The aggregate trades of `minute` (the `index`-th minute of the history), whose candle is
    `prices` (log open, high, low, close), volume `steps` (at least one per trade) and taker-buy
    volume `taker` (0 <= taker <= steps)."""
    n, m = TRADES_PER_MINUTE, AGGS_PER_MINUTE
    o, h, low, c = prices
    sizes = [1] * m
    for _ in range(n - m):
        sizes[rng.randrange(m)] += 1
    offsets = [rng.randrange(0, 1_000), *sorted(rng.randrange(1_000, _MINUTE_MS)
                                                for _ in range(m - 1))]
    points = bridge(rng, o, c, low, h, m - 1, max(h - low, 1e-12) / 4.0)
    inner = range(1, m - 1)
    high_at = max(inner, key=points.__getitem__)
    if max(o, c) < h:
        points[high_at] = h
    if min(o, c) > low:
        points[min((k for k in inner if k != high_at), key=points.__getitem__)] = low
    natural = []  # a falling price: the seller took, so the buyer was the maker
    for k in range(m):
        falling = points[k] < points[k - 1] if k and points[k] != points[k - 1] else None
        natural.append(falling if falling is not None else rng.random() < 0.5)
    makers = buyer_makers(sizes, natural, steps, taker)
    bought = sum(s for s, maker in zip(sizes, makers, strict=True) if not maker)
    pools = {False: iter([1 + q for q in distribute(rng, taker - bought, bought)] if bought
                         else []),
             True: iter([1 + q for q in distribute(rng, steps - taker - n + bought, n - bought)]
                        if n - bought else [])}
    aggs, first = [], index * n
    for k in range(m):
        qtys = tuple(next(pools[makers[k]]) for _ in range(sizes[k]))
        aggs.append(Agg(index * m + k, minute * _MINUTE_MS + offsets[k], points[k], makers[k],
                        first, qtys))
        first += sizes[k]
    return aggs


def buyer_makers(sizes: Sequence[int], natural: Sequence[bool], steps: int,
                 taker: int) -> list[bool]:
    """Which aggregates had the buyer as maker: the others (taker buys) must hold between one
    trade (none when `taker` is 0) and `taker` trades, leaving the maker side at least one step
    a trade too.  The `natural` flags are kept when they fit; else the largest aggregates are
    taken first (natural taker buys first), which reaches any count exactly because 16 sizes
    of at least 1 adding up to 24 have every sum from 0 to 24."""
    n = sum(sizes)
    lo = max(n - (steps - taker), 1 if taker else 0)
    hi = min(taker, n - 1 if steps > taker else n)
    has = sum(s for s, maker in zip(sizes, natural, strict=True) if not maker)
    want = min(max(has, lo), hi)
    if want == has:
        return list(natural)
    makers = [True] * len(sizes)
    for k in sorted(range(len(sizes)), key=lambda k: (-sizes[k], natural[k])):
        if sizes[k] <= want:
            makers[k] = False
            want -= sizes[k]
    assert want == 0, "sizes must have every subset sum"
    return makers


def second_bars(aggs: list[Agg], start: int) -> list[tuple[Any, ...]]:
    """The minute's 60 one-second candles (open, high, low, close, steps, trades, taker-buy
    steps, and the traded and taker-bought value in unscaled prices: weights for the minute's
    quote volumes); a second without trades stays at the last price, with no volume, as
    Binance's 1s klines do."""
    bars: list[tuple[Any, ...]] = []
    i, last = 0, aggs[0].price
    for s in range(60):
        group = []
        while i < len(aggs) and aggs[i].time < start + (s + 1) * 1_000:
            group.append(aggs[i])
            i += 1
        if group:
            prices = [a.price for a in group]
            qtys = [sum(a.qtys) for a in group]
            values = [math.exp(a.price) * q for a, q in zip(group, qtys, strict=True)]
            bought = [not a.buyer_maker for a in group]
            bars.append((prices[0], max(prices), min(prices), prices[-1], sum(qtys),
                         sum(len(a.qtys) for a in group),
                         sum(q for q, b in zip(qtys, bought, strict=True) if b), sum(values),
                         sum(v for v, b in zip(values, bought, strict=True) if b)))
            last = prices[-1]
        else:
            bars.append((last, last, last, last, 0, 0, 0, 0.0, 0.0))
    return bars


def fills(aggs: list[Agg]) -> Iterator[Fill]:
    for agg in aggs:
        for j, steps in enumerate(agg.qtys):
            yield Fill(agg.first_id + j, agg.time, agg.price, steps, agg.buyer_maker)


def _forward(first: int, last: int, take: Callable[[int], list[T]], limit: int) -> list[T]:
    out: list[T] = []
    minute = first
    while minute <= last and len(out) < limit:
        out.extend(take(minute))
        minute += 1
    return out[:limit]


def _backward(first: int, last: int, take: Callable[[int], list[T]], limit: int) -> list[T]:
    chunks: list[list[T]] = []
    count, minute = 0, last
    while minute >= first and count < limit:
        chunk = take(minute)
        chunks.append(chunk)
        count += len(chunk)
        minute -= 1
    return [item for chunk in reversed(chunks) for item in chunk][-limit:] if limit else []


def trades_page(path: PricePath, last: int, limit: int, from_id: int | None = None
                ) -> list[Fill]:
    """GET trades / historicalTrades: the newest `limit` trades up to minute `last`, or the first
    `limit` from trade id `from_id`."""
    first = path.first_minute
    if from_id is None:
        return _backward(first, last, lambda m: list(fills(path.aggs(m))), limit)
    return _forward(first + from_id // TRADES_PER_MINUTE, last,
                    lambda m: [f for f in fills(path.aggs(m)) if f.id >= from_id], limit)


def aggs_page(path: PricePath, last: int, limit: int, *, from_id: int | None = None,
              start: int | None = None, end: int | None = None) -> list[Agg]:
    """GET aggTrades: from an id, within [start, end] (oldest first from `start`, newest up to
    `end` without it), or the most recent; never past minute `last`."""
    first = path.first_minute
    if from_id is not None:
        return _forward(first + from_id // AGGS_PER_MINUTE, last,
                        lambda m: [a for a in path.aggs(m) if a.id >= from_id], limit)
    lo, hi = start if start is not None else -1, end if end is not None else 2**62
    inside: Callable[[int], list[Agg]] = lambda m: [  # noqa: E731
        a for a in path.aggs(m) if lo <= a.time <= hi]
    if start is not None:
        return _forward(max(first, start // _MINUTE_MS), min(last, hi // _MINUTE_MS), inside,
                        limit)
    return _backward(first, min(last, hi // _MINUTE_MS), inside, limit)
