"""Market specs: a symbol's path parameters and Binance-like filters, and the small helpers
(tick rounding, ccxt's datetime) the market, the engine and the wire format share."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, fields
from datetime import datetime, timezone
from typing import Any

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


def number(name: str, value: Any) -> float:
    """`value` as a float; a bool, a string or None is refused, naming the setting."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"{name} must be a number, got {value!r}")
    return float(value)


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
    iceberg_allowed: bool = True  # exchangeInfo's icebergAllowed

    def __post_init__(self) -> None:
        base, _, quote = self.symbol.partition("/")
        if not base or not quote:
            raise ValueError(f"symbol must look like BASE/QUOTE, got {self.symbol!r}")
        for item in fields(self):
            if item.type == "float":
                number(f"{self.symbol}: {item.name}", getattr(self, item.name))
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
            "info": {"icebergAllowed": self.iceberg_allowed},
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
            listed = ", ".join(DEFAULT_MARKETS)
            raise ValueError(f"no start price for {symbol}; allowed: a symbol the simulator "
                             f"lists ({listed}), or give it one with "
                             f"'+adapter.start_prices={{{symbol}: <price>}}'")
        specs[symbol] = MarketSpec(symbol=symbol, **params)
    return specs
