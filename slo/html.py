"""The nightly report as one self-contained HTML page: the tables of slo/columns.py (the same
columns, from the same definitions) plus, per objective, a budget burn-down and an SLI-per-day
chart (inline SVG drawn by matplotlib in slo/charts.py; no scripts, no external files).

Statuses are text badges coloured by CSS, never emoji; every text from the report is escaped.
"""

from __future__ import annotations

import re
from html import escape
from typing import Any

from slo.columns import (
    NONE,
    Badge,
    Cell,
    Link,
    alerts_rows,
    badge,
    contributor_rows,
    envs_judged,
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
from slo.markdown import more_runs, unburned

STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;
margin:2rem auto;max-width:80rem;padding:0 1rem;color:#1f2328;line-height:1.45}
h1{font-size:1.6rem}h2{margin-top:2rem;border-bottom:1px solid #d0d7de;padding-bottom:.2rem}
h3{font-size:1rem;margin:1.2rem 0 .3rem}.meta{color:#57606a}
.scroll{overflow-x:auto}table{border-collapse:collapse;margin:.5rem 0 1rem;font-size:.88rem}
td,th{border:1px solid #d0d7de;padding:.25rem .55rem;text-align:left;vertical-align:top}
th{background:#f6f8fa}td{white-space:nowrap}td.num{text-align:right}
td.wrap{white-space:normal;min-width:14rem;max-width:32rem}
tr:nth-child(even) td{background:#fbfcfd}code{font-size:.85em}
.badge{display:inline-block;padding:.05rem .45rem;border-radius:.3rem;font-size:.78rem;
font-weight:600;letter-spacing:.03em;color:#fff;background:#6e7781;white-space:nowrap}
.badge.met,.badge.succeeded,.badge.ready{background:#1a7f37}
.badge.at_risk,.badge.interrupted{background:#9a6700}
.badge.breached,.badge.failed,.badge.firing,.badge.not_ready{background:#cf222e}
.badge.crashed{background:#82071e}.badge.running{background:#0969da}
.badge.quiet{background:#eaeef2;color:#57606a;font-weight:400}
h2 .badge{font-size:1rem;vertical-align:middle}
.chart{margin:.5rem 0 1rem}.chart svg{max-width:100%;height:auto}
"""
NUMERIC = re.compile(r"-?[0-9][0-9.,]*( %| h| events| minutes)?")


def cell_html(cell: Cell) -> str:
    if isinstance(cell, Badge):
        note = f" {escape(cell.note)}" if cell.note else ""
        return f'<span class="badge {escape(cell.css)}">{escape(cell.text)}</span>{note}'
    if isinstance(cell, Link):
        return f'<a href="{escape(cell.href)}">{escape(cell.text)}</a>'
    return escape(str(cell))


def _numeric(column: list[Cell]) -> bool:
    """A column of numbers (dashes allowed) is right-aligned."""
    texts = [c for c in column if c != NONE]
    return bool(texts) and all(isinstance(c, str) and NUMERIC.fullmatch(c) for c in texts)


def _td(cell: Cell, numeric: bool) -> str:
    css = ' class="num"' if numeric else ""
    if not numeric and isinstance(cell, str) and len(cell) > 40:
        css = ' class="wrap"'
    return f"<td{css}>{cell_html(cell)}</td>"


def _table(header: list[str], rows: list[list[Cell]]) -> str:
    if not rows:
        return "<p>none</p>"
    numeric = [_numeric(list(column)) for column in zip(*rows, strict=True)]
    head = "".join(f"<th>{escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(_td(c, n) for c, n in zip(row, numeric, strict=True))
                   + "</tr>" for row in rows)
    return f'<div class="scroll"><table><tr>{head}</tr>{body}</table></div>'


def _charts(objectives: list[dict[str, Any]]) -> str:
    if not objectives:
        return ""
    from slo.charts import objective_svg

    figures = "".join(f'<div class="chart">{objective_svg(o)}</div>' for o in objectives)
    return ("<h2>Budget burn-down and SLI per day</h2><p class=meta>Budget left over each "
            "objective's window (the red line is zero: the budget is spent); SLI per day with "
            "the target dashed. A value beyond the axis is marked at its edge.</p>" + figures)


def _contributors(objectives: list[dict[str, Any]]) -> str:
    if not any("contributors" in o for o in objectives):
        return ""
    parts = [f"<h3>{escape(o['name'])}</h3>{_table(*contributor_rows(o))}"
             for o in objectives if o.get("contributors")]
    rest = unburned(objectives)
    return "<h2>What burned the budget</h2>" + "".join(parts) + (
        f"<p>{escape(rest)}</p>" if rest else "")


def _runs(report: dict[str, Any]) -> str:
    if "runs_table" not in report:
        return ""
    more = more_runs(report["runs_table"])
    more = f"<p class=meta>{escape(more)}</p>" if more else ""
    return f"<h2>Runs</h2>{_table(*runs_rows(report))}{more}"


def _crashed(report: dict[str, Any]) -> str:
    if "crashed" not in report:
        return ""
    items = "".join(
        f"<li>{cell_html(run_link(c.get('run_id'), c.get('folder')))} (env "
        f"{escape(short(c.get('env'), 30))}), last event: {escape(when(c.get('last_event')))}"
        f"</li>" for c in report["crashed"])
    return f"<h2>Crashed runs</h2>{f'<ul>{items}</ul>' if items else '<p>none</p>'}"


def _retries(report: dict[str, Any]) -> str:
    return f"<h2>Retries</h2>{_table(*retries_rows(report))}" if "retries" in report else ""


def _quality(report: dict[str, Any]) -> str:
    if "data_quality" not in report:
        return ""
    quality = report["data_quality"]
    skipped = "".join(f"<li><code>{escape(s['path'])}</code>: {escape(s['reason'])}</li>"
                      for s in [*quality.get("skipped", []),
                                *quality.get("partly_read", [])][:200])
    return f"""<h2>Data quality</h2>
<p>{quality.get('files_read', 0)} file(s) read ({quality.get('journals_read', 0)} journals of
crashed runs), {len(quality.get('skipped', []))} skipped,
{quality.get('journal_bad_lines', 0)} bad journal line(s),
{quality.get('invalid_events', 0)} parquet event(s) breaking the event contract,
{len(quality.get('partly_read', []))} file(s) read in part.</p><ul>{skipped}</ul>"""


def _readiness(report: dict[str, Any]) -> str:
    readiness = report.get("readiness")
    if not readiness:
        return ""
    verdict = readiness.get("verdict")
    reasons = "".join(f"<li>{escape(short(r, 300))}</li>" for r in readiness.get("reasons") or [])
    return (f"<h2>Go-live readiness: {cell_html(badge(verdict))}</h2>"
            f"<p>Environments judged: {escape(envs_judged(readiness))}; "
            f"{escape(gate_note(readiness))}.</p>{f'<ul>{reasons}</ul>' if reasons else ''}")


def render_html(report: dict[str, Any]) -> str:
    objectives = report["objectives"]
    kind = report["kind"]
    what = {"run": f"run {report.get('run_id', '')}", "sweep": "sweep",
            "nightly": "nightly"}.get(kind, kind)
    runs = f", {report['runs']} run folder(s) read" if "runs" in report else ""
    env = f", env {report['env']}" if report.get("env") else ""
    body = [
        f"<h1>Error budget — {escape(report['service'])}</h1>",
        f"<p class=meta>{escape(what)}{escape(env)}, as of {escape(report['as_of'])}"
        f"{escape(runs)}</p>",
        f"<p>Overall: {cell_html(badge(report['status']))}. No data never reads as met: "
        f"{escape(status_text('no_data'))} and {escape(status_text('insufficient_data'))} "
        f"are not passes.</p>",
    ]
    if kind == "sweep":
        body.append(f"<h2>Jobs</h2>{_table(*sweep_rows(report))}")
    if objectives:
        body += [f"<h2>Objectives</h2>{_table(*objectives_rows(objectives))}",
                 _charts(objectives),
                 f"<h2>Burn-rate alerts</h2>{_table(*alerts_rows(objectives))}"]
    body += [_contributors(objectives), _runs(report), _crashed(report), _retries(report),
             _quality(report), _readiness(report)]  # readiness: always the last section
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Error budget {escape(report['as_of'][:10])}</title><style>{STYLE}</style></head><body>
{"".join(part + chr(10) for part in body if part)}</body></html>
"""
