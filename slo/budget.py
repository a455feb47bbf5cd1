"""The budget arithmetic of one objective (docs/SLO.md), on its small series of units: SLI,
budget remaining, burn rates and alert tiers, status, time to exhaustion, burn-down.

slo/compute.py reads the events once and turns them into `Units`; everything here is exact
(fractions.Fraction: a burn of exactly k does not fire; 1 - 0.999 is 0.001), then rounded to 6
significant digits for the JSON-ready objective dicts.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from fractions import Fraction
from typing import Any

from slo.durations import format_duration
from slo.spec import Objective

EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
US_PER_HOUR = 3_600_000_000
DAY_US = 86_400_000_000
MAX_BURN_DOWN_POINTS = 200
# Burn-down steps, finest first (us): 1 min, 5 min, 15 min, 1 h, 3 h, 6 h, 12 h, 1 d.
STEPS_US = tuple(m * 60_000_000 for m in (1, 5, 15, 60, 180, 360, 720, 1440))
SIGNIFICANT = 6


def to_us(value: timedelta) -> int:
    return value // timedelta(microseconds=1)


def _iso(us: int) -> str:
    return (EPOCH + timedelta(microseconds=us)).isoformat()


def rounded(value: Any) -> float | None:
    """6 significant digits, JSON-ready (None stays None, -0.0 becomes 0.0)."""
    if value is None:
        return None
    out = float(f"{float(value):.{SIGNIFICANT}g}")
    return out + 0.0 if out == 0 else out


def _exact(number: float) -> Fraction:
    """0.999 -> 999/1000 (its shortest decimal spelling, not its binary approximation)."""
    return Fraction(repr(float(number)))


# -- units: the small per-objective series every window is summed from -----------------


@dataclass
class Units:
    """Time-ordered units (buckets or slices) of one objective with their counts."""

    starts: list[int]  # us since the epoch, ascending
    length: int  # us
    valid: list[int]  # prefix sums (len = units + 1)
    good: list[int]
    measured: list[int]

    @classmethod
    def of(cls, starts: list[int], length: int, valid: list[int], good: list[int],
           measured: list[int]) -> Units:
        def prefix(values: list[int]) -> list[int]:
            out = [0]
            for value in values:
                out.append(out[-1] + value)
            return out

        return cls(starts, length, prefix(valid), prefix(good), prefix(measured))

    def window(self, as_of_us: int, window_us: int) -> tuple[int, int, int]:
        """(valid, good, measured) of the units overlapping [as_of - window, as_of)."""
        first = bisect_right(self.starts, as_of_us - window_us - self.length)
        last = bisect_left(self.starts, as_of_us)
        return (self.valid[last] - self.valid[first], self.good[last] - self.good[first],
                self.measured[last] - self.measured[first])

    def bad_before(self, as_of_us: int, window_us: int, t_us: int) -> int:
        """Bad count of the window's units that start before t."""
        first = bisect_right(self.starts, as_of_us - window_us - self.length)
        last = max(first, bisect_left(self.starts, min(t_us, as_of_us)))
        return (self.valid[last] - self.valid[first]) - (self.good[last] - self.good[first])


# -- the report of one objective -------------------------------------------------------


def _burn(valid: int, good: int, budget_ratio: Fraction, min_events: int) -> Fraction | None:
    """(1 - SLI) / budget_ratio, only with at least min_events (and at least 1) valid."""
    if valid == 0 or valid < min_events:
        return None
    return Fraction(valid - good, valid) / budget_ratio


def _burn_down(units: Units, as_of_us: int, window_us: int, allowed_bad: Fraction
               ) -> list[dict[str, Any]]:
    """Budget remaining over the window, at the finest of the STEPS (never finer than a
    unit) that keeps it to MAX_BURN_DOWN_POINTS: a 7-day window every hour, 30 days every
    6 hours, so a short window's chart is a curve, not a handful of points."""
    step = next((s for s in STEPS_US if s >= units.length
                 and window_us / s <= MAX_BURN_DOWN_POINTS), None)
    if step is None:
        step = -(-window_us // MAX_BURN_DOWN_POINTS // units.length) * units.length
    start = as_of_us - window_us
    times = [*range(start, as_of_us, step), as_of_us]
    points = []
    for t in times:
        bad = units.bad_before(as_of_us, window_us, t)
        value = None if allowed_bad == 0 else rounded(1 - bad / allowed_bad)
        points.append({"t": _iso(t), "budget_remaining": value})
    return points


def _sli_per_day(units: Units, as_of_us: int, window_us: int) -> list[dict[str, Any]]:
    """Valid, good and SLI per UTC day of the window (the first and last day in part)."""
    start = as_of_us - window_us
    days = []
    for day in range(start // DAY_US * DAY_US, as_of_us, DAY_US):
        lo, hi = max(day, start), min(day + DAY_US, as_of_us)
        # The window's first unit may start before it (as in Units.window): it counts there.
        first = (bisect_right(units.starts, start - units.length) if lo == start
                 else bisect_left(units.starts, lo))
        last = bisect_left(units.starts, hi)
        valid = units.valid[last] - units.valid[first]
        good = units.good[last] - units.good[first]
        days.append({"day": _iso(day)[:10], "valid": valid, "good": good,
                     "sli": rounded(Fraction(good, valid)) if valid else None})
    return days


def _status(valid: int, sufficient: bool, budget_remaining: Fraction | None, firing: bool,
            at_risk_below: Fraction) -> str:
    if valid == 0 or budget_remaining is None:
        return "no_data"
    if not sufficient:
        return "insufficient_data"
    if budget_remaining < 0:
        return "breached"
    if firing or budget_remaining < at_risk_below:
        return "at_risk"
    return "met"


def objective_report(o: Objective, units: Units, as_of_us: int, at_risk_below: float
                     ) -> dict[str, Any]:
    """Every number of one objective, JSON-ready, from its units (docs/SLO.md)."""
    window_us = to_us(o.window)
    valid, good, measured = units.window(as_of_us, window_us)
    bad = valid - good
    budget_ratio = _exact(1) - _exact(o.target)
    allowed_bad = budget_ratio * valid
    budget_remaining = 1 - bad / allowed_bad if valid else None
    timeslices = o.budgeting == "Timeslices"
    remaining = None
    if valid:
        remaining = allowed_bad - bad
        if timeslices:
            remaining *= Fraction(units.length, 60_000_000)  # slices -> minutes
    # Enough data to judge: valid events, or for Timeslices slices that were measured.
    sufficient = (measured if timeslices else valid) >= max(o.min_events, 1)
    burns: dict[timedelta, tuple[Fraction | None, int]] = {}
    for window in o.burn_windows:
        v, g, _ = units.window(as_of_us, to_us(window))
        burns[window] = (_burn(v, g, budget_ratio, o.alert_min_events), v)
    alerts = []
    for tier in o.tiers:
        # The tier's k, but never below 1: a burn under 1 spends less than the budget allows.
        k = max(_exact(tier.budget_fraction) * Fraction(to_us(o.window), to_us(tier.long)), 1)
        burn_long, burn_short = burns[tier.long][0], burns[tier.short][0]
        firing = (sufficient and burn_long is not None and burn_short is not None
                  and burn_long > k and burn_short > k)
        alerts.append({"severity": tier.severity, "long": format_duration(tier.long),
                       "short": format_duration(tier.short), "k": rounded(k),
                       "budget_fraction": tier.budget_fraction,
                       "burn_long": rounded(burn_long), "burn_short": rounded(burn_short),
                       "firing": firing})
    current = burns[o.tiers[0].long][0] if o.tiers else None
    exhaustion = None
    if current and current > 0 and budget_remaining is not None and budget_remaining > 0:
        exhaustion = budget_remaining * Fraction(window_us, US_PER_HOUR) / current
    return {
        "name": o.name,
        "description": o.description,
        "budgeting": o.budgeting,
        "target": o.target,
        "window": format_duration(o.window),
        "window_start": _iso(as_of_us - window_us),
        "window_end": _iso(as_of_us),
        "valid": valid,
        "good": good,
        "bad": bad,
        "sli": rounded(Fraction(good, valid)) if valid else None,
        "budget_ratio": rounded(budget_ratio),
        "allowed_bad": rounded(allowed_bad),
        "budget_remaining": rounded(budget_remaining),
        "remaining": rounded(remaining),
        "remaining_unit": "minutes" if timeslices else "events",
        "coverage": rounded(Fraction(measured, valid)) if timeslices and valid else None,
        "burn_rates": [{"window": format_duration(w), "burn": rounded(b), "valid": v}
                       for w, (b, v) in burns.items()],
        "alerts": alerts,
        "time_to_exhaustion_h": rounded(exhaustion),
        "status": _status(valid, sufficient, budget_remaining,
                          any(a["firing"] for a in alerts), _exact(at_risk_below)),
        "min_events": o.min_events,
        "burn_down": _burn_down(units, as_of_us, window_us, allowed_bad),
        "sli_per_day": _sli_per_day(units, as_of_us, window_us),
    }
