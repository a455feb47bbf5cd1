"""The closing summary a user reads in the terminal: one row per phase, then where the run is."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from runner.shared.tables import format_table, number, truncate

DETAIL_WIDTH = 72  # the detail column is cut here; result.json and run.log keep the whole text


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:,.2f}%"


def print_summary(result: dict[str, Any], run_dir: Path) -> None:
    rows = [
        [p["name"], p["status"], str(p["attempts"]), f"{p['duration_s']:,.3f} s",
         truncate(p["error"] or p.get("reason") or "", DETAIL_WIDTH)]
        for p in result["phases"]
    ]
    print()
    print(format_table(["phase", "status", "attempts", "duration", "detail"], rows))
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
