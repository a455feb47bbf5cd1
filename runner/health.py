"""Health checks run before and after every phase: disk, memory, exchange ping, clock skew.

Each check measures something real, compares it with its configured threshold and emits one
`health` event.  Exchange checks need a connected exchange and are skipped (not reported as
healthy) until the connect phase has run.
"""

from __future__ import annotations

import math
import shutil
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from runner.shared.tables import number

if TYPE_CHECKING:
    from runner.context import RunContext


@dataclass(frozen=True)
class HealthResult:
    name: str
    ok: bool
    value: float
    threshold: float
    unit: str
    on_unhealthy: str

    @property
    def aborts(self) -> bool:
        return not self.ok and self.on_unhealthy == "abort"

    def describe(self) -> str:
        return (f"{self.name}={self.value:,.1f} {self.unit} "
                f"(threshold {number(self.threshold)} {self.unit})")

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        if math.isnan(self.value):
            data["value"] = None  # JSON has no NaN: "could not measure"
        return data


Measure = Callable[["RunContext"], "tuple[float, float | None] | None"]


def _disk_free_mb(ctx: RunContext) -> tuple[float, None]:
    return shutil.disk_usage(ctx.run_dir).free / 2**20, None


def _memory_available_mb(ctx: RunContext) -> tuple[float, None]:
    import psutil

    return psutil.virtual_memory().available / 2**20, None


def _ping_ms(ctx: RunContext) -> tuple[float, float] | None:
    if not ctx.exchange_connected:
        return None
    ctx.exchange.ping()
    latency = ctx.exchange.last_latency_ms
    return latency, latency


def clock_skew_ms(exchange: Any) -> float:
    """Exchange clock minus ours, at the midpoint of the request (positive: exchange ahead)."""
    before = time.time() * 1000
    server = exchange.server_time()
    return server - (before + time.time() * 1000) / 2


def _clock_skew_ms(ctx: RunContext) -> tuple[float, None] | None:
    if not ctx.exchange_connected:
        return None
    return abs(clock_skew_ms(ctx.exchange)), None


# name -> (measure, threshold key, unit, healthy when value is at least the threshold?)
CHECKS: dict[str, tuple[Measure, str, str, bool]] = {
    "disk_space": (_disk_free_mb, "min_free_mb", "MB", True),
    "memory": (_memory_available_mb, "min_available_mb", "MB", True),
    "exchange_ping": (_ping_ms, "max_latency_ms", "ms", False),
    "clock_skew": (_clock_skew_ms, "max_skew_ms", "ms", False),
}


def run_checks(ctx: RunContext, settings: dict[str, Any], phase: str) -> list[HealthResult]:
    """Run every enabled check once; a check that cannot measure counts as unhealthy."""
    results = []
    for name, (measure, key, unit, at_least) in CHECKS.items():
        options = settings.get(name) or {}
        if not options.get("enabled", True) or key not in options:
            continue
        threshold = float(options[key])
        try:
            measured = measure(ctx)
        except Exception as exc:  # a failing probe is itself a finding, never a crash
            ctx.log.warning(f"health check {name} could not measure: {type(exc).__name__}: {exc}")
            measured = (float("nan"), None)
        if measured is None:
            continue
        value, latency = measured
        ok = value >= threshold if at_least else value <= threshold
        result = HealthResult(name, ok, round(value, 3), threshold, unit,
                              options.get("on_unhealthy", "warn"))
        ctx.recorder.record("health", name, ok, latency, None if ok else "Unhealthy",
                            phase=phase)
        if not ok:
            ctx.log.warning(f"unhealthy: {result.describe()} [{phase}]")
        results.append(result)
    return results
