"""Seeded price paths and the market data derived from them: markets, candles, tickers.

Prices are a geometric Brownian motion on 1-minute steps (drift and volatility annualised),
drawn with the stdlib RNG (no numpy: the runner must start fast).  The seed of a symbol's path is
`seed ^ crc32(symbol)`, never `hash()`, so it is the same in every process.  Candle 0 is the one
containing t0 (the simulator's creation time) and opens at the configured start price; the
"current" candle advances one per minute elapsed since t0, so a run shorter than a minute sees a
fully deterministic market.  Candle timestamps are aligned to the minute containing t0, so the
current candle may lag the wall clock by under a minute: determinism wins over exactness.
"""

from __future__ import annotations

import math
import random
import threading
import time
import zlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, fields
from datetime import datetime, timezone
from typing import Any

from adapters.sim.faults import ccxt_error

MINUTE_MS = 60_000
MINUTES_PER_YEAR = 525_600
SUB_STEPS = 4  # path points per 1m candle: the candle's high/low come from these
DAY_MINUTES = 1_440
TIMEFRAMES: dict[str, int] = {"1m": 1, "5m": 5, "15m": 15, "1h": 60}

Candle = tuple[float, float, float, float, float]  # open, high, low, close, volume (unrounded)

# Binance-like filters for the default symbols; anything else needs at least a start price.
DEFAULT_MARKETS: dict[str, dict[str, float]] = {
    "BTC/USDT": {"start_price": 60_000.0, "amount_step": 1e-5, "max_amount": 9_000.0,
                 "quote_volume_per_min": 2_000_000.0},
    "ETH/USDT": {"start_price": 3_000.0, "amount_step": 1e-4, "max_amount": 9_000.0,
                 "quote_volume_per_min": 1_000_000.0},
    "SOL/USDT": {"start_price": 150.0, "amount_step": 1e-3, "max_amount": 90_000.0,
                 "quote_volume_per_min": 300_000.0},
}


def iso8601(ms: int) -> str:
    """ccxt's datetime format: '2024-01-01T00:00:00.000Z'."""
    stamp = datetime.fromtimestamp(ms // 1000, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")
    return f"{stamp}.{ms % 1000:03d}Z"


def to_tick(value: float, tick: float, mode: str = "round") -> float:
    """`value` on the `tick` grid (never below one tick, so prices stay positive)."""
    steps = value / tick
    n = {"round": round(steps), "floor": math.floor(steps + 1e-9),
         "ceil": math.ceil(steps - 1e-9)}[mode]
    return round(max(1, n) * tick, 10)


@dataclass(frozen=True)
class MarketSpec:
    """One symbol's path parameters and exchange filters (steps and ticks are sizes, not digits)."""

    symbol: str
    start_price: float
    drift: float = 0.0
    volatility: float = 0.6
    amount_step: float = 1e-5
    price_tick: float = 0.01
    min_amount: float = 0.0  # 0 means one step
    max_amount: float = 9_000.0
    max_price: float = 1_000_000.0
    min_notional: float = 10.0
    taker_fee: float = 0.001
    maker_fee: float = 0.001
    quote_volume_per_min: float = 1_000_000.0

    def __post_init__(self) -> None:
        base, _, quote = self.symbol.partition("/")
        if not base or not quote:
            raise ValueError(f"symbol must look like BASE/QUOTE, got {self.symbol!r}")
        positive = ("start_price", "amount_step", "price_tick", "max_amount", "max_price")
        bad = [name for name in positive if not getattr(self, name) > 0]
        if bad or self.volatility < 0 or self.quote_volume_per_min <= 0:
            raise ValueError(f"{self.symbol}: invalid market parameters {bad or asdict(self)}")

    @property
    def base(self) -> str:
        return self.symbol.partition("/")[0]

    @property
    def quote(self) -> str:
        return self.symbol.partition("/")[2]

    @property
    def min_qty(self) -> float:
        return self.min_amount or self.amount_step

    def to_ccxt(self) -> dict[str, Any]:
        """A ccxt-shaped market (precision in TICK_SIZE mode: step sizes)."""
        return {
            "id": self.base + self.quote, "symbol": self.symbol,
            "base": self.base, "quote": self.quote, "baseId": self.base, "quoteId": self.quote,
            "type": "spot", "spot": True, "margin": False, "swap": False, "future": False,
            "option": False, "contract": False, "active": True,
            "taker": self.taker_fee, "maker": self.maker_fee,
            "precision": {"amount": self.amount_step, "price": self.price_tick},
            "limits": {
                "amount": {"min": self.min_qty, "max": self.max_amount},
                "price": {"min": self.price_tick, "max": self.max_price},
                "cost": {"min": self.min_notional, "max": None},
            },
            "info": {},
        }


def build_specs(
    symbols: Iterable[str] | None = None,
    markets: Mapping[str, Mapping[str, Any]] | None = None,
    start_prices: Mapping[str, float] | None = None,
    **defaults: Any,
) -> dict[str, MarketSpec]:
    """Specs for the selected symbols (`symbols`, else the keys of `markets`, else the defaults).

    Precedence per field: markets[symbol] > start_prices[symbol] > DEFAULT_MARKETS > defaults.
    Entries for symbols that are not selected are ignored, so one config can serve many runs.
    """
    overrides = {s: dict(v or {}) for s, v in (markets or {}).items()}
    names = list(symbols) if symbols else (list(overrides) or list(DEFAULT_MARKETS))
    if len(set(names)) != len(names):
        raise ValueError(f"duplicate symbols in {names}")
    known = {f.name for f in fields(MarketSpec)} - {"symbol"}
    specs: dict[str, MarketSpec] = {}
    for symbol in names:
        params = {**defaults, **DEFAULT_MARKETS.get(symbol, {})}
        if start_prices and symbol in start_prices:
            params["start_price"] = start_prices[symbol]
        params.update(overrides.get(symbol, {}))
        if unknown := set(params) - known:
            raise ValueError(f"{symbol}: unknown market settings {sorted(unknown)}")
        if "start_price" not in params:
            raise ValueError(f"no start price for {symbol}: set start_prices[{symbol!r}]")
        specs[symbol] = MarketSpec(symbol=symbol, **params)
    return specs


class PricePath:
    """One symbol's path, generated lazily in both directions from candle 0 and cached.

    Candles i >= 0 are drawn forward from `Random(seed ^ crc32(symbol))`; candles i < 0 are drawn
    backward (time-reversed GBM) from a second stream.  So each index has exactly one value
    whatever order indices are asked for in, and history of any depth costs only what is read.
    """

    def __init__(self, spec: MarketSpec, seed: int) -> None:
        key = seed ^ zlib.crc32(spec.symbol.encode())
        self._fwd_rng = random.Random(key)
        self._bwd_rng = random.Random(f"{key}:backward")
        dt = 1.0 / (MINUTES_PER_YEAR * SUB_STEPS)
        self._mu = (spec.drift - spec.volatility**2 / 2.0) * dt
        self._sigma = spec.volatility * math.sqrt(dt)
        self._start = float(spec.start_price)
        self._quote_volume = float(spec.quote_volume_per_min)
        self._fwd: list[Candle] = []
        self._bwd: list[Candle] = []

    def candle(self, i: int) -> Candle:
        if i >= 0:
            while len(self._fwd) <= i:
                self._fwd.append(self._walk(self._fwd[-1][3] if self._fwd else self._start, 1))
            return self._fwd[i]
        while len(self._bwd) < -i:
            self._bwd.append(self._walk(self._bwd[-1][0] if self._bwd else self._start, -1))
        return self._bwd[-i - 1]

    def _walk(self, anchor: float, direction: int) -> Candle:
        """A candle from its open (direction 1) or from its close (direction -1)."""
        rng = self._fwd_rng if direction > 0 else self._bwd_rng
        x = high = low = anchor
        for _ in range(SUB_STEPS):
            x *= math.exp(direction * (self._mu + self._sigma * rng.gauss(0.0, 1.0)))
            high, low = max(high, x), min(low, x)
        volume = self._quote_volume / anchor * rng.lognormvariate(0.0, 0.5)
        return (anchor, high, low, x, volume) if direction > 0 else (x, high, low, anchor, volume)


class Market:
    """Market data for a set of symbols: ccxt-shaped markets, tickers and OHLCV rows."""

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
        if history < 1 or spread_bps < 0:
            raise ValueError("history must be >= 1 and spread_bps >= 0")
        self.specs = dict(specs)
        self.seed = seed
        self.spread_bps = float(spread_bps)
        self.history = int(history)
        self.clock_offset_ms = float(clock_offset_ms)
        self._clock = clock
        self.t0 = clock()
        self._minute0 = int(self.t0 // 60)
        self._paths = {s: PricePath(spec, seed) for s, spec in self.specs.items()}
        self._day: dict[str, tuple[int, dict[str, float]]] = {}
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

    def markets(self) -> dict[str, dict[str, Any]]:
        return {symbol: spec.to_ccxt() for symbol, spec in self.specs.items()}

    def quote(self, symbol: str) -> tuple[float, float, float]:
        """(bid, ask, last) now: last is the current close, the spread straddles it on the tick."""
        spec = self.spec(symbol)
        with self._lock:
            last = to_tick(self._paths[symbol].candle(self.index())[3], spec.price_tick)
        half = last * self.spread_bps / 20_000.0
        bid = to_tick(last - half, spec.price_tick, "floor")
        ask = to_tick(last + half, spec.price_tick, "ceil")
        return bid, max(ask, bid), last

    def ohlcv(self, symbol: str, timeframe: str = "1m", limit: int = 100) -> list[list[float]]:
        """The newest `limit` (at most `history`) candles, oldest first; the last may be partial."""
        spec = self.spec(symbol)
        if timeframe not in TIMEFRAMES:
            raise ccxt_error("BadRequest", f"unsupported timeframe {timeframe!r}; "
                                           f"sim supports {', '.join(TIMEFRAMES)}")
        if int(limit) < 1:
            raise ccxt_error("BadRequest", f"limit must be >= 1, got {limit}")
        width = TIMEFRAMES[timeframe]
        path, tick = self._paths[symbol], spec.price_tick
        with self._lock:
            current = self.index()
            newest = (self._minute0 + current) // width
            rows: list[list[float]] = []
            for group in range(newest - min(int(limit), self.history) + 1, newest + 1):
                first = group * width - self._minute0
                last = min(first + width - 1, current)
                candles = [path.candle(i) for i in range(first, last + 1)]
                rows.append([
                    group * width * MINUTE_MS,
                    to_tick(candles[0][0], tick),
                    to_tick(max(c[1] for c in candles), tick),
                    to_tick(min(c[2] for c in candles), tick),
                    to_tick(candles[-1][3], tick),
                    round(max(sum(c[4] for c in candles), 1e-8), 8),
                ])
        return rows

    def ticker(self, symbol: str) -> dict[str, Any]:
        """A ccxt-shaped ticker; high/low/volumes cover the rolling 24 h of 1m candles."""
        bid, ask, last = self.quote(symbol)
        day = self._rolling_day(symbol)
        now = self.now_ms()
        return {"symbol": symbol, "timestamp": now, "datetime": iso8601(now),
                "bid": bid, "ask": ask, "last": last, "close": last, **day}

    def _rolling_day(self, symbol: str) -> dict[str, float]:
        tick = self.specs[symbol].price_tick
        with self._lock:
            current = self.index()
            cached = self._day.get(symbol)
            if cached is None or cached[0] != current:
                path = self._paths[symbol]
                candles = [path.candle(i) for i in range(current - DAY_MINUTES + 1, current + 1)]
                stats = {
                    "open": to_tick(candles[0][0], tick),
                    "high": to_tick(max(c[1] for c in candles), tick),
                    "low": to_tick(min(c[2] for c in candles), tick),
                    "baseVolume": round(sum(c[4] for c in candles), 8),
                    "quoteVolume": round(sum(c[4] * c[3] for c in candles), 2),
                }
                cached = self._day[symbol] = (current, stats)
        return dict(cached[1])
