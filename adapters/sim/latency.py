"""Seeded per-endpoint latency: a base time per endpoint times lognormal jitter.

'record' (default) spends no time and reports the modelled value, so a long rehearsal runs at
full speed yet records realistic latencies; 'sleep' really waits (to exercise timeouts and
heartbeats) and lets the caller measure wall time; 'off' models nothing.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

MODES = ("record", "sleep", "off")
# Order placement goes through the matching engine: about twice a read.
DEFAULT_PER_ENDPOINT: dict[str, float] = {"create_order": 40.0, "cancel_order": 40.0}


class LatencyModel:
    """Draws a latency per call; `base_ms` is the median, `sigma` the lognormal spread."""

    def __init__(
        self,
        seed: int,
        *,
        mode: str = "record",
        base_ms: float = 20.0,
        per_endpoint: Mapping[str, float] | None = None,
        sigma: float = 0.25,
        sleep: Callable[[float], Any] = time.sleep,
    ) -> None:
        if mode not in MODES:
            raise ValueError(f"latency.mode must be one of {MODES}, got {mode!r}")
        if base_ms < 0 or sigma < 0:
            raise ValueError("latency.base_ms and latency.sigma must be >= 0")
        self.mode = mode
        self.base_ms = float(base_ms)
        self.per_endpoint = {**DEFAULT_PER_ENDPOINT,
                             **{k: float(v) for k, v in (per_endpoint or {}).items()}}
        self.sigma = float(sigma)
        self._sleep = sleep
        self._rng = random.Random(f"{seed}:latency")
        self._lock = threading.Lock()

    @classmethod
    def from_config(cls, seed: int, config: Mapping[str, Any] | None) -> LatencyModel:
        return cls(seed, **dict(config or {}))

    def sample(self, endpoint: str) -> float:
        """One latency draw in ms for `endpoint`."""
        with self._lock:
            jitter = self._rng.lognormvariate(0.0, self.sigma)
        return self.per_endpoint.get(endpoint, self.base_ms) * jitter

    def spend(self, endpoint: str, fixed_ms: float | None = None) -> float | None:
        """Spend one call's latency as the mode says; return the ms to record, or None.

        `fixed_ms` replaces the draw (an injected timeout costs the whole client timeout).
        """
        if self.mode == "off":
            return None
        ms = fixed_ms if fixed_ms is not None else self.sample(endpoint)
        if self.mode == "sleep":
            self._sleep(ms / 1000.0)
            return None
        return ms
