"""Markdown renderings of the error-budget reports (run, sweep, nightly)."""

from __future__ import annotations

from typing import Any

from runner.shared.tables import number

ICONS = {"met": "✅", "at_risk": "⚠️", "breached": "❌", "insufficient_data": "…",
         "no_data": "∅"}


def fmt(value: Any, digits: int = 3, suffix: str = "") -> str:
    """Thousands separators and fixed decimals, never `1e+04` (runner/shared/tables.py)."""
    return number(value, digits, suffix, none="–")


def pct(value: float | None) -> str:
    return "–" if value is None else f"{value * 100:,.3f} %"


def table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def objectives_table(objectives: list[dict[str, Any]]) -> str:
    rows = []
    for o in objectives:
        first_burn = next((b["burn"] for b in o["burn_rates"]), None)
        rows.append([
            o["name"], f"{ICONS.get(o['status'], '')} {o['status']}", pct(o["sli"]),
            pct(o["target"]), o["window"], fmt(o["valid"]), fmt(o["bad"]),
            pct(o["budget_remaining"]), f"{fmt(o['remaining'], 4)} {o['remaining_unit']}",
            fmt(first_burn), fmt(o["time_to_exhaustion_h"], suffix=" h"),
        ])
    return table(["objective", "status", "SLI", "target", "window", "valid", "bad",
                  "budget left", "remaining", "burn (1st tier)", "exhausted in"], rows)


def alerts_table(objectives: list[dict[str, Any]]) -> str:
    rows = [
        [o["name"], a["severity"], f"{a['long']} / {a['short']}", fmt(a["k"]),
         fmt(a["burn_long"]), fmt(a["burn_short"]),
         "🔥 firing" if a["firing"] else "quiet"]
        for o in objectives for a in o["alerts"]
    ]
    return table(["objective", "severity", "windows (long / short)", "threshold k",
                  "burn long", "burn short", "state"], rows)


def render_markdown(report: dict[str, Any]) -> str:
    kind = report["kind"]
    title = {"run": f"Error budget — run {report.get('run_id', '')}",
             "sweep": f"Error budget — sweep {report.get('sweep_dir', '')}",
             "nightly": f"Error budget — nightly {report['as_of'][:10]}"}[kind]
    parts = [f"# {title}", "",
             f"Service **{report['service']}**, as of {report['as_of']}: "
             f"**{report['status']}**.", ""]
    if kind == "sweep":
        parts += [sweep_section(report), ""]
    if report["objectives"]:
        parts += ["## Objectives", "", objectives_table(report["objectives"]), "",
                  "## Burn-rate alerts", "", alerts_table(report["objectives"]), ""]
    if "data_quality" in report:
        parts += [data_quality_section(report), ""]
    parts.append("No data never reads as met: `no_data` and `insufficient_data` are not passes.")
    return "\n".join(parts) + "\n"


def sweep_section(report: dict[str, Any]) -> str:
    keys = report["override_keys"]
    names = report["objective_names"]
    header = ["job", *keys, "run status", "exit", *(f"{n} SLI" for n in names),
              *(f"{n} budget" for n in names)]
    rows = []
    for job in report["jobs"]:
        slo = job.get("objectives") or {}
        rows.append([
            str(job["job"]), *(str(job["overrides"].get(k, "")) for k in keys),
            job["status"], fmt(job["exit_code"]),
            *(pct((slo.get(n) or {}).get("sli")) for n in names),
            *(pct((slo.get(n) or {}).get("budget_remaining")) for n in names),
        ])
    return "## Jobs\n\n" + table(header, rows)


def data_quality_section(report: dict[str, Any]) -> str:
    """What was read, and every file or folder left out in whole or in part, with why."""
    quality = report["data_quality"]
    partly = quality.get("partly_read", [])
    lines = ["## Data quality", "",
             f"- run folders read: {quality['files_read']} "
             f"(crashed runs read from their journal: {quality['journals_read']})",
             f"- files or folders skipped: {len(quality['skipped'])}"]
    lines += [f"  - `{s['path']}`: {s['reason']}" for s in quality["skipped"][:50]]
    lines += [f"- bad journal lines skipped: {quality['journal_bad_lines']}",
              f"- parquet events breaking the event contract, left out: "
              f"{fmt(quality.get('invalid_events', 0))}",
              f"- files read in part: {len(partly)}"]
    lines += [f"  - `{s['path']}`: {s['reason']}" for s in partly[:50]]
    return "\n".join(lines)
