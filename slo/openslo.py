"""Export the objectives as OpenSLO `openslo/v1` SLO documents (`python -m slo export_openslo=`).

Each objective becomes one `kind: SLO` with an inline ratio indicator.  OpenSLO has no query
language of its own; the good and total metrics name a `metricSource` of type
`pre-execution-runner` whose spec holds our structured conditions ({field, op, value}) —
total = the valid conditions, good = valid AND good.  Alert tiers are kept as annotations, each
with the burn rate it fires above (threshold = max(k, 1); a k below 1 is shown as clamped).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from slo.durations import format_duration
from slo.spec import AlertTier, Objective, SloSpec

API_VERSION = "openslo/v1"
SOURCE_TYPE = "pre-execution-runner"


def dns_name(name: str) -> str:
    """OpenSLO names are DNS labels: api_response_time -> api-response-time."""
    return name.replace("_", "-").lower()


def _source(conditions: list[dict[str, Any]]) -> dict[str, Any]:
    return {"metricSource": {"type": SOURCE_TYPE,
                             "spec": {"table": "metric_events", "conditions": conditions}}}


def _tier_text(tier: AlertTier, window: timedelta) -> str:
    """'page 1h/5m threshold=13.44', or 'ticket 3d/6h threshold=1 (k=0.98, clamped)'."""
    text = (f"{tier.severity} {format_duration(tier.long)}/{format_duration(tier.short)} "
            f"threshold={tier.threshold(window):g}")
    return text + (f" (k={tier.k(window):g}, clamped)" if tier.clamped(window) else "")


TIMESLICES = ("rehearsal time only: the slices are the {slice} slices that overlap a run's "
              "lifetime (its start to its last event), not every slice of the {window} "
              "window; a slice is good when it holds at least one valid event and all are good, "
              "bad when none (nobody alive to report); a crashed run (no result.json, its "
              "process gone) adds one bad slice after its last event; no status before "
              "{min_events} measured slices")
OCCURRENCES = ("events: every valid event in the window counts once; an event with final=false "
               "is a retried attempt (the call is counted by its final attempt); kind run is one "
               "derived event per run folder (ok when the run succeeded); no status before "
               "{min_events} valid events")


def _counts(o: Objective) -> str:
    """What one unit of the SLI is, so another tool does not misread the objective (e.g. a
    30-day Timeslices window as 43,200 wall-clock minutes)."""
    if o.budgeting == "Timeslices" and o.slice is not None:
        return TIMESLICES.format(slice=format_duration(o.slice), window=format_duration(o.window),
                                 min_events=o.min_events)
    return OCCURRENCES.format(min_events=o.min_events)


def _document(spec: SloSpec, o: Objective) -> dict[str, Any]:
    valid = [c.as_dict() for c in o.valid]
    good = [c.as_dict() for c in (*o.valid, *o.good)]  # fresh dicts: no YAML anchors
    objective: dict[str, Any] = {"displayName": o.name, "target": o.target}
    if o.budgeting == "Timeslices" and o.slice is not None:
        # A slice is good when all its valid events are good (and there is at least one).
        objective["timeSliceTarget"] = 1
        objective["timeSliceWindow"] = format_duration(o.slice)
    annotations = {
        "pre-execution-runner/valid": " AND ".join(c.describe() for c in o.valid) or "any event",
        "pre-execution-runner/good": " AND ".join(c.describe() for c in o.good) or "any event",
        "pre-execution-runner/min-events": str(o.min_events),
        "pre-execution-runner/alert-min-events": str(o.alert_min_events),
        "pre-execution-runner/alert-tiers": "; ".join(_tier_text(t, o.window) for t in o.tiers),
        "pre-execution-runner/counts": _counts(o),
    }
    name = dns_name(o.name)
    return {
        "apiVersion": API_VERSION,
        "kind": "SLO",
        "metadata": {"name": name, "displayName": o.name, "annotations": annotations},
        "spec": {
            "description": o.description,
            "service": spec.service,
            "indicator": {
                "metadata": {"name": f"{name}-sli", "displayName": f"{o.name} indicator"},
                "spec": {"ratioMetric": {"counter": True, "good": _source(good),
                                         "total": _source(valid)}},
            },
            "timeWindow": [{"duration": format_duration(o.window), "isRolling": True}],
            "budgetingMethod": o.budgeting,
            "objectives": [objective],
        },
    }


def to_openslo(spec: SloSpec) -> list[dict[str, Any]]:
    """One OpenSLO v1 SLO document per objective."""
    return [_document(spec, o) for o in spec.objectives]


def dump_openslo(spec: SloSpec) -> str:
    """The documents as one multi-document YAML text."""
    import yaml

    return yaml.safe_dump_all(to_openslo(spec), sort_keys=False, allow_unicode=True)
