"""The go-live verdict that ends every nightly and sweep report: READY only when nothing a
rehearsal can show stands in the way, NOT READY with one line per reason otherwise.

READY needs, for the environment(s) judged:
- every objective `met` (breached, at_risk, insufficient_data and no_data all block: no data
  never reads as ready);
- no order whose outcome stayed unknown or unreconciled;
- no run that crashed in the window (it never said how it ended: slo/runs.py);
- the latest run of each phase that ran in the window succeeded in it;
- at least one finished run in the window.
`python -m slo fail_on_not_ready=true` exits 3 on NOT READY (a CI gate before a deployment).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from slo.budget import EPOCH
from slo.runs import RunInfo

READY, NOT_READY = "READY", "NOT READY"
MAX_NAMED = 10  # runs named per reason; the rest are counted


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.3f} %"


def objective_reasons(objectives: Iterable[dict[str, Any]]) -> list[str]:
    reasons = []
    for o in objectives:
        status = o["status"]
        if status == "met":
            continue
        if status == "no_data":
            reasons.append(f"{o['name']}: no data in the {o['window']} window")
        elif status == "insufficient_data":
            if o.get("budgeting") == "Timeslices":
                count = round((o.get("coverage") or 0) * o["valid"])
                what = "measured slices"
            else:
                count, what = o["valid"], "valid events"
            reasons.append(f"{o['name']}: insufficient data ({count:,} {what}; at least "
                           f"{o['min_events']:,} needed)")
        else:
            firing = [f"{a['severity']} {a['long']}/{a['short']}" for a in o.get("alerts", [])
                      if a.get("firing")]
            reasons.append(f"{o['name']}: {status.replace('_', ' ')} (SLI {_pct(o['sli'])}, "
                           f"target {_pct(o['target'])}, budget left "
                           f"{_pct(o['budget_remaining'])}"
                           + (f", firing: {', '.join(firing)}" if firing else "") + ")")
    return reasons


def _named(runs: list[RunInfo]) -> str:
    names = [str(r.folder) for r in runs[:MAX_NAMED]]
    more = len(runs) - len(names)
    return ", ".join(names) + (f" and {more} more" if more > 0 else "")


def run_reasons(runs: list[RunInfo]) -> list[str]:
    """Crashed runs, unknown order outcomes, and each phase's latest outcome."""
    reasons = []
    finished = [r for r in runs if r.status not in ("crashed", "running")]
    crashed = [r for r in runs if r.crashed]
    if crashed:
        reasons.append(f"{len(crashed)} run(s) crashed (no result.json): {_named(crashed)}")
    unknown = [r for r in runs if r.unresolved_orders]
    for run in unknown[:MAX_NAMED]:
        reasons.append(f"run {run.run_id or run.folder}: order outcome unknown or unreconciled "
                       f"({', '.join(run.unresolved_orders[:5])}); see {run.folder}")
    if len(unknown) > MAX_NAMED:
        reasons.append(f"{len(unknown) - MAX_NAMED} more run(s) with unknown order outcomes")
    latest: dict[str, tuple[RunInfo, dict[str, Any]]] = {}
    for run in sorted(finished, key=lambda r: r.start or EPOCH):
        for phase in run.phases:  # a phase disabled in the run's config is not judged
            if phase.get("name") and phase.get("reason") != "disabled":
                latest[phase["name"]] = (run, phase)
    for name, (run, phase) in latest.items():
        if phase.get("status") != "succeeded":
            why = f": {phase['reason']}" if phase.get("reason") else ""
            reasons.append(f"phase {name}: {phase.get('status')} in the latest run "
                           f"{run.run_id or run.folder}{why}")
    if not finished:
        reasons.append("no finished run in the window")
    return reasons


def readiness(objectives: list[dict[str, Any]], runs: list[RunInfo], *, envs: list[str],
              gate: bool) -> dict[str, Any]:
    """The verdict dict of the reports (report.schema.json: readiness)."""
    reasons = [*objective_reasons(objectives), *run_reasons(runs)]
    return {"verdict": NOT_READY if reasons else READY, "envs": list(envs),
            "reasons": reasons, "gate": gate}


def job_readiness(result: dict[str, Any]) -> dict[str, Any]:
    """One sweep job's verdict from its result.json alone (its own objectives and run)."""
    if not result or result.get("status") not in ("succeeded", "failed", "interrupted"):
        return {"verdict": NOT_READY, "reasons": ["the job never wrote its result (crashed, "
                                                  "killed or not started)"]}
    reasons = []
    slo = result.get("slo") or {}
    for name, o in (slo.get("objectives") or {}).items():
        if o.get("status") != "met":
            reasons.append(f"{name}: {str(o.get('status')).replace('_', ' ')}")
    if not slo:
        reasons.append("no SLO report (the report phase did not run)")
    unresolved = (result.get("orders") or {}).get("unresolved") or []
    if unresolved:
        shown = ", ".join(map(str, unresolved[:5]))
        reasons.append(f"order outcome unknown or unreconciled ({shown})")
    for phase in result.get("phases") or []:
        if isinstance(phase, dict) and phase.get("status") != "succeeded":
            reasons.append(f"phase {phase.get('name')}: {phase.get('status')}")
    if result.get("status") != "succeeded":
        reasons.append(f"run {result.get('status')} (exit {result.get('exit_code')})")
    return {"verdict": NOT_READY if reasons else READY, "reasons": reasons}
