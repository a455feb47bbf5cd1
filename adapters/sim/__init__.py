"""A seeded, deterministic exchange simulator, free of any transport.

`Simulator` (engine) holds one account and matches its orders against a `Market` of seeded
price histories (every Binance kline interval, public trades); `LatencyModel` and
`FaultInjector` model the network around it.  The paper adapter is a
thin in-process view of these; an HTTP front end can serve the same core.

The names below are imported on first use (PEP 562): checking a config needs only
settings.py, faults.py and latency.py, not the engine (~20 ms of a start).
"""

from __future__ import annotations

import importlib
from typing import Any

# public name -> the module that defines it
_HOMES = {
    "DEFAULT_BALANCES": "engine",
    "Simulator": "engine",
    "Fault": "faults",
    "FaultInjector": "faults",
    "ccxt_error": "faults",
    "LatencyModel": "latency",
    "DEFAULT_MARKETS": "specs",
    "INTERVALS": "intervals",
    "TIMEFRAMES": "market",
    "Market": "market",
    "MarketSpec": "specs",
    "PricePath": "history",
    "build_specs": "specs",
}

__all__ = sorted(_HOMES)


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{home}"), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_HOMES})
