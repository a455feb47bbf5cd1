"""The public trades of a minute (adapters.sim.market pages through them).

Every minute holds exactly TRADES_PER_MINUTE trades in AGGS_PER_MINUTE aggregate trades (runs of
fills from one taker order at one price and time), so trade and aggregate ids follow from the
minute alone: id = minutes since the history's first minute * count + position.  That keeps ids
consecutive and `fromId` look-ups O(1) at any depth.  The first aggregate trades at the minute's
open (in its first second), the last at its close, and the minute's high and low are hit; the
taker buys (aggregates whose buyer is not the maker) hold exactly the minute's taker-buy steps,
and each side's price x qty adds up exactly to its quote volume (`_fit`), so a minute's trades
and its 1s klines aggregate exactly into its 1m kline.  Prices here are log prices (their ticks
from the history); the market turns them into prices.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Iterator, Sequence
from itertools import accumulate, pairwise, permutations, product, repeat
from math import gcd
from operator import mul, sub
from typing import TYPE_CHECKING, NamedTuple

from adapters.sim.draws import bridge
from adapters.sim.volumes import Bounds, Flow, allocate, blend

if TYPE_CHECKING:
    from adapters.sim.history import PricePath

TRADES_PER_MINUTE = 24
AGGS_PER_MINUTE = 16
_MINUTE_MS = 60_000


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
                flow: Flow, index: int, path: PricePath) -> list[Agg]:
    """The aggregate trades of `minute` (the `index`-th minute of the history), whose candle is
    `prices` (log open, high, low, close) and `flow` its steps (at least one per trade),
    taker-buy steps and quote volumes."""
    n, m = TRADES_PER_MINUTE, AGGS_PER_MINUTE
    o, h, low, c = prices
    steps, taker, quote, taker_quote = flow
    sizes = [1] * m
    for _ in range(n - m):
        sizes[rng.randrange(m)] += 1
    offsets = [rng.randrange(0, 1_000), *sorted(rng.randrange(1_000, _MINUTE_MS)
                                                for _ in range(m - 1))]
    points = bridge(rng, o, c, low, h, m - 1, max(h - low, 1e-12) / 4.0)
    inner = range(1, m - 1)
    high_at = max(inner, key=points.__getitem__)
    low_at = min((k for k in inner if k != high_at), key=points.__getitem__)
    pinned = {0, m - 1}
    if max(o, c) < h:
        points[high_at] = h
        pinned.add(high_at)
    if min(o, c) > low:
        points[low_at] = low
        pinned.add(low_at)
    natural = []  # a falling price: the seller took, so the buyer was the maker
    for k in range(m):
        falling = points[k] < points[k - 1] if k and points[k] != points[k - 1] else None
        natural.append(falling if falling is not None else rng.random() < 0.5)
    makers = buyer_makers(sizes, natural, steps, taker, frozenset(pinned))
    ticks, bounds = [path.tick(p) for p in points], (path.tick(low), path.tick(h))
    qtys: list[list[int]] = [[] for _ in range(m)]
    for maker, volume, value in ((False, taker, taker_quote),
                                 (True, steps - taker, quote - taker_quote)):
        side = [k for k in range(m) if makers[k] == maker]
        if side:
            before, free = list(ticks), [k for k in side if k not in pinned]
            _reach(rng, side, sizes, ticks, free, volume, value * path.ratio, bounds)
            _fit(rng, side, sizes, ticks, volume, value * path.ratio, qtys, free, bounds)
            for k in side:
                if ticks[k] != before[k]:
                    points[k] = path.untick(ticks[k])
    aggs, first = [], index * n
    for k in range(m):
        aggs.append(Agg(index * m + k, minute * _MINUTE_MS + offsets[k], points[k], makers[k],
                        first, tuple(qtys[k])))
        first += sizes[k]
    return aggs


def _reach(rng: random.Random, side: list[int], sizes: list[int], ticks: list[int],
           free: list[int], volume: int, value: float, bounds: tuple[int, int]) -> None:
    """Make room for a side's value (ticks x steps): when its trades, a step each at their
    prices and the rest at their highest (lowest), fall short of it (exceed it), free
    aggregates (not the open, close, high or low) move past its average price toward the
    range's end, the first to a random point, then to the end, until they can reach it."""
    low, high = bounds
    rest = volume - sum(sizes[k] for k in side)
    average = value / volume
    for k in sorted(free, key=ticks.__getitem__, reverse=True):  # highest first
        prices = [ticks[j] for j in side]
        if sum(sizes[j] * ticks[j] for j in side) + rest * max(prices) >= value:
            break
        ticks[k] = max(ticks[k], high if max(prices) > average else min(high, math.ceil(
            average + (high - average) * (0.25 + 0.75 * rng.random()))))
    for k in sorted(free, key=ticks.__getitem__):  # lowest first
        prices = [ticks[j] for j in side]
        if sum(sizes[j] * ticks[j] for j in side) + rest * min(prices) <= value:
            break
        ticks[k] = min(ticks[k], low if min(prices) < average else max(low, math.floor(
            average - (average - low) * (0.25 + 0.75 * rng.random()))))


def _fit(rng: random.Random, side: list[int], sizes: list[int], ticks: list[int], volume: int,
         value: float, qtys: list[list[int]], free: list[int], bounds: tuple[int, int]) -> None:
    """A side's trade quantities (a step each at least, `volume` in all) by random weights
    leaning toward the prices that bring their value (ticks x steps) to `value` (`tilt`),
    then settled on it exactly (`_settle`); if its price gaps cannot, a free aggregate moves
    a few ticks (inside the range) until they can."""
    prices = [ticks[k] for k in side for _ in range(sizes[k])]
    weights = [0.2 + rng.random() for _ in prices]
    split = tilt(1, volume - len(prices), weights, prices, lambda: (prices, prices), value)
    tilted, target = list(split), round(value)
    if not _settle(split, prices, target):
        for k, step in product(free[:3], (1, -1, 2, -2, 3, -3)):
            trial = list(tilted)
            if bounds[0] <= ticks[k] + step <= bounds[1] and _settle(trial, [
                    ticks[j] + (step if j == k else 0) for j in side for _ in range(sizes[j])],
                    target):
                split[:], ticks[k] = trial, ticks[k] + step
                break
    for k in side:
        qtys[k], split = split[:sizes[k]], split[sizes[k]:]


def tilt(floor: int, extra: int, weights: Sequence[float], guesses: Sequence[float],
         edges: Callable[[], Bounds], target: float, most: float = 1.0) -> list[int]:
    """The whole steps volumes.blend gives each trade (cumulative rounding: exact sums)."""
    a, b, lean, _ = blend(floor, extra, weights, guesses, edges, target, most)
    bounds = [round(a * x + b * y) + floor * k for k, (x, y) in enumerate(
        zip(accumulate(weights), accumulate(lean) if lean else repeat(0.0), strict=False), 1)]
    bounds[-1] = extra + floor * len(weights)
    return list(map(sub, bounds, [0, *bounds[:-1]]))


def _settle(split: list[int], prices: list[int], target: int) -> bool:
    """Move steps between trades at different prices so that sum(qty x price) is `target`
    exactly: across one gap between two prices when it divides the error, else across two
    whose greatest common divisor does (the error is whole ticks x steps, and two gaps are
    seldom both even); the gaps between neighbouring prices first, then those from the
    largest trade's; failing that, as near as one gap gets.  Steps go from the largest trade
    at a price; every trade keeps one.  True when exact."""
    error = sum(map(mul, split, prices)) - target
    if not error:
        return True
    best = {p: max((i for i, q in enumerate(prices) if q == p), key=split.__getitem__)
            for p in set(prices)}
    levels = sorted(best)
    bank = prices[split.index(max(split))]
    gaps = [(b - a, best[a], best[b]) for a, b in pairwise(levels)]
    gaps += [(abs(p - bank), best[min(p, bank)], best[max(p, bank)])
             for p in levels if p != bank and best[p] != best[bank]]
    for plan in _plans(error, gaps):
        change = dict.fromkeys(range(len(split)), 0)
        for k, low, high in plan:  # k steps down a gap: from its high trade to its low one
            change[low] += k
            change[high] -= k
        if all(split[i] + c >= 1 for i, c in change.items()):
            for i, c in change.items():
                split[i] += c
            return sum(map(mul, split, prices)) == target
    return False


def _plans(error: int, gaps: list[tuple[int, int, int]]) -> Iterator[list[tuple[int, int, int]]]:
    """Ways to move `error` (ticks x steps) down price gaps (gap, low trade, high trade),
    exact ones first: one gap, then two (k x g + j x h = error, for the least k either way)."""
    for g, low, high in gaps:
        if error % g == 0:
            yield [(error // g, low, high)]
    for (g, low, high), (h, low2, high2) in permutations(gaps, 2):
        d = gcd(g, h)
        if error % d == 0:
            least = error // d * pow(g // d, -1, h // d) % (h // d)
            for k in (least, least - h // d, least + h // d, least - 2 * h // d):
                yield [(k, low, high), ((error - k * g) // h, low2, high2)]
    if gaps:
        g, low, high = min(gaps)
        yield [(round(error / g), low, high)]


def buyer_makers(sizes: Sequence[int], natural: Sequence[bool], steps: int, taker: int,
                 pinned: frozenset[int] = frozenset()) -> list[bool]:
    """Which aggregates had the buyer as maker: the others (taker buys) must hold between one
    trade (none when `taker` is 0) and `taker` trades, leaving the maker side at least one step
    a trade too.  The `natural` flags are kept when they fit; else the largest aggregates are
    taken first (natural taker buys first), which reaches any count exactly because 16 sizes
    of at least 1 adding up to 24 have every sum from 0 to 24.  Then a side left with fewer
    than three aggregates, or only `pinned` ones (open, close, high, low), takes free ones
    from the other side, if the counts allow: its value needs prices to settle on (`_fit`)."""
    n = sum(sizes)
    lo = max(n - (steps - taker), 1 if taker else 0)
    hi = min(taker, n - 1 if steps > taker else n)
    has = sum(s for s, maker in zip(sizes, natural, strict=True) if not maker)
    want = min(max(has, lo), hi)
    makers = list(natural)
    if want != has:
        makers = [True] * len(sizes)
        for k in sorted(range(len(sizes)), key=lambda k: (-sizes[k], natural[k])):
            if sizes[k] <= want:
                makers[k] = False
                want -= sizes[k]
        assert want == 0, "sizes must have every subset sum"
    bought = n - sum(s for s, maker in zip(sizes, makers, strict=True) if maker)
    for side in (False, True, False, True):
        mine = [k for k, maker in enumerate(makers) if maker == side]
        others = sorted((k for k, maker in enumerate(makers)
                         if maker != side and k not in pinned), key=sizes.__getitem__)
        if mine and len(others) > 1 and len(makers) - len(mine) > 3 and (
                len(mine) < 3 or all(k in pinned for k in mine)):
            move = sizes[others[0]] if side else -sizes[others[0]]
            if lo <= bought - move <= hi:
                makers[others[0]] = side
                bought -= move
    return makers


def second_bars(aggs: list[Agg], start: int, path: PricePath, flow: Flow) -> list[tuple[
        float, float, float, float, int, int, int, int, int]]:
    """The minute's 60 one-second candles: open, high, low, close, steps, trades, taker-buy
    steps, quote and taker-buy quote (the minute's, `flow`, shared in whole units near what
    each second traded and inside its range); a second without trades stays at the last
    price, with no volume, as Binance's 1s klines do."""
    bars, values = [], []
    i, last = 0, aggs[0].price
    for s in range(60):
        group = []
        while i < len(aggs) and aggs[i].time < start + (s + 1) * 1_000:
            group.append(aggs[i])
            i += 1
        last = group[-1].price if group else last
        prices = [a.price for a in group] or [last]
        ticks = [path.tick(p) for p in prices]
        qtys = [sum(a.qtys) for a in group]
        bought = [(t * q, q) for t, q, a in zip(ticks, qtys, group, strict=False)
                  if not a.buyer_maker]
        bars.append((prices[0], max(prices), min(prices), prices[-1], sum(qtys),
                     sum(len(a.qtys) for a in group), sum(q for _, q in bought)))
        values.append((sum(map(mul, ticks, qtys)), sum(v for v, _ in bought), min(ticks),
                       max(ticks)))
    scale, ranges = path.scale, ([v[2] for v in values], [v[3] for v in values])
    taker = allocate(flow[3], [v[1] * scale for v in values], [b[6] for b in bars], scale,
                     (ranges,), path.exact)
    maker = allocate(flow[2] - flow[3], [(v[0] - v[1]) * scale for v in values],
                     [b[4] - b[6] for b in bars], scale, (ranges,), path.exact)
    return [(*b, t + m, t) for b, t, m in zip(bars, taker, maker, strict=True)]
