"""Volumes shared exactly and inside price bounds: a parent's steps, taker-buy steps and quote
volumes split over its children (a day's hours, an hour's minutes, a minute's seconds) in whole
units, the parts adding up to the parent's and each child's average price inside its range.

Kept apart from the price model (adapters.sim.history): the rules are about sums and bounds.
Prices are in ticks, or quote units a step (ticks x `scale`); taker buys and the maker side are
shared apart, each inside the range, so the whole is too.  A parent's quote fits its children
only if it lies between their sums of volume x low and volume x high, which its own range does
not ensure; so the volumes lean (`blend`) toward the children priced beyond the parent's
average until their volume x guessed price adds up to its quote, and each child's quote is
its guess (`Shares`), or near it inside a window (`allocate`).

Length (~310 lines): `Shares` and its fallback `allocate` carry one proof of the bounds between
them (see `Shares`); they stay side by side.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from functools import reduce
from itertools import accumulate, islice, pairwise, repeat
from operator import add, mul, sub
from typing import NamedTuple

Flow = tuple[int, int, int, int]  # steps, taker-buy steps, quote units, taker-buy quote units
Bounds = tuple[Sequence[float], Sequence[float]]  # per child: lowest and highest price
LEAN = 0.75  # the most of the extra steps that lean: every child keeps a quarter of its share
_SAFE = 2e-15  # float products are within 4e-16 of exact: windows this much inside are exact


def apportion(total: int, weights: Sequence[float]) -> list[int]:
    """`total` split in proportion to `weights` in whole units, by cumulative rounding: part i
    is round(total x W_i / W) - round(total x W_i-1 / W) for the running sums W_i, so the
    parts add up to `total` exactly, none is negative, a zero weight gets nothing, and each is
    within one unit of its share."""
    whole = sum(weights)
    if whole <= 0.0:
        if total:
            raise ValueError(f"cannot share {total} by weights {weights}")
        return [0] * len(weights)
    scale = total / whole
    bounds = [round(w * scale) for w in accumulate(weights)]
    bounds[-1] = total  # the float sums may differ in the last place
    return [b - a for a, b in pairwise([0, *bounds])]


def capped(total: int, caps: Sequence[int]) -> list[int]:
    """`total` (0 <= total <= sum(caps)) in proportion to whole `caps`, none above its cap:
    cumulative rounding in exact integers, and round(a + c) = round(a) + c for a whole c."""
    whole, run, before, out = sum(caps), 0, 0, []
    if not total:
        return [0] * len(caps)
    for cap in caps:
        run += cap
        bound = (2 * total * run + whole) // (2 * whole)
        out.append(bound - before)
        before = bound
    return out


def windows(volumes: Sequence[int], bounds: Bounds, scale: float,
            exact: tuple[int, int] | None = None) -> tuple[list[int], list[int]]:
    """Each child's whole quote units between volume x low and volume x high: exactly, from
    `scale` as a fraction, for whole bounds, else a hair inside (float error never leaves the
    range); where no whole unit fits, the two around the range."""
    if exact:
        num, den = exact
        los = [-(-v * int(p) * num // den) for v, p in zip(volumes, bounds[0], strict=True)]
        his = [v * int(p) * num // den for v, p in zip(volumes, bounds[1], strict=True)]
    else:
        up, down = scale * (1.0 + _SAFE), scale * (1.0 - _SAFE)
        los = [math.ceil(v * p * up) for v, p in zip(volumes, bounds[0], strict=True)]
        his = [math.floor(v * p * down) for v, p in zip(volumes, bounds[1], strict=True)]
    for i, (lo, hi) in enumerate(zip(los, his, strict=True)):
        if lo > hi:
            los[i], his[i] = hi, lo
    return los, his


def allocate(total: int, guesses: Sequence[float], volumes: Sequence[int], scale: float,
             options: Sequence[Bounds], exact: tuple[int, int] | None = None) -> list[int]:
    """`total` quote units over children of `volumes`, each near its guess and inside its
    window under the first of `options` whose windows can hold `total` (the last, whole
    ticks, `exact` when given): the guesses rounded into their windows, the difference shared
    by each child's room toward its bound."""
    for k, bounds in enumerate(options, 1 - len(options)):
        los, his = windows(volumes, bounds, scale, None if k else exact)
        if sum(los) <= total <= sum(his):
            break
    else:  # nothing holds it: a unit past the range where there is volume, then further
        los = [lo - 1 if lo and v else lo for lo, v in zip(los, volumes, strict=True)]
        his = [hi + 1 if v else hi for hi, v in zip(his, volumes, strict=True)]
        lo_sum, hi_sum = sum(los), sum(his)
        if total > hi_sum:
            return [h + e for h, e in zip(his, apportion(total - hi_sum, volumes), strict=True)]
        if total < lo_sum:
            return [lo - e for lo, e in zip(los, apportion(lo_sum - total, los), strict=True)]
    base = [min(hi, max(lo, round(g))) for g, lo, hi in zip(guesses, los, his, strict=True)]
    gap = total - sum(base)
    if gap >= 0:
        more = capped(gap, [hi - b for b, hi in zip(base, his, strict=True)])
        return [b + e for b, e in zip(base, more, strict=True)]
    less = capped(-gap, [b - lo for b, lo in zip(base, los, strict=True)])
    return [b - e for b, e in zip(base, less, strict=True)]


class Blend(NamedTuple):
    """Child i gets a x weight_i + b x lean_i extra steps; `mass`: sum(volume x guess)."""

    a: float
    b: float
    lean: tuple[float, ...] | None
    mass: float


def blend(floor: int, extra: int, weights: Sequence[float], guesses: Sequence[float],
          edges: Callable[[], Bounds], target: float, most: float = 1.0) -> Blend:
    """`floor` steps each plus `extra` shared by `weights`, blended (by the least fraction that
    does it, at `most`) with weights toward the children whose guess lies beyond the average
    `target` / steps, so that sum(steps x guess) comes to `target`; when the guesses cannot
    get there, the blend leans on the children whose band edge lies beyond it."""
    n, whole = len(weights), sum(weights)
    fixed = floor * sum(guesses)
    if extra <= 0:
        return Blend(0.0, 0.0, None, fixed)
    natural = sum(map(mul, weights, guesses)) / whole
    gap = target - fixed - extra * natural
    alpha, lean, leaning, leaned = 0.0, None, 1.0, 0.0
    if gap:
        average = target / (floor * n + extra)
        lean, alpha = tuple(_lean(weights, guesses, average, gap > 0)), 2.0
        leaning = sum(lean)
        if leaning > 0.0:
            leaned = sum(map(mul, lean, guesses)) / leaning
            if (leaned - natural) * gap > 0.0:
                alpha = gap / (extra * (leaned - natural))
        if alpha > most:  # past what the guesses reach: lean on the band edges
            lean = tuple(_lean(weights, edges()[gap > 0], average, gap > 0))
            leaning = sum(lean)
            alpha = most if leaning > 0.0 else 0.0
            leaned = sum(map(mul, lean, guesses)) / leaning if leaning > 0.0 else 0.0
    if alpha <= 0.0:
        return Blend(extra / whole, 0.0, None, fixed + extra * natural)
    return Blend((1.0 - alpha) * extra / whole, alpha * extra / leaning, lean,
                 fixed + extra * ((1.0 - alpha) * natural + alpha * leaned))


def _lean(weights: Sequence[float], prices: Sequence[float], average: float,
          up: bool) -> list[float]:
    """Weights toward the prices beyond `average` (above it when `up`), by how far."""
    if up:
        return [w * (p - average) if p > average else 0.0
                for w, p in zip(weights, prices, strict=True)]
    return [w * (average - p) if p < average else 0.0
            for w, p in zip(weights, prices, strict=True)]


class _Side(NamedTuple):
    """One side of a `Shares` (`exact`: its running steps and quotes, shared one by one)."""

    floor: int
    extra: int
    total: int
    weights: Sequence[float]
    guesses: Sequence[float]
    mix: Blend
    exact: tuple[Sequence[int], Sequence[int]] | None = None


class Shares:
    """A parent's flow over its children as running sums: the first k children's flow costs a
    pass over them, so a kline cutting a unit never needs its children one by one, and every
    child's flow comes from the same sums in the same order, so the two always agree.

    Per side, the steps are `blend`'s and the quote the cumulative rounding of the children's
    volume x guess g (quote units a step).  A child's steps are then within one of
    v = a x weight + b x lean + floor and its quote within a unit of v x g x total / mass; its
    guess lies m ticks inside its range; so its average is in range when
    (v - 1) x m x scale - v x |total / mass - 1| x g >= 1 + g, which holds when that error is
    at most m x scale / 16, a x weight >= 16 and 0.875 x a x weight x m x scale >= 2 + g.
    `bounds` gives the least m and the least weight x m (ticks, from the history: guesses a
    quarter of the range inside).  When the blend falls short of the total, the guesses move
    toward the band edges (an eighth inside: m halves) by the fraction that makes it up.
    When all this is certain the side stays as running sums; else it is shared child by
    child (`allocate`)."""

    __slots__ = ("_edges", "_exact", "_flows", "_prefixes", "_scale", "_sides", "_single",
                 "_ticks", "n", "parent")

    def __init__(self, parent: Flow, floor: int,
                 weights: tuple[Sequence[float], Sequence[float]], guesses: Sequence[float],
                 bounds: tuple[float, float], scale: float,
                 ticks: tuple[Sequence[int], Sequence[int]], exact: tuple[int, int]) -> None:
        steps, taker, quote, taker_quote = self.parent = parent
        self.n, self._scale, self._ticks, self._exact = len(guesses), scale, ticks, exact
        self._flows: tuple[Flow, ...] | None = None
        self._edges: Bounds | None = None
        self._prefixes: dict[int, Flow] = {}
        self._single = False  # a single child asked for (the next: every child's flows)
        (margin, strength), least = bounds, min(weights[1])
        self._sides = tuple(self._side(_Side(floor_, extra, total, weight, guesses, blend(
            floor_, extra, weight, guesses, self._band, total, LEAN)),
            (margin, strength * share), least * share)
            for floor_, extra, total, weight, share in (  # taker weights: maker's x 0.9..1.1
                (0, taker, taker_quote, weights[0], 0.9),
                (floor, steps - taker - floor * self.n, quote - taker_quote, weights[1], 1.0)))

    def _side(self, side: _Side, bounds: tuple[float, float], least: float) -> _Side:
        """`side` as running sums when its children's averages are certain to be in range
        (its guesses moved toward the band edges if the blend fell short), else exact."""
        (margin, strength), scale, top = bounds, self._scale, max(side.guesses)
        a, b, lean, mass = side.mix
        gap = side.total - mass
        if mass and abs(gap) * top > mass * margin * scale / 16.0:
            moves = [e - g for e, g in zip(self._band()[gap > 0], side.guesses, strict=True)]
            room = a * sum(map(mul, side.weights, moves)) + side.floor * sum(moves) + (
                b * sum(map(mul, lean, moves)) if lean else 0.0)
            if room and 0.0 < gap / room <= 1.0:
                side = side._replace(guesses=tuple([g + gap / room * m for g, m in zip(
                    side.guesses, moves, strict=True)]), mix=side.mix._replace(mass=mass + gap))
                margin, strength = margin / 2.0, strength / 2.0
                top = max(side.guesses)
        mass = side.mix.mass
        if (mass and abs(side.total - mass) * top <= mass * margin * scale / 16.0
                and a * least >= 16.0 and 0.875 * a * strength * scale >= 2.0 + top) \
                or not side.extra + side.floor:
            return side
        steps = self._columns(side)[0]  # shared one by one: steps as ever, quotes in windows
        volumes = list(map(sub, steps[1:], steps[:-1]))
        band = tuple([b / scale for b in bound] for bound in self._band())
        parts = allocate(side.total, list(map(mul, volumes, side.guesses)), volumes, scale,
                         (band, self._ticks), self._exact)
        return side._replace(exact=(tuple(steps), (0, *accumulate(parts))))

    def _band(self) -> Bounds:
        """The children's bands (an eighth of the range inside it) in quote units a step."""
        if self._edges is None:
            (lows, highs), scale = self._ticks, self._scale
            self._edges = (
                tuple([(lo + (hi - lo) / 8.0) * scale for lo, hi in zip(lows, highs, strict=True)]),
                tuple([(hi - (hi - lo) / 8.0) * scale for lo, hi in zip(lows, highs, strict=True)]))
        return self._edges

    def _columns(self, side: _Side) -> tuple[Sequence[int], Sequence[int]]:
        """A side's running steps and quote after 0..n children."""
        if side.exact is not None:
            return side.exact
        floor, extra, total, weights, guesses, (a, b, lean, mass), _ = side
        lean_or_0 = accumulate(lean) if lean else repeat(0.0)
        steps = [0, *[round(a * x + b * y) + floor * k for k, (x, y) in enumerate(
            zip(accumulate(weights), lean_or_0, strict=False), 1)]]
        values = zip(accumulate(map(mul, weights, guesses)),
                     accumulate(map(mul, lean, guesses)) if lean else repeat(0.0),
                     accumulate(guesses), strict=False)
        quotes = [0, *[round(total * (a * p + b * q + floor * g) / mass) if mass else 0
                       for p, q, g in values]]
        steps[-1], quotes[-1] = extra + floor * self.n, total
        return steps, quotes

    def _running(self, side: _Side, k: int) -> tuple[int, int]:
        """A side's steps and quote over the first k children: `_columns` at k, alone."""
        if side.exact is not None:
            return side.exact[0][k], side.exact[1][k]
        floor, extra, total, weights, guesses, (a, b, lean, mass), _ = side
        if k <= 0 or k >= self.n:
            return (0, 0) if k <= 0 else (extra + floor * self.n, total)
        x, p = reduce(add, islice(weights, k)), reduce(add, map(mul, islice(weights, k), guesses))
        y, q = (reduce(add, islice(lean, k)), reduce(add, map(mul, islice(lean, k), guesses))) \
            if lean else (0.0, 0.0)
        quote = round(total * (a * p + b * q + floor * reduce(add, islice(guesses, k))) / mass) \
            if mass else 0
        return round(a * x + b * y) + floor * k, quote

    def prefix(self, k: int) -> Flow:
        """The flow of the first `k` children (kept: a unit is cut at the same place twice)."""
        if k not in self._prefixes:
            (bought, taker_quote), (sold, maker_quote) = (self._running(s, k)
                                                          for s in self._sides)
            self._prefixes[k] = (bought + sold, bought, taker_quote + maker_quote, taker_quote)
        return self._prefixes[k]

    def flows(self) -> Sequence[Flow]:
        """Every child's flow."""
        if self._flows is None:
            (takers, bought), (makers, sold) = (self._columns(s) for s in self._sides)
            steps, quotes = list(map(add, takers, makers)), list(map(add, bought, sold))
            self._flows = tuple(zip(map(sub, steps[1:], steps[:-1]),
                                   map(sub, takers[1:], takers[:-1]),
                                   map(sub, quotes[1:], quotes[:-1]),
                                   map(sub, bought[1:], bought[:-1]), strict=True))
        return self._flows

    def sums(self, first: int, last: int) -> Flow:
        """The flow of children [first, last): running sums for a single child asked first,
        or a run that starts or ends the unit (a kline cutting it); else every child's."""
        single = last == first + 1 and not self._single and self._flows is None
        self._single |= last == first + 1
        if first == 0 or single:
            head, tail = self.prefix(first), self.prefix(last)
            return (tail[0] - head[0], tail[1] - head[1], tail[2] - head[2], tail[3] - head[3])
        if last == self.n and self._flows is None:
            head, whole = self.prefix(first), self.parent
            return (whole[0] - head[0], whole[1] - head[1], whole[2] - head[2],
                    whole[3] - head[3])
        flows = self.flows()[first:last]
        return (sum(f[0] for f in flows), sum(f[1] for f in flows), sum(f[2] for f in flows),
                sum(f[3] for f in flows))
