"""Market data from seeded price histories: markets, klines of every Binance interval, tickers
and public trades.

Each symbol's history (adapters.sim.history) is generated top-down on demand from
`seed ^ crc32(symbol)` (never `hash()`, so it is the same in every process): any startTime back
to HISTORY_START_MS costs only what is read, and every interval aggregates exactly from the ones
below it.  The minute containing t0 (the simulator's creation time) opens at the configured
start price; the "current" minute advances one per minute elapsed since t0, so a run shorter than
a minute sees a fully deterministic market.  Data runs to the end of the current minute (its
trades too), so the newest candle may lag, and its last trades lead, the wall clock by under a
minute: determinism wins over exactness.  No numpy: the runner must start fast.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any, NamedTuple, TypeVar

from adapters.sim.book import Book
from adapters.sim.faults import ccxt_error
from adapters.sim.history import Bar, PricePath
from adapters.sim.intervals import DAY_MS, FIXED_MS, INTERVALS, MINUTE_MS, next_open, select
from adapters.sim.settings import check_market
from adapters.sim.specs import (
    DEFAULT_MARKETS,
    MarketSpec,
    build_specs,
    iso8601,
    to_tick,
)
from adapters.sim.trades import AGGS_PER_MINUTE, TRADES_PER_MINUTE, Agg, Fill

__all__ = ["DAY_MINUTES", "DEFAULT_MARKETS", "HISTORY_START_MS", "INTERVALS", "MINUTE_MS",
           "TIMEFRAMES", "Kline", "Market", "MarketSpec", "PricePath", "build_specs", "iso8601",
           "to_tick"]

DAY_MINUTES = 1_440
HISTORY_START_MS = 1_499_990_400_000  # 2017-07-14 UTC, Binance's opening: no data before
# The fixed-width, epoch-aligned intervals in whole minutes (1m .. 3d); INTERVALS has all of
# Binance's (1s, 1w and 1M too).
TIMEFRAMES: dict[str, int] = {name: ms // MINUTE_MS for name, ms in FIXED_MS.items()
                              if ms % MINUTE_MS == 0 and name != "1w"}


T = TypeVar("T")


class Kline(NamedTuple):
    """One kline with Binance's fields; every volume and the trade count add up exactly across
    intervals (adapters.sim.history)."""

    open_time: int
    open: float
    high: float
    low: float
    close: float
    volume: float
    close_time: int
    quote_volume: float
    trades: int
    taker_base: float
    taker_quote: float


class Market:
    """Market data for a set of symbols: ccxt-shaped markets and tickers, klines, trades."""

    def __init__(
        self,
        specs: Mapping[str, MarketSpec],
        seed: int,
        *,
        spread_bps: float = 2.0,
        history: int = 500,
        clock_offset_ms: float = 0.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        check_market(history, spread_bps)
        self.specs = dict(specs)
        self.seed = seed
        self.spread_bps = float(spread_bps)
        self.history = int(history)  # how many candles ohlcv() (the in-process call) serves
        self.clock_offset_ms = float(clock_offset_ms)
        self._clock = clock
        self.t0 = clock()
        self._minute0 = int(self.t0 // 60)
        anchor = self._minute0 * MINUTE_MS
        self.first_ms = min(HISTORY_START_MS, anchor - anchor % DAY_MS - 365 * DAY_MS)
        self._paths = {s: PricePath(s, seed, start_price=spec.start_price, drift=spec.drift,
                                    volatility=spec.volatility, amount_step=spec.amount_step,
                                    price_tick=spec.price_tick,
                                    quote_volume_per_min=spec.quote_volume_per_min,
                                    anchor_ms=anchor, first_ms=self.first_ms)
                       for s, spec in self.specs.items()}
        self._day: dict[str, tuple[int, dict[str, Any]]] = {}
        self._lock = threading.RLock()

    def spec(self, symbol: str) -> MarketSpec:
        try:
            return self.specs[symbol]
        except KeyError:
            raise ccxt_error(
                "BadSymbol", f"sim does not have market symbol {symbol} (has {sorted(self.specs)})"
            ) from None

    def now_ms(self) -> int:
        """The exchange clock: wall time plus the configured skew."""
        return int(self._clock() * 1000 + self.clock_offset_ms)

    def index(self) -> int:
        """The current candle: one step per full minute elapsed since t0."""
        return max(0, int((self._clock() - self.t0) // 60))

    def last_minute(self) -> int:
        """The current minute (minutes since the epoch): data exists up to its end."""
        return self._minute0 + self.index()

    def markets(self) -> dict[str, dict[str, Any]]:
        return {symbol: spec.to_ccxt() for symbol, spec in self.specs.items()}

    def _price(self, symbol: str, y: float) -> float:
        return round(self._paths[symbol].tick(y) * self.specs[symbol].price_tick, 10)

    def quote_digits(self, symbol: str) -> int:
        """The decimals of `symbol`'s kline quote volumes (a month's total stays exact as a
        float): its quote volumes are whole multiples of 10**-digits."""
        return self._paths[self.spec(symbol).symbol].quote_digits

    def quote(self, symbol: str) -> tuple[float, float, float]:
        """(bid, ask, last) now: last is the current close, the spread straddles it on the tick."""
        spec = self.spec(symbol)
        with self._lock:
            last = self._price(symbol, self._paths[symbol].minute_prices(self.last_minute())[3])
        half = last * self.spread_bps / 20_000.0
        bid = to_tick(last - half, spec.price_tick, "floor")
        ask = to_tick(last + half, spec.price_tick, "ceil")
        return bid, max(ask, bid), last

    def book(self, symbol: str) -> Book:
        """The order book now: what GET depth serves and what taker orders fill against."""
        with self._lock:
            return Book.of(self, symbol)

    # -- klines --------------------------------------------------------------------------------

    def klines(self, symbol: str, interval: str, *, start: int | None = None,
               end: int | None = None, limit: int = 500, offset: int = 0) -> list[Kline]:
        """Binance's klines: open times in [start, end], the first `limit` from `start`, else
        the last `limit`; the newest kline is partial (it ends with the current minute)."""
        spec = self.spec(symbol)
        if interval not in INTERVALS:
            raise ccxt_error("BadRequest", f"unsupported timeframe {interval!r}; "
                                           f"sim supports {', '.join(INTERVALS)}")
        if int(limit) < 1:
            raise ccxt_error("BadRequest", f"limit must be >= 1, got {limit}")
        with self._lock:
            data_end = (self.last_minute() + 1) * MINUTE_MS
            opens = select(interval, self.first_ms, data_end - 1, start=start, end=end,
                           limit=int(limit), offset=offset)
            rows = []
            for opened in opens:
                closes = next_open(interval, opened, offset)
                bar = self._paths[symbol].span(max(opened, self.first_ms), min(closes, data_end))
                rows.append(self._kline(spec, bar, opened, closes - 1))
        return rows

    def _kline(self, spec: MarketSpec, bar: Bar, opened: int, close_time: int) -> Kline:
        path = self._paths[spec.symbol]
        o, h, low, c = (self._price(spec.symbol, y) for y in bar[:4])
        step = spec.amount_step
        return Kline(opened, o, h, low, c, round(bar.steps * step, 8), close_time,
                     path.quote(bar.quote), bar.trades, round(bar.taker * step, 8),
                     path.quote(bar.taker_quote))

    def ohlcv(self, symbol: str, timeframe: str = "1m", limit: int = 100) -> list[list[float]]:
        """The newest `limit` (at most `history`) candles, oldest first; the last may be partial."""
        rows = self.klines(symbol, timeframe, limit=min(int(limit), self.history))
        return [[k.open_time, k.open, k.high, k.low, k.close, k.volume] for k in rows]

    # -- trades --------------------------------------------------------------------------------

    def trades(self, symbol: str, limit: int, from_id: int | None = None) -> list[Fill]:
        """Public trades (prices in ticks, quantities in base units), oldest first."""
        self.spec(symbol)
        with self._lock:
            page = trades_page(self._paths[symbol], self.last_minute(), limit, from_id)
            return [self._fill(symbol, f) for f in page]

    def agg_trades(self, symbol: str, limit: int, *, from_id: int | None = None,
                   start: int | None = None, end: int | None = None) -> list[Agg]:
        """Aggregate trades (price in ticks; `qtys` in base units), oldest first."""
        self.spec(symbol)
        step = self.specs[symbol].amount_step
        with self._lock:
            page = aggs_page(self._paths[symbol], self.last_minute(), limit, from_id=from_id,
                             start=start, end=end)
            return [a._replace(price=self._price(symbol, a.price),
                               qtys=tuple(round(q * step, 10) for q in a.qtys)) for a in page]

    def _fill(self, symbol: str, fill: Fill) -> Fill:
        return fill._replace(price=self._price(symbol, fill.price),
                             steps=round(fill.steps * self.specs[symbol].amount_step, 10))

    # -- tickers -------------------------------------------------------------------------------

    def ticker(self, symbol: str) -> dict[str, Any]:
        """A ccxt-shaped ticker; high/low/volumes cover the rolling 24 h of 1m candles."""
        bid, ask, last = self.quote(symbol)
        day = self.rolling_day(symbol)
        now = self.now_ms()
        stats = {k: day[k] for k in ("open", "high", "low", "baseVolume", "quoteVolume")}
        return {"symbol": symbol, "timestamp": now, "datetime": iso8601(now),
                "bid": bid, "ask": ask, "last": last, "close": last, **stats}

    def rolling_day(self, symbol: str) -> dict[str, Any]:
        """The last 1440 minutes' open/high/low/volumes, and the ids of their first and last
        trades (Binance's ticker/24hr firstId/lastId/count)."""
        spec = self.spec(symbol)
        with self._lock:
            current = self.last_minute()
            cached = self._day.get(symbol)
            if cached is None or cached[0] != current:
                path = self._paths[symbol]
                start = max((current + 1 - DAY_MINUTES) * MINUTE_MS, self.first_ms)
                k = self._kline(spec, path.span(start, (current + 1) * MINUTE_MS), start, 0)
                first = (start // MINUTE_MS - path.first_minute) * TRADES_PER_MINUTE
                last_trade = trades_page(path, current, 1)[0]
                stats = {"open": k.open, "high": k.high, "low": k.low, "baseVolume": k.volume,
                         "quoteVolume": k.quote_volume, "firstId": first,
                         "lastId": last_trade.id, "count": k.trades,
                         "lastQty": round(last_trade.steps * spec.amount_step, 10)}
                cached = self._day[symbol] = (current, stats)
        return dict(cached[1])


# -- Binance's ways of paging through the trades (ids follow from the minute: adapters.sim.trades)


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
        return _forward(max(first, start // MINUTE_MS), min(last, hi // MINUTE_MS), inside,
                        limit)
    return _backward(first, min(last, hi // MINUTE_MS), inside, limit)
