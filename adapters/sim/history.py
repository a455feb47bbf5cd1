"""A symbol's price history, generated top-down on demand: days, then hours, then minutes, then
the trades of a minute (adapters.sim.trades), each from its own seeded stream.

Why top-down: a 1d kline years back must not cost the 1440 minutes under it, yet a 1h kline must
be exactly the aggregate of its 1m klines.  So a day is drawn first (from a chained daily walk);
its 24 hours are a Brownian bridge from its open to its close inside its range, one hour holding
its high and one its low; minutes split an hour the same way; a minute's trades hit its open,
high, low and close.  Days and hours count from the anchor minute (the simulator's start), so a
seed gives the same market relative to the start whenever it runs; a kline (on UTC) merges the
units it covers, and those it cuts through running sums (volumes.Shares), never child by child.

Prices are logs (`shift` puts the anchor minute's open at the start price; `tick` is the price
on the wire).  Volumes are integers (a `Flow`): steps, taker-buy steps, and both in quote units
of 10**-quote_digits (few enough that a month's total is exact as a float).  A day's quote is
its steps at a price inside its range; hours and minutes share their parent's exactly, each
average price (quote / steps, taker-buy quote / taker-buy steps) inside its own range; a
minute's trades are worth exactly its quote volumes, and its seconds share them.

Length (~320 lines): the four levels share one generator and one cache; split apart they would
pass the same half-dozen seeds and offsets across modules.
"""

from __future__ import annotations

import math
import random
import zlib
from collections import OrderedDict
from collections.abc import Callable, Sequence
from fractions import Fraction
from itertools import accumulate
from operator import mul, sub
from typing import Any, NamedTuple

from adapters.sim.intervals import DAY_MS, HOUR_MS, MINUTE_MS, SECOND_MS
from adapters.sim.trades import TRADES_PER_MINUTE, Agg, minute_aggs, second_bars
from adapters.sim.volumes import Flow, Shares, windows

Prices = tuple[float, float, float, float]  # log open, high, low, close
N = TRADES_PER_MINUTE


class Bar(NamedTuple):
    """A candle of log prices, its steps, trades, taker-buy steps and quote volumes."""

    open: float
    high: float
    low: float
    close: float
    steps: int
    trades: int
    taker: int
    quote: int
    taker_quote: int


def merge(bars: Sequence[Bar]) -> Bar:
    """Consecutive candles as one (first open, last close, extremes, sums), as Binance does."""
    return Bar(bars[0].open, max(b.high for b in bars), min(b.low for b in bars), bars[-1].close,
               sum(b.steps for b in bars), sum(b.trades for b in bars),
               sum(b.taker for b in bars), sum(b.quote for b in bars),
               sum(b.taker_quote for b in bars))


class Kids(NamedTuple):
    """Chained children's log prices (three lists, not a tuple each: less for the garbage
    collector): child i opens at points[i] and closes at points[i + 1]."""

    points: tuple[float, ...]
    tops: tuple[float, ...]
    bottoms: tuple[float, ...]

    def at(self, i: int) -> Prices:
        return (self.points[i], self.tops[i], self.bottoms[i], self.points[i + 1])

    def bar(self, first: int, last: int, flow: Flow, trades: int) -> Bar:
        """Children [first, last) as one bar of `flow`, with `trades` trades each."""
        return Bar(self.points[first], max(self.tops[first:last]),
                   min(self.bottoms[first:last]), self.points[last], flow[0],
                   trades * (last - first), *flow[1:])


def split(rng: random.Random, parent: Prices, n: int, sigma: float) -> Kids:
    """`n` chained children of `parent`: a bridge from its open to its close inside its range,
    each child's wicks an exponential draw (capped by it); its high and low go to the first
    children touching the bridge's extremes."""
    o, h, low, c = parent
    draw, log, wick = rng.random, math.log, sigma * 0.5
    points = _bridge(draw, o, c, low, h, n, sigma)
    later = points[1:]
    tops = [t if (t := (a if a > b else b) - wick * log(1.0 - draw())) < h else h
            for a, b in zip(points, later, strict=False)]
    bottoms = [t if (t := (a if a < b else b) + wick * log(1.0 - draw())) > low else low
               for a, b in zip(points, later, strict=False)]
    tops[max(points.index(max(points)) - 1, 0)] = h
    bottoms[max(points.index(min(points)) - 1, 0)] = low
    return Kids(tuple(points), tuple(tops), tuple(bottoms))


def _bridge(draw: Callable[[], float], start: float, end: float, low: float, high: float,
            n: int, sigma: float) -> list[float]:
    """adapters.sim.draws.bridge (the same draws and points) in fewer Python steps, the hottest
    loop of a cold klines request: the deviations are squeezed only when a point leaves
    [low, high], by the least ratio of room to deviation among those that do."""
    width = sigma * 3.0**0.5 * 2.0
    walks = list(accumulate([(draw() - 0.5) * width for _ in range(n)]))
    slope, pull = (end - start) / n, walks[-1] / n
    inner = [(start + slope * k) + (w - pull * k) for k, w in enumerate(walks[:-1], 1)]
    if max(inner) > high or min(inner) < low:
        squeeze = min([((high if x > high else low) - (start + slope * k)) / (w - pull * k)
                       for k, (w, x) in enumerate(zip(walks, inner, strict=False), 1)
                       if x > high or x < low])
        inner = [x if low <= x <= high else (high if x > high else low)
                 for x in [(start + slope * k) + squeeze * (w - pull * k)
                           for k, w in enumerate(walks[:-1], 1)]]
    return [start, *inner, end]


class Lru:
    """A small least-recently-used cache: history of any depth, bounded memory."""

    def __init__(self, size: int) -> None:
        self._size, self._data = size, OrderedDict[Any, Any]()

    def get(self, key: Any, make: Callable[[], Any]) -> Any:
        if key in self._data:
            self._data.move_to_end(key)
            return self._data[key]
        value = self._data[key] = make()
        if len(self._data) > self._size:
            self._data.popitem(last=False)
        return value


class PricePath:
    """One symbol's deterministic history from `first_ms` on; not thread-safe (Market locks).
    Public methods take real ms and minutes; the levels below unit indices from the anchor."""

    def __init__(self, symbol: str, seed: int, *, start_price: float, drift: float,
                 volatility: float, quote_volume_per_min: float, amount_step: float,
                 anchor_ms: int, first_ms: int, price_tick: float = 0.01) -> None:
        self.key = seed ^ zlib.crc32(symbol.encode())
        self.anchor, self.first_ms = anchor_ms - anchor_ms % MINUTE_MS, first_ms - first_ms % DAY_MS
        self.first_minute = self.first_ms // MINUTE_MS
        self._mu = (drift - volatility**2 / 2.0) / 365.0
        self._sigma = {"day": volatility / math.sqrt(365.0),
                       "hour": volatility / math.sqrt(365.0 * 24),
                       "minute": volatility / math.sqrt(365.0 * 1440)}
        self._steps_per_min = quote_volume_per_min / amount_step  # in quote units: / price
        # a month's quote volume (at 4x the mean) in at most 15 significant digits
        self.quote_digits = min(8, max(0, 15 - len(str(int(quote_volume_per_min * 200_000)))))
        # quote units a step at one tick (a value in ticks x steps is value x scale of them),
        # and ticks x steps a quote unit (whole for the default specs: trades settle on it)
        ratio = Fraction(repr(amount_step)) * Fraction(repr(price_tick)) * 10**self.quote_digits
        self.scale, self.ratio = float(ratio), float(1 / ratio)
        self.exact = (ratio.numerator, ratio.denominator)
        self._tick, self._unit = price_tick, start_price / price_tick  # ticks at log price 0
        self._lo = self._hi = 0
        self._opens = {0: 0.0}  # day 0 (and so the anchor minute) opens at the start price
        self._draws: dict[int, tuple[float, ...]] = {}
        self._days: dict[int, Flow] = {}
        self._cache = Lru(4_096)
        self.shift = math.log(start_price)

    def tick(self, y: float) -> int:
        """The price tick log price `y` shows as (never below one): Market's prices."""
        return round(math.exp(y) * self._unit) or 1

    def untick(self, n: int) -> float:
        """The log price of tick `n`."""
        return math.log(n * self._tick) - self.shift

    def quote(self, units: int) -> float:
        """Quote units as an amount of the quote asset (exact to its decimal digits)."""
        return units / 10**self.quote_digits

    def _rng(self, kind: str, index: int) -> random.Random:
        return random.Random(f"{self.key}:{kind}:{index}")

    # -- days: a chained walk from the anchor day, each day's flow from its own draws -----------

    def _draw(self, d: int) -> tuple[float, ...]:
        """Day `d`'s log return, excursions, volume factor, and three uniforms (its taker-buy
        share and where its sides' average prices lie)."""
        if d not in self._draws:
            rng, sigma = self._rng("day", d), self._sigma["day"]
            self._draws[d] = (self._mu + sigma * rng.gauss(0.0, 1.0),
                              abs(rng.gauss(0.0, 1.0)) * sigma * 0.5,
                              abs(rng.gauss(0.0, 1.0)) * sigma * 0.5,
                              rng.lognormvariate(0.0, 0.3), rng.random(), rng.random(),
                              rng.random())
        return self._draws[d]

    def _open(self, d: int) -> float:
        while d > self._hi:
            self._opens[self._hi + 1] = self._opens[self._hi] + self._draw(self._hi)[0]
            self._hi += 1
        while d < self._lo:
            self._opens[self._lo - 1] = self._opens[self._lo] - self._draw(self._lo - 1)[0]
            self._lo -= 1
        return self._opens[d]

    def _day_prices(self, d: int) -> Prices:
        o, c = self._open(d), self._open(d + 1)
        _, up, down, *_ = self._draw(d)
        return (o, max(o, c) + up, min(o, c) - down, c)

    def _day_flow(self, d: int) -> Flow:
        """Day `d`'s steps, 40..60 % taker buys (a maker step a trade left), each side's quote
        at a price an eighth of the range or more inside it (rounding stays inside)."""
        if d not in self._days:
            o, h, low, c = self._day_prices(d)
            _, _, _, factor, share, spot, apart = self._draw(d)
            extra = self._steps_per_min * 1_440 / math.exp(o + self.shift) * factor
            steps = 1_440 * N + int(extra)
            taker = min(round(steps * (0.4 + 0.2 * share)), steps - 1_440 * N)
            lo, hi = self.tick(low), self.tick(h)
            where = (h + c - 2.0 * low) / (h - low) * 2.0 / 9.0 + spot / 3.0 if h > low else 0.5
            quotes = []
            for volume, move in ((taker, apart), (steps - taker, 1.0 - apart)):
                at = min(1.0, max(0.0, where + (move - 0.5) / 6.0))
                quote = round(volume * (lo + (hi - lo) * (0.125 + 0.75 * at)) * self.scale)
                if volume * (hi - lo) * self.scale < 8.0:  # tiny: the nearest inside
                    (least,), (most,) = windows([volume], ([lo], [hi]), self.scale, self.exact)
                    quote = min(most, max(least, quote))
                quotes.append(quote)
            self._days[d] = (steps, taker, quotes[0] + quotes[1], quotes[0])
        return self._days[d]

    # -- hours and minutes: bridges inside their parent, flows shared by volumes.Shares -------

    def _units(self, rng: random.Random, parent: Prices, flow: Flow, n: int, level: str,
               floor: int) -> tuple[Kids, Shares]:
        """`n` children of a unit: prices split from `parent`, `flow` shared over them, each
        child's average guessed (quote units a step) a quarter of its tick range inside, two
        thirds by where its typical price ((high + low + close) / 3) lies, a third at random."""
        kids = split(rng, parent, n, self._sigma[level])
        points, tops, bottoms = kids
        draw, exp, unit = rng.random, math.exp, self._unit
        weights = tuple([0.2 + draw() for _ in tops])
        takers = tuple([w * (0.9 + 0.2 * draw()) for w in weights])
        lows = tuple([round(exp(y) * unit) or 1 for y in bottoms])  # ticks, as self.tick
        highs = tuple([round(exp(y) * unit) or 1 for y in tops])
        scale = self.scale
        guesses = tuple([(lo + (hi - lo) * (0.25 + (
            ((h + c - 2.0 * low) / (h - low) * 2.0 / 3.0 if h > low else 1.0) + draw()) / 6.0))
            * scale for h, low, c, lo, hi in zip(tops, bottoms, points[1:], lows, highs,
                                                  strict=True)])
        spans = list(map(sub, highs, lows))  # a guess lies a quarter of its span inside it
        bounds = (min(spans) / 4.0, min(map(mul, weights, spans)) / 4.0)
        return kids, Shares(flow, floor, (takers, weights), guesses, bounds, scale,
                            (lows, highs), self.exact)

    def _hour_units(self, d: int) -> tuple[Kids, Shares]:
        return self._cache.get(("h", d), lambda: self._units(  # type: ignore[no-any-return]
            self._rng("hours", d), self._day_prices(d), self._day_flow(d), 24, "hour", 60 * N))

    def _minute_units(self, hour: int) -> tuple[Kids, Shares]:
        def make() -> tuple[Kids, Shares]:
            kids, shares = self._hour_units(hour // 24)
            return self._units(self._rng("minutes", hour), kids.at(hour % 24),
                               shares.sums(hour % 24, hour % 24 + 1), 60, "minute", N)
        return self._cache.get(("m", hour), make)  # type: ignore[no-any-return]

    def _minute(self, unit: int) -> tuple[Prices, Flow]:  # from the anchor
        kids, shares = self._minute_units(unit // 60)
        return kids.at(unit % 60), shares.sums(unit % 60, unit % 60 + 1)

    # -- bars of consecutive units (indices from the anchor) ---------------------------------

    def _days_bar(self, d: int, first: int, last: int) -> Bar:
        steps, *rest = self._day_flow(d)
        return Bar(*self._day_prices(d), steps, 1_440 * N, *rest)

    def _hours(self, d: int, first: int, last: int) -> Bar:  # of day d, as one bar
        kids, shares = self._hour_units(d)
        return kids.bar(first, last, shares.sums(first, last), 60 * N)

    def _minutes(self, hour: int, first: int, last: int) -> Bar:  # of hour `hour`
        kids, shares = self._minute_units(hour)
        return kids.bar(first, last, shares.sums(first, last), N)

    def _seconds(self, minute: int, first: int, last: int) -> Bar:
        """Seconds [first, last) of minute `minute`, from its trades (adapters.sim.trades)."""
        def make() -> list[Bar]:
            real = minute + self.anchor // MINUTE_MS
            return [Bar(*r) for r in second_bars(self.aggs(real), real * MINUTE_MS, self,
                                                 self._minute(minute)[1])]
        return merge(self._cache.get(("sb", minute), make)[first:last])

    # -- real time ----------------------------------------------------------------------------

    def minute_prices(self, minute: int) -> Prices:
        """The log open, high, low and close of real minute `minute`."""
        unit = minute - self.anchor // MINUTE_MS
        return self._minute_units(unit // 60)[0].at(unit % 60)

    def aggs(self, minute: int) -> list[Agg]:
        """Real minute `minute`'s aggregate trades (runs of fills at one price), oldest first."""
        unit = minute - self.anchor // MINUTE_MS
        return self._cache.get(("a", unit), lambda: minute_aggs(  # type: ignore[no-any-return]
            self._rng("trades", unit), minute, *self._minute(unit), minute - self.first_minute,
            self))

    def span(self, a: int, b: int) -> Bar:
        """The candle of [a, b) (real ms on whole seconds, a < b): the largest units merged."""
        pieces: list[Bar] = []
        t, end = a - self.anchor, b - self.anchor
        levels = ((DAY_MS, DAY_MS, 1, self._days_bar), (HOUR_MS, DAY_MS, 24, self._hours),
                  (MINUTE_MS, HOUR_MS, 60, self._minutes),
                  (SECOND_MS, MINUTE_MS, 60, self._seconds))
        while t < end:
            for width, parent, count, units in levels:
                if t % width == 0 and t + width <= end:
                    first = t % parent // width
                    last = min(count, first + (end - t) // width)
                    pieces.append(units(t // parent, first, last))
                    t += (last - first) * width
                    break
            else:
                raise ValueError(f"span [{a}, {b}) is not on whole seconds")
        return merge(pieces)
