"""The closing summary a user reads in the terminal: one row per phase, the latency percentiles
of a load phase (its summary in result.json), the SLOs, then where the run is."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from runner.shared.tables import format_table, number, truncate

DETAIL_WIDTH = 72  # the detail column is cut here; result.json and run.log keep the whole text


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:,.2f}%"


# A load phase's summary (runner/phases/load.py): each measured call and the key of its count.
LATENCIES = (("fetch_ticker", "calls"), ("create_order", "orders"))


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:,.1f} ms"


def latency_table(name: str, summary: Any) -> str | None:
    """The percentiles of a phase that measured latencies (the built-in load phase, whatever
    its name in the plan), or None."""
    if not isinstance(summary, dict):
        return None
    rows = [[call, number(summary.get(count)), *(_ms(summary[call].get(f"{q}_ms"))
                                                 for q in ("p50", "p95", "p99", "max"))]
            for call, count in LATENCIES if isinstance(summary.get(call), dict)]
    if not rows:
        return None
    errors = summary.get("errors", 0) or 0
    done = sum(summary.get(count) or 0 for _, count in LATENCIES)
    stopped = " (stopped early)" if summary.get("stopped_early") else ""
    return (format_table([f"{name} latency", "calls", "p50", "p95", "p99", "max"], rows)
            + f"\n{name}: {number(done)} calls, {number(errors)} "
            + f"error{'' if errors == 1 else 's'}{stopped}")


def print_summary(result: dict[str, Any], run_dir: Path) -> None:
    rows = [
        [p["name"], p["status"], str(p["attempts"]), f"{p['duration_s']:,.3f} s",
         truncate(p["error"] or p.get("reason") or "", DETAIL_WIDTH)]
        for p in result["phases"]
    ]
    print()
    print(format_table(["phase", "status", "attempts", "duration", "detail"], rows))
    for phase in result["phases"]:
        latencies = latency_table(phase["name"], phase.get("summary"))
        if latencies:
            print()
            print(latencies)
    slo = result.get("slo")
    if slo:
        print()
        print(format_table(["objective", "status", "SLI", "budget left"], [
            [name, o["status"], _pct(o["sli"]), _pct(o["budget_remaining"])]
            for name, o in slo["objectives"].items()]))
    events = result["events"]
    kinds = ", ".join(f"{k} {number(v)}" for k, v in events["by_kind"].items())
    print(f"\nrun {result['run_id']}: {result['status'].upper()} (exit {result['exit_code']}) "
          f"in {result['duration_s']:,.2f} s; {number(events['total'])} events ({kinds})")
    print(f"run folder: {run_dir}")
