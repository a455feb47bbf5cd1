"""The simulator's settings, checked without building a simulator.

Why: every run checks its config before it starts (and `plan_only=true` does nothing else), and
the paper adapter's check must say what is wrong with its simulator settings; building a
simulator to find out imports the whole engine (order book, matching, history: ~20 ms of a
start).  `simulator_settings` is the one authority on those settings: `Simulator.create` builds
from what it returns, and the paper adapter's config check calls it alone.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from adapters.sim.specs import MarketSpec, build_specs, number

FILL_MODELS = ("simple", "book")


@dataclass(frozen=True)
class SimSettings:
    """What `Simulator.create` builds from: checked market specs and account settings."""

    seed: int
    specs: dict[str, MarketSpec]
    balances: Mapping[str, float] | None
    spread_bps: float
    slippage_bps: float
    history: int
    clock_offset_ms: float
    clock: Callable[[], float] | None
    fill_model: str
    bnb_burn: bool


def simulator_settings(
    *,
    seed: int = 42,
    symbols: Iterable[str] | None = None,
    markets: Mapping[str, Mapping[str, Any]] | None = None,
    start_prices: Mapping[str, float] | None = None,
    drift: float = 0.0,
    volatility: float = 0.6,
    spread_bps: float = 2.0,
    slippage_bps: float = 1.0,
    taker_fee: float = 0.001,
    maker_fee: float = 0.001,
    min_notional: float = 10.0,
    balances: Mapping[str, float] | None = None,
    history: int = 500,
    clock_offset_ms: float = 0.0,
    clock: Callable[[], float] | None = None,
    fill_model: str = "simple",
    bnb_burn: bool = False,
) -> SimSettings:
    """Check plain config (drift/volatility annualised, *_bps in basis points); ValueError
    names what is wrong."""
    specs = build_specs(symbols, markets, start_prices, drift=drift, volatility=volatility,
                        taker_fee=taker_fee, maker_fee=maker_fee, min_notional=min_notional)
    check_market(history, spread_bps)
    check_fill_model(fill_model)
    return SimSettings(seed=seed, specs=specs, balances=checked_balances(balances),
                       spread_bps=float(spread_bps),
                       slippage_bps=number("slippage_bps", slippage_bps),
                       history=int(history),
                       clock_offset_ms=number("clock_offset_ms", clock_offset_ms), clock=clock,
                       fill_model=fill_model, bnb_burn=bool(bnb_burn))


def checked_balances(balances: Mapping[str, float] | None) -> dict[str, float] | None:
    """The account's starting balances: asset -> an amount >= 0 (None: the defaults)."""
    if balances is None:
        return None
    if not isinstance(balances, Mapping):
        raise ValueError(f"balances must map an asset to an amount, got {balances!r}")
    found = {str(asset): number(f"balances.{asset}", amount) for asset, amount in balances.items()}
    negative = sorted(asset for asset, amount in found.items() if amount < 0)
    if negative:
        raise ValueError(f"balances must be >= 0: {', '.join(negative)}")
    return found


def check_market(history: int, spread_bps: float) -> None:
    if isinstance(history, bool) or not isinstance(history, int):
        raise ValueError(f"history must be a whole number of candles, got {history!r}")
    if history < 1 or number("spread_bps", spread_bps) < 0:
        raise ValueError("history must be >= 1 and spread_bps >= 0")


def check_fill_model(fill_model: str) -> None:
    if fill_model not in FILL_MODELS:
        raise ValueError(f"fill_model must be one of {FILL_MODELS}, got {fill_model!r}")
