"""A seeded, deterministic exchange simulator, free of any transport.

`Simulator` (engine) holds one account and matches its orders against a `Market` of seeded
price histories (every Binance kline interval, public trades); `LatencyModel` and
`FaultInjector` model the network around it.  The paper adapter is a
thin in-process view of these; an HTTP front end can serve the same core.
"""

from __future__ import annotations

from adapters.sim.engine import DEFAULT_BALANCES, Simulator
from adapters.sim.faults import Fault, FaultInjector, ccxt_error
from adapters.sim.latency import LatencyModel
from adapters.sim.market import (
    DEFAULT_MARKETS,
    INTERVALS,
    TIMEFRAMES,
    Market,
    MarketSpec,
    PricePath,
    build_specs,
)

__all__ = [
    "DEFAULT_BALANCES",
    "DEFAULT_MARKETS",
    "INTERVALS",
    "TIMEFRAMES",
    "Fault",
    "FaultInjector",
    "LatencyModel",
    "Market",
    "MarketSpec",
    "PricePath",
    "Simulator",
    "build_specs",
    "ccxt_error",
]
