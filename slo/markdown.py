"""Markdown renderings of the error-budget reports (run, sweep, nightly), from the tables of
slo/columns.py (which slo/html.py renders too).
"""

from __future__ import annotations

from typing import Any

from slo.columns import (
    MAX_ROWS,
    NONE,
    STRONG,
    Badge,
    Cell,
    Link,
    alerts_rows,
    contributor_rows,
    envs_judged,
    fmt,
    gate_note,
    objectives_rows,
    retries_rows,
    run_link,
    runs_rows,
    short,
    status_text,
    sweep_rows,
    when,
)

# -- Markdown --------------------------------------------------------------------------


def md_cell(cell: Cell) -> str:
    if isinstance(cell, Badge):
        text = f"**{cell.text}**" if cell.css in STRONG else cell.text
        return f"{text}: {md_cell(cell.note)}" if cell.note else text
    if isinstance(cell, Link):
        text = md_cell(cell.text).replace("[", "\\[").replace("]", "\\]")
        return f"[{text}]({cell.href})"
    return " ".join(str(cell).split()).replace("|", "\\|")


def table(header: list[str], rows: list[list[Cell]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(md_cell(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def more_runs(runs: list[dict[str, Any]]) -> str:
    return (f"{MAX_ROWS} of {len(runs)} runs shown; the JSON report has them all."
            if len(runs) > MAX_ROWS else "")


def unburned(objectives: list[dict[str, Any]]) -> str:
    """The objectives whose contributors list is empty, in one line (or "")."""
    names = [o["name"] for o in objectives if "contributors" in o and not o["contributors"]]
    return f"No bad units in the window: {', '.join(names)}." if names else ""


def contributors_section(objectives: list[dict[str, Any]]) -> list[str]:
    parts = ["## What burned the budget", ""]
    for o in objectives:
        if o.get("contributors"):
            parts += [f"### {o['name']}", "", table(*contributor_rows(o)), ""]
    return parts + ([unburned(objectives), ""] if unburned(objectives) else [])


def crashed_lines(report: dict[str, Any]) -> list[str]:
    return [f"- {md_cell(run_link(c.get('run_id'), c.get('folder')))} "
            f"(env {md_cell(short(c.get('env'), 30))}), last event: "
            f"{md_cell(when(c.get('last_event')))}" for c in report["crashed"]] or ["none"]


def readiness_section(readiness: dict[str, Any]) -> list[str]:
    verdict = readiness.get("verdict") or NONE
    return [f"## Go-live readiness: {verdict}", "",
            f"Environments judged: {envs_judged(readiness)}; {gate_note(readiness)}.", "",
            *(f"- {md_cell(short(r, 300))}" for r in readiness.get("reasons") or []), ""]


def render_markdown(report: dict[str, Any]) -> str:
    kind = report["kind"]
    title = {"run": f"Error budget — run {report.get('run_id', '')}",
             "sweep": f"Error budget — sweep {report.get('sweep_dir', '')}",
             "nightly": f"Error budget — nightly {report['as_of'][:10]}"}[kind]
    env = f" (env {report['env']})" if report.get("env") else ""
    parts = [f"# {title}", "",
             f"Service **{report['service']}**{env}, as of {report['as_of']}: "
             f"**{status_text(report['status'])}**. No data never reads as "
             f"met: NO DATA and INSUFFICIENT DATA are not passes.", ""]
    objectives = report["objectives"]
    if kind == "sweep":
        parts += ["## Jobs", "", table(*sweep_rows(report)), ""]
    if objectives:
        parts += ["## Objectives", "", table(*objectives_rows(objectives)), "",
                  "## Burn-rate alerts", "", table(*alerts_rows(objectives)), ""]
    if any("contributors" in o for o in objectives):
        parts += contributors_section(objectives)
    if "runs_table" in report:
        runs = report["runs_table"]
        parts += ["## Runs", "", table(*runs_rows(report)) if runs else "none", ""]
        parts += [more_runs(runs), ""] if more_runs(runs) else []
    if "crashed" in report:
        parts += ["## Crashed runs", "", *crashed_lines(report), ""]
    if "retries" in report:
        parts += ["## Retries", "", table(*retries_rows(report)) if report["retries"]
                  else "none", ""]
    if "data_quality" in report:
        parts += [data_quality_section(report), ""]
    if report.get("readiness"):  # always the last section
        parts += readiness_section(report["readiness"])
    return "\n".join(parts).rstrip("\n") + "\n"


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
