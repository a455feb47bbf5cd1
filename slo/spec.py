"""The SLO spec (the `slo` node of the config, conf/slo/*.yaml) as frozen dataclasses.

`load_objectives` validates the node against slo/schemas/spec.schema.json and then checks what a
schema cannot (alert windows, time slices, condition values); every problem is one line naming
the key, e.g. "slo.objectives.api_response_time.target: 1.5 is not allowed; allowed: a number
between 0 and 1 (exclusive)", raised together as one ConfigError.  polars is not imported here.

An objective's alert tiers: its own `alerting.tiers`, else `alerting.tiers_by_window[W]` for the
key W equal to its timeWindow as a duration ("168h" is "7d"), else `alerting.tiers`.  Its
thresholds: `min_events` (status: fewer valid events in the window -> insufficient_data) is the
objective's `min_events`, else `alerting.min_events`; `alert_min_events` (fewer valid events in a
burn-rate window -> no burn rate) is the objective's `alerting.min_events`, else
`alerting.min_events`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from runner.shared.errors import ConfigError
from slo.conditions import Condition, condition_problems, parse_conditions
from slo.durations import format_duration, parse_duration

DAY = timedelta(days=1)
DEFAULT_AT_RISK_BELOW = 0.25
MIN_THRESHOLD = 1.0  # no alert tier fires at a burn rate below 1


def _sig(value: float, digits: int = 12) -> float:
    """Drop binary noise: 1 - 0.999 -> 0.001, 0.05 * 120 -> 6.0."""
    return float(f"{value:.{digits}g}")


@dataclass(frozen=True)
class AlertTier:
    """One multiwindow, multi-burn-rate alert (SRE Workbook): fires when the burn rate over both
    `long` and `short` exceeds threshold(window) = max(k, 1), k = budget_fraction * window / long.
    """

    severity: str
    long: timedelta
    short: timedelta
    budget_fraction: float

    def k(self, window: timedelta) -> float:
        """The burn rate that spends `budget_fraction` of the budget of `window` in `long`."""
        return _sig(self.budget_fraction * (window / self.long))

    def threshold(self, window: timedelta) -> float:
        """The burn rate the tier fires above: k, but never below 1 (burning at rate 1 spends
        exactly the budget over the window; no tier fires below that)."""
        return max(self.k(window), MIN_THRESHOLD)

    def clamped(self, window: timedelta) -> bool:
        """Whether k is below 1, so that threshold(window) is 1, not k."""
        return self.k(window) < MIN_THRESHOLD


@dataclass(frozen=True)
class Objective:
    name: str
    description: str
    budgeting: str  # Occurrences | Timeslices
    target: float
    window: timedelta
    slice: timedelta | None
    valid: tuple[Condition, ...]
    good: tuple[Condition, ...]
    tiers: tuple[AlertTier, ...]
    min_events: int  # status: fewer valid events in the window -> insufficient_data
    alert_min_events: int  # per burn-rate window: fewer valid events -> no burn rate

    @property
    def budget_ratio(self) -> float:
        return _sig(1 - self.target)

    @property
    def burn_windows(self) -> tuple[timedelta, ...]:
        """Every tier's long and short window, first seen first, without repeats."""
        seen: list[timedelta] = []
        for tier in self.tiers:
            for window in (tier.long, tier.short):
                if window not in seen:
                    seen.append(window)
        return tuple(seen)

    @property
    def horizon(self) -> timedelta:
        """How far back this objective looks: its window or its longest alert window."""
        return max((self.window, *self.burn_windows))

    @property
    def fields(self) -> set[str]:
        return {c.field for c in (*self.valid, *self.good)}


@dataclass(frozen=True)
class SloSpec:
    service: str
    fail_on_breach: bool
    at_risk_below: float
    objectives: tuple[Objective, ...]

    @property
    def horizon(self) -> timedelta:
        """The oldest event any objective needs is `as_of - horizon`."""
        return max((o.horizon for o in self.objectives), default=timedelta(0))

    @property
    def columns(self) -> list[str]:
        """The event columns the computation reads (ts, run_id and every condition field)."""
        from runner.shared.events import COLUMNS

        needed = {"ts", "run_id"}.union(*(o.fields for o in self.objectives))
        return [c for c in COLUMNS if c in needed]


# -- loading -----------------------------------------------------------------------------


def _plain(config: Any) -> Any:
    if isinstance(config, Mapping) and not isinstance(config, dict):
        try:
            from omegaconf import DictConfig, OmegaConf

            if isinstance(config, DictConfig):
                return OmegaConf.to_container(config, resolve=True)
        except ImportError:  # pragma: no cover - omegaconf ships with hydra
            pass
        return dict(config)
    return config


def schema_problems(slo_config: Any) -> list[str]:
    """Every violation of spec.schema.json as one line, keys prefixed with `slo.`."""
    from runner.shared.schemas import schema_problems as problems

    return problems(slo_config, "spec", package="slo.schemas", prefix="slo")


def _tier_problems(tiers: list[dict[str, Any]], key: str) -> list[str]:
    problems = []
    for i, tier in enumerate(tiers):
        long, short = parse_duration(tier["long"]), parse_duration(tier["short"])
        if short >= long:
            problems.append(f"{key}[{i}].short: {tier['short']!r} is not allowed; allowed: a "
                            f"window shorter than long ({tier['long']})")
    return problems


def _by_window(slo: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    return slo["alerting"].get("tiers_by_window") or {}


def _window_key_problems(slo: dict[str, Any]) -> list[str]:
    """tiers_by_window keys: durations (the schema's pattern lets through ones too long), and
    no window twice ("7d" and "168h")."""
    problems, seen = [], {}
    for text in _by_window(slo):
        try:
            window = parse_duration(text)
        except ValueError as error:
            problems.append(f"slo.alerting.tiers_by_window: {text!r} is not allowed; allowed: "
                            + str(error).split("allowed: ", 1)[-1])
            continue
        if window in seen:
            problems.append(f"slo.alerting.tiers_by_window: {text!r} is not allowed; allowed: "
                            f"one table per window ({seen[window]!r} is the same window)")
        seen.setdefault(window, text)
    return problems


def _duration_problems(slo: dict[str, Any]) -> list[str]:
    """Durations the schema's pattern lets through but that are too long."""
    found: list[tuple[str, str]] = []
    for i, tier in enumerate(slo["alerting"]["tiers"]):
        found += [(f"slo.alerting.tiers[{i}].{k}", tier[k]) for k in ("long", "short")]
    for window, tiers in _by_window(slo).items():
        for i, tier in enumerate(tiers):
            found += [(f"slo.alerting.tiers_by_window.{window}[{i}].{k}", tier[k])
                      for k in ("long", "short")]
    for name, raw in slo["objectives"].items():
        key = f"slo.objectives.{name}"
        found += [(f"{key}.{k}", raw[k]) for k in ("timeWindow", "timeSliceWindow") if k in raw]
        for i, tier in enumerate((raw.get("alerting") or {}).get("tiers", [])):
            found += [(f"{key}.alerting.tiers[{i}].{k}", tier[k]) for k in ("long", "short")]
    problems = []
    for key, text in found:
        try:
            parse_duration(text)
        except ValueError as error:
            problems.append(f"{key}: {text!r} is not allowed; allowed: "
                            + str(error).split("allowed: ", 1)[-1])
    return problems


def semantic_problems(slo: dict[str, Any]) -> list[str]:
    """What the schema cannot say; `slo` has passed the schema."""
    problems = _window_key_problems(slo) + _duration_problems(slo)
    if problems:
        return problems
    problems = _tier_problems(slo["alerting"]["tiers"], "slo.alerting.tiers")
    for window, tiers in _by_window(slo).items():
        problems += _tier_problems(tiers, f"slo.alerting.tiers_by_window.{window}")
    for name, raw in slo["objectives"].items():
        key = f"slo.objectives.{name}"
        if "tiers" in (raw.get("alerting") or {}):
            problems += _tier_problems(raw["alerting"]["tiers"], f"{key}.alerting.tiers")
        for part in ("valid", "good"):
            for i, condition in enumerate(raw["indicator"][part]):
                problems += condition_problems(condition, f"{key}.indicator.{part}[{i}]")
        if "timeSliceWindow" not in raw:
            continue
        text = raw["timeSliceWindow"]
        if raw["budgetingMethod"] != "Timeslices":
            problems.append(f"{key}.timeSliceWindow: {text!r} is not allowed; allowed: only "
                            "with budgetingMethod Timeslices")
            continue
        size, window = parse_duration(text), parse_duration(raw["timeWindow"])
        if DAY % size:
            problems.append(f"{key}.timeSliceWindow: {text!r} is not allowed; allowed: a "
                            "duration that divides 1 day (e.g. 1m, 5m, 1h)")
        elif size > window or window % size:
            problems.append(f"{key}.timeSliceWindow: {text!r} is not allowed; allowed: a "
                            f"duration that divides timeWindow ({raw['timeWindow']})")
    return problems


def _tiers(raws: list[dict[str, Any]]) -> tuple[AlertTier, ...]:
    return tuple(AlertTier(severity=t["severity"], long=parse_duration(t["long"]),
                           short=parse_duration(t["short"]),
                           budget_fraction=float(t["budget_fraction"])) for t in raws)


def load_objectives(slo_config: Any) -> SloSpec:
    """Validate the `slo` config node and build the spec; problems raise one ConfigError."""
    slo = _plain(slo_config)
    problems = schema_problems(slo)
    if problems:
        raise ConfigError(problems)
    problems = semantic_problems(slo)
    if problems:
        raise ConfigError(problems)
    alerting = slo["alerting"]
    by_window = {parse_duration(w): _tiers(t) for w, t in _by_window(slo).items()}
    shared = _tiers(alerting["tiers"])
    objectives = []
    for name, raw in slo["objectives"].items():
        override = raw.get("alerting") or {}
        window = parse_duration(raw["timeWindow"])
        tiers = (_tiers(override["tiers"]) if "tiers" in override
                 else by_window.get(window, shared))
        key = f"slo.objectives.{name}.indicator"
        objectives.append(Objective(
            name=name,
            description=raw.get("description", ""),
            budgeting=raw["budgetingMethod"],
            target=float(raw["target"]),
            window=window,
            slice=(parse_duration(raw["timeSliceWindow"])
                   if raw["budgetingMethod"] == "Timeslices" else None),
            valid=parse_conditions(raw["indicator"]["valid"], f"{key}.valid"),
            good=parse_conditions(raw["indicator"]["good"], f"{key}.good"),
            tiers=tiers,
            min_events=int(raw.get("min_events", alerting["min_events"])),
            alert_min_events=int(override.get("min_events", alerting["min_events"])),
        ))
    return SloSpec(service=slo["service"], fail_on_breach=bool(slo.get("fail_on_breach", False)),
                   at_risk_below=float(slo.get("at_risk_below", DEFAULT_AT_RISK_BELOW)),
                   objectives=tuple(objectives))


__all__ = ["AlertTier", "Condition", "ConfigError", "Objective", "SloSpec", "format_duration",
           "load_objectives"]
