"""A symbol's price history, generated top-down on demand: days, then hours, then minutes, then
the trades of a minute (adapters.sim.trades), each from its own seeded stream.

Why top-down: a 1d kline years back must not cost the 1440 minutes under it, yet a 1h kline must
be exactly the aggregate of its 1m klines.  So a day is drawn first (open from a chained daily
walk, close, high, low, volume); its 24 hours are a Brownian bridge from the day's open to its
close squeezed into the day's range, one hour holding the day's high and one its low; minutes
split an hour the same way, and a minute's trades hit its open, high, low and close.  Every
level therefore aggregates exactly into the one above, whatever is asked for first.

These days and hours are counted from the anchor minute (the simulator's start), not from UTC
midnight: the same seed then gives the same market relative to the start whenever it runs, as
a rehearsal needs.  A kline (aligned on UTC, as Binance's are) merges the units it covers.

Prices are logs without scale; `shift` puts the anchor minute's open at the start price.
Volumes are integers (a unit's `Flow`): base volume in amount steps (24 trades a minute, each at
least one step), its taker-buy part, and both in quote units of 10**-quote_digits (few enough
digits that a month's total is exact as a float on the wire).  An hour has 40..60 % taker buys
and its quote volumes are its steps at the midpoint of its open and close; a day is its hours'
sum; minutes and seconds share their hour's and minute's (adapters.sim.volumes).  So every
volume of a kline is exactly the sum of its parts'; a minute's trades carry its exact base and
taker-buy volumes, and their price x qty its quote volume approximately (typically within
0.1 %).  Memory stays bounded: days are chains of floats, the rest sits in an LRU cache.
"""

from __future__ import annotations

import math
import random
import zlib
from collections import OrderedDict
from collections.abc import Callable, Sequence
from operator import itemgetter
from typing import Any, NamedTuple

from adapters.sim.draws import bridge, distribute
from adapters.sim.intervals import DAY_MS, HOUR_MS, MINUTE_MS, SECOND_MS
from adapters.sim.trades import TRADES_PER_MINUTE, Agg, minute_aggs, second_bars
from adapters.sim.volumes import Flow, children, share

Prices = tuple[float, float, float, float]  # log open, high, low, close
N = TRADES_PER_MINUTE


class Bar(NamedTuple):
    """A candle of log prices, its volume in amount steps, its number of trades, its taker-buy
    steps and its quote and taker-buy quote volumes in quote units."""

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


def _merged(prices: Sequence[Prices], flows: Sequence[Flow], trades: int) -> Bar:
    """Consecutive units given as prices and flows, with `trades` trades each."""
    steps, taker, quote, taker_quote = (sum(map(itemgetter(i), flows)) for i in range(4))
    return Bar(prices[0][0], max(map(itemgetter(1), prices)), min(map(itemgetter(2), prices)),
               prices[-1][3], steps, trades * len(flows), taker, quote, taker_quote)


def split(rng: random.Random, parent: Prices, n: int, sigma: float) -> list[Prices]:
    """`n` chained children of `parent`: a bridge from its open to its close inside its range,
    each child's wicks an exponential draw (capped by the parent's range); the parent's high
    and low are held by the children nearest the bridge's extremes."""
    o, h, low, c = parent
    points = bridge(rng, o, c, low, h, n, sigma)
    draw, log, wick = rng.random, math.log, sigma * 0.5
    uppers, lowers = list(map(max, points, points[1:])), list(map(min, points, points[1:]))
    tops = [min(h, u - wick * log(1.0 - draw())) for u in uppers]
    bottoms = [max(low, v + wick * log(1.0 - draw())) for v in lowers]
    tops[uppers.index(max(uppers))] = h
    bottoms[lowers.index(min(lowers))] = low
    return list(zip(points[:-1], tops, bottoms, points[1:], strict=True))


class Lru:
    """A small least-recently-used cache: history of any depth, bounded memory."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._data: OrderedDict[Any, Any] = OrderedDict()

    def get(self, key: Any, make: Callable[[], Any]) -> Any:
        if key in self._data:
            self._data.move_to_end(key)
            return self._data[key]
        value = self._data[key] = make()
        if len(self._data) > self._size:
            self._data.popitem(last=False)
        return value

    def peek(self, key: Any) -> Any:
        """The cached value or None, computing nothing."""
        return self._data.get(key)


class PricePath:
    """One symbol's deterministic history from `first_ms` on; not thread-safe (Market locks).

    Public methods take real times and minutes (ms and minutes since the epoch); the levels
    below work on unit indices counted from the anchor (day 0 starts at the anchor minute).
    """

    def __init__(self, symbol: str, seed: int, *, start_price: float, drift: float,
                 volatility: float, quote_volume_per_min: float, amount_step: float,
                 anchor_ms: int, first_ms: int) -> None:
        self.key = seed ^ zlib.crc32(symbol.encode())
        self.anchor = anchor_ms - anchor_ms % MINUTE_MS
        self.first_ms = first_ms - first_ms % DAY_MS
        self.first_minute = self.first_ms // MINUTE_MS
        self._mu = (drift - volatility**2 / 2.0) / 365.0
        self._sigma = {"day": volatility / math.sqrt(365.0),
                       "hour": volatility / math.sqrt(365.0 * 24),
                       "minute": volatility / math.sqrt(365.0 * 1440)}
        self._steps_per_min = quote_volume_per_min / amount_step  # in quote units: / price
        # a month's quote volume (at 4x the mean) in at most 15 significant digits
        self.quote_digits = min(8, max(0, 15 - len(str(int(quote_volume_per_min * 200_000)))))
        self._quote_per_step = amount_step * 10**self.quote_digits  # x price: quote units
        self._lo = self._hi = 0
        self._opens = {0: 0.0}  # day 0 (and so the anchor minute) opens at the start price
        self._draws: dict[int, tuple[float, float, float, float]] = {}
        self._day_flows: dict[int, Flow] = {}
        self._cache = Lru(4_096)
        self.shift = math.log(start_price)

    def price(self, y: float) -> float:
        return math.exp(y + self.shift)

    def quote(self, units: int) -> float:
        """Quote units as an amount of the quote asset (exact to its decimal digits)."""
        return units / 10**self.quote_digits

    def _rng(self, kind: str, index: int) -> random.Random:
        return random.Random(f"{self.key}:{kind}:{index}")

    # -- days: a chained walk from the anchor day ----------------------------------------------

    def _draw(self, d: int) -> tuple[float, float, float, float]:
        """Day `d`'s log return, upper and lower excursions and volume factor."""
        if d not in self._draws:
            rng, sigma = self._rng("day", d), self._sigma["day"]
            self._draws[d] = (self._mu + sigma * rng.gauss(0.0, 1.0),
                              abs(rng.gauss(0.0, 1.0)) * sigma * 0.5,
                              abs(rng.gauss(0.0, 1.0)) * sigma * 0.5,
                              rng.lognormvariate(0.0, 0.3))
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
        _, up, down, _ = self._draw(d)
        return (o, max(o, c) + up, min(o, c) - down, c)

    def _day_steps(self, d: int) -> int:
        extra = self._steps_per_min * 1_440 / self.price(self._open(d)) * self._draw(d)[3]
        return 1_440 * N + int(extra)

    # -- hours and minutes: bridges inside their parent ----------------------------------------

    def _hour_split(self, d: int) -> list[Prices]:
        return self._cache.get(("h", d), lambda: split(  # type: ignore[no-any-return]
            self._rng("hours", d), self._day_prices(d), 24, self._sigma["hour"]))

    def _hour_volumes(self, d: int) -> list[int]:
        """Day `d`'s volume above its floor (24 trades a minute, one step each), per hour."""
        return self._cache.get(("hv", d), lambda: distribute(  # type: ignore[no-any-return]
            self._rng("hour-volume", d), self._day_steps(d) - 1_440 * N, 24))

    def _day_flow(self, d: int) -> Flow:
        """Day `d`'s flow, its hours' sum (kept, as the opens are: whole days stay cheap)."""
        if d not in self._day_flows:
            hours = self._hour_flows(d)
            steps, taker, quote, taker_quote = (sum(map(itemgetter(i), hours)) for i in range(4))
            self._day_flows[d] = (steps, taker, quote, taker_quote)
        return self._day_flows[d]

    def _hour_points(self, d: int) -> list[float]:
        """Day `d`'s hourly opens and its close: its hour split's bridge, drawn alone (the
        same first draws of the same stream) when the split is not at hand."""
        hours = self._cache.peek(("h", d))
        if hours is not None:
            return [*(p[0] for p in hours), hours[-1][3]]
        o, h, low, c = self._day_prices(d)
        return bridge(self._rng("hours", d), o, c, low, h, 24, self._sigma["hour"])

    def _hour_flows(self, d: int) -> list[Flow]:
        """Day `d`'s hours: steps, 40..60 % of them taker buys, quote at the midpoint price."""
        def make() -> list[Flow]:
            rng, out, points = self._rng("hour-taker", d), [], self._hour_points(d)
            for k, extra in enumerate(self._hour_volumes(d)):
                steps = 60 * N + extra
                taker = round(steps * (0.4 + 0.2 * rng.random()))
                value = self._quote_per_step * self.price((points[k] + points[k + 1]) / 2.0)
                out.append((steps, taker, round(steps * value), round(taker * value)))
            return out
        return self._cache.get(("hf", d), make)  # type: ignore[no-any-return]

    def _minute_split(self, hour: int) -> list[Prices]:
        return self._cache.get(("m", hour), lambda: split(  # type: ignore[no-any-return]
            self._rng("minutes", hour), self._hour_split(hour // 24)[hour % 24], 60,
            self._sigma["minute"]))

    def _minute_volumes(self, hour: int) -> list[int]:
        return self._cache.get(("mv", hour), lambda: distribute(  # type: ignore[no-any-return]
            self._rng("minute-volume", hour), self._hour_volumes(hour // 24)[hour % 24], 60))

    def _minute_flows(self, hour: int) -> list[Flow]:
        return self._cache.get(("mf", hour), lambda: children(  # type: ignore[no-any-return]
            self._rng("minute-taker", hour), self._hour_flows(hour // 24)[hour % 24],
            [N + v for v in self._minute_volumes(hour)], self._minute_split(hour)))

    # -- bars of consecutive units (indices from the anchor) ---------------------------------

    def _days(self, d: int, first: int, last: int) -> Bar:
        steps, *rest = self._day_flow(d)
        return Bar(*self._day_prices(d), steps, 1_440 * N, *rest)

    def _hours(self, d: int, first: int, last: int) -> Bar:
        """Hours [first, last) of day `d` as one bar."""
        return _merged(self._hour_split(d)[first:last], self._hour_flows(d)[first:last], 60 * N)

    def _minutes(self, hour: int, first: int, last: int) -> Bar:
        """Minutes [first, last) of hour `hour` as one bar."""
        return _merged(self._minute_split(hour)[first:last],
                       self._minute_flows(hour)[first:last], N)

    def _seconds(self, minute: int, first: int, last: int) -> Bar:
        """Seconds [first, last) of minute `minute`, from its trades."""
        return merge(self._cache.get(("sb", minute), lambda: self._second_bars(minute))
                     [first:last])

    def _second_bars(self, minute: int) -> list[Bar]:
        """The 60 seconds of `minute`: prices and steps from its trades, its quote volumes
        shared by the value they traded."""
        real = minute + self.anchor // MINUTE_MS
        raw = second_bars(self.aggs(real), real * MINUTE_MS)
        flows = share(self._minute_flows(minute // 60)[minute % 60], [r[4] for r in raw],
                      [r[6] for r in raw], [r[8] for r in raw],
                      [max(0.0, r[7] - r[8]) for r in raw])
        return [Bar(*r[:7], f[2], f[3]) for r, f in zip(raw, flows, strict=True)]

    # -- real time ----------------------------------------------------------------------------

    def minute_prices(self, minute: int) -> Prices:
        """The log open, high, low and close of real minute `minute`."""
        unit = minute - self.anchor // MINUTE_MS
        return self._minute_split(unit // 60)[unit % 60]

    def aggs(self, minute: int) -> list[Agg]:
        """Real minute `minute`'s aggregate trades (runs of fills at one price), oldest first."""
        unit = minute - self.anchor // MINUTE_MS

        def make() -> list[Agg]:
            steps, taker, _, _ = self._minute_flows(unit // 60)[unit % 60]
            return minute_aggs(self._rng("trades", unit), minute,
                               self._minute_split(unit // 60)[unit % 60], steps, taker,
                               minute - self.first_minute)
        return self._cache.get(("a", unit), make)  # type: ignore[no-any-return]

    def span(self, a: int, b: int) -> Bar:
        """The candle of [a, b) (real ms on whole seconds, a < b): the largest units merged."""
        pieces: list[Bar] = []
        t, end = a - self.anchor, b - self.anchor
        levels = ((DAY_MS, DAY_MS, 1, self._days), (HOUR_MS, DAY_MS, 24, self._hours),
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
