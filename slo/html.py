"""The nightly report as one self-contained HTML page: tables plus a budget burn-down chart per
objective (inline SVG drawn by matplotlib; no scripts, no external files).
"""

from __future__ import annotations

import io
from html import escape
from typing import Any

from slo.markdown import ICONS, fmt, pct

STYLE = """
body{font-family:system-ui,sans-serif;margin:2rem;max-width:70rem;color:#222}
table{border-collapse:collapse;margin:1rem 0}td,th{border:1px solid #ccc;padding:.3rem .6rem}
th{background:#f3f3f3}.met{color:#1a7f37}.at_risk{color:#9a6700}.breached{color:#cf222e}
.no_data,.insufficient_data{color:#666}.chart{display:inline-block;margin:.5rem 1rem 0 0}
"""


def burn_down_svg(objective: dict[str, Any]) -> str:
    """Budget remaining over the window; the zero line is where the budget is exhausted."""
    from datetime import datetime

    try:
        from matplotlib.figure import Figure
    except ImportError:  # a dependency, but a broken install must not cost the whole report
        return "<p>(burn-down chart needs matplotlib: pip install matplotlib)</p>"

    points = [p for p in objective["burn_down"] if p["budget_remaining"] is not None]
    figure = Figure(figsize=(5.2, 2.4), dpi=100)
    axes = figure.subplots()
    if points:
        times = [datetime.fromisoformat(p["t"]) for p in points]
        values = [p["budget_remaining"] * 100 for p in points]
        axes.plot(times, values, drawstyle="steps-post", color="#0969da")
        axes.fill_between(times, values, 0, step="post", alpha=0.15, color="#0969da")
        figure.autofmt_xdate()
    else:
        axes.text(0.5, 0.5, "no data", ha="center", va="center", transform=axes.transAxes)
    axes.axhline(0, color="#cf222e", linewidth=1)
    axes.set_ylabel("budget left (%)")
    axes.set_title(f"{objective['name']} ({objective['window']})", fontsize=10)
    figure.tight_layout()
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg")
    svg = buffer.getvalue()
    return svg[svg.index("<svg"):]  # drop the XML prolog: the SVG is inlined


def _table(header: list[str], rows: list[list[str]]) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>" for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def render_html(report: dict[str, Any]) -> str:
    objectives = report["objectives"]
    status = report["status"]
    summary = _table(
        ["objective", "status", "SLI", "target", "window", "valid", "bad", "budget left",
         "exhausted in"],
        [[escape(o["name"]), f'<span class="{o["status"]}">{ICONS.get(o["status"], "")} '
          f'{o["status"]}</span>', pct(o["sli"]), pct(o["target"]), escape(o["window"]),
          fmt(o["valid"]), fmt(o["bad"]), pct(o["budget_remaining"]),
          fmt(o["time_to_exhaustion_h"], suffix=" h")] for o in objectives])
    alerts = _table(
        ["objective", "severity", "windows", "k", "burn long", "burn short", "state"],
        [[escape(o["name"]), a["severity"], f"{a['long']} / {a['short']}", fmt(a["k"]),
          fmt(a["burn_long"]), fmt(a["burn_short"]),
          "<b>firing</b>" if a["firing"] else "quiet"] for o in objectives for a in o["alerts"]])
    charts = "".join(f'<div class="chart">{burn_down_svg(o)}</div>' for o in objectives)
    quality = report.get("data_quality") or {}
    skipped = "".join(f"<li><code>{escape(s['path'])}</code>: {escape(s['reason'])}</li>"
                      for s in [*quality.get("skipped", []),
                                *quality.get("partly_read", [])][:200])
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>Error budget {escape(report['as_of'][:10])}</title><style>{STYLE}</style></head><body>
<h1>Error budget — {escape(report['service'])}, {escape(report['as_of'])}</h1>
<p>Overall: <b class="{status}">{status}</b> ({report.get('runs', 0)} run folder(s) read).
No data never reads as met.</p>
<h2>Objectives</h2>{summary}
<h2>Budget burn-down</h2>{charts}
<h2>Burn-rate alerts</h2>{alerts}
<h2>Data quality</h2>
<p>{quality.get('files_read', 0)} file(s) read ({quality.get('journals_read', 0)} journals of
crashed runs), {len(quality.get('skipped', []))} skipped,
{quality.get('journal_bad_lines', 0)} bad journal line(s),
{quality.get('invalid_events', 0)} parquet event(s) breaking the event contract,
{len(quality.get('partly_read', []))} file(s) read in part.</p><ul>{skipped}</ul>
</body></html>
"""
