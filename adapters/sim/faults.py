"""Seeded fault injection, and the one place the simulator builds ccxt exceptions.

Faults use their own RNG stream (not the price stream), so turning them on or changing a rate
never moves prices.  One uniform draw is taken per call whatever the rates are, so the fault
sequence of a seed stays aligned when a rate changes.  An injected fault is raised as the
project's own error (adapters/errors.py) named after the ccxt class a real exchange would give,
so no ccxt import is needed; the matching engine's rejections are ccxt classes (imported only
when one is raised: `import ccxt` costs ~0.35 s), which the adapters translate.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

# Rate name -> the ccxt class a draw under that rate raises, in draw order.
FAULT_CLASSES: dict[str, str] = {
    "error_rate": "ExchangeNotAvailable",
    "timeout_rate": "RequestTimeout",
    "rate_limit_rate": "RateLimitExceeded",
    # The call takes effect, then its answer is lost (a timeout the caller cannot tell from one
    # that struck before): the case that makes order look-ups necessary.
    "response_lost_rate": "RequestTimeout",
}
# Faults that strike after the call took effect.
AFTER_EFFECT = frozenset({"response_lost_rate"})


def ccxt_error(class_name: str, message: str) -> Exception:
    """An instance of ccxt's exception class `class_name` (ccxt imported lazily)."""
    import ccxt

    return getattr(ccxt, class_name)(message)


@dataclass(frozen=True)
class Fault:
    """One injected failure: which ccxt class, under which rate, and how long it 'took'."""

    class_name: str
    rate_name: str
    rate: float
    retry_after_s: float
    timeout_ms: float

    @property
    def after_effect(self) -> bool:
        """True when the call takes effect before this fault strikes (its answer is lost)."""
        return self.rate_name in AFTER_EFFECT

    @property
    def latency_ms(self) -> float | None:
        """A timeout costs the full client timeout; other faults cost a normal round trip."""
        return self.timeout_ms if self.class_name == "RequestTimeout" else None

    def exception(self) -> Exception:
        from adapters.errors import NetworkFailure, RateLimited

        message = f"simulated fault: {self.class_name} ({self.rate_name}={self.rate:g})"
        if self.class_name == "RateLimitExceeded":
            return RateLimited(message, origin=self.class_name, retry_after_s=self.retry_after_s)
        return NetworkFailure(message, origin=self.class_name)


def _rates(source: Mapping[str, Any], base: Mapping[str, float], where: str) -> dict[str, float]:
    rates = dict(base)
    for key, value in source.items():
        if key not in FAULT_CLASSES:
            raise ValueError(f"{where}: unknown fault rate {key!r} (known: {list(FAULT_CLASSES)})")
        rates[key] = float(value)
    if any(not 0.0 <= r <= 1.0 for r in rates.values()) or sum(rates.values()) > 1.0 + 1e-12:
        raise ValueError(f"{where}: rates must each be in [0, 1] and sum to <= 1, got {rates}")
    return rates


class FaultInjector:
    """Decides, once per call and before it takes effect, whether the call fails and how."""

    def __init__(
        self,
        seed: int,
        *,
        error_rate: float = 0.0,
        timeout_rate: float = 0.0,
        rate_limit_rate: float = 0.0,
        response_lost_rate: float = 0.0,
        retry_after_s: float = 1.0,
        timeout_ms: float = 10_000.0,
        per_endpoint: Mapping[str, Mapping[str, float]] | None = None,
    ) -> None:
        zero = dict.fromkeys(FAULT_CLASSES, 0.0)
        given = {"error_rate": error_rate, "timeout_rate": timeout_rate,
                 "rate_limit_rate": rate_limit_rate, "response_lost_rate": response_lost_rate}
        self.rates = _rates(given, zero, "faults")
        self.per_endpoint = {
            name: _rates(dict(over), self.rates, f"faults.per_endpoint.{name}")
            for name, over in (per_endpoint or {}).items()
        }
        self.retry_after_s = float(retry_after_s)
        self.timeout_ms = float(timeout_ms)
        self._rng = random.Random(f"{seed}:faults")
        self._lock = threading.Lock()

    @classmethod
    def from_config(cls, seed: int, config: Mapping[str, Any] | None) -> FaultInjector:
        return cls(seed, **dict(config or {}))

    def draw(self, endpoint: str) -> Fault | None:
        """The fault for this call of `endpoint`, or None when it goes through."""
        with self._lock:
            u = self._rng.random()
        edge = 0.0
        for rate_name, rate in self.per_endpoint.get(endpoint, self.rates).items():
            edge += rate
            if u < edge:
                return Fault(FAULT_CLASSES[rate_name], rate_name, rate, self.retry_after_s,
                             self.timeout_ms)
        return None
