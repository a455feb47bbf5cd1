"""slo/markdown.py, slo/html.py and slo/charts.py on hand-built report dicts: text badges and
no emoji, the same objective columns in Markdown and HTML, the optional sections of the report
contract (contributors, runs, crashed runs, retries, readiness) and the charts' limits.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from slo.charts import chart_limits, objective_svg, sli_limits
from slo.html import render_html
from slo.markdown import render_markdown
from slo.schemas import validator

AS_OF = datetime(2026, 11, 24, 2, 0, tzinfo=timezone.utc)
STATUSES = ("met", "at_risk", "breached", "insufficient_data", "no_data")
EMOJI = re.compile("[\U0001f000-\U0010ffff\u2600-\u27bf\u2205\u2026]")


def objective(name: str = "error_rate", status: str = "met", *, days: int = 7,
              lowest: float = 0.4, **extra: Any) -> dict[str, Any]:
    """A schema-valid objective whose budget falls linearly from 100 % to `lowest`."""
    start = AS_OF - timedelta(days=days)
    burn_down = [{"t": (start + timedelta(days=i)).isoformat(),
                  "budget_remaining": round(1 - (1 - lowest) * i / days, 6)}
                 for i in range(days + 1)]
    return {
        "name": name, "description": f"{name} objective", "budgeting": "Occurrences",
        "target": 0.99, "window": f"{days}d", "window_start": start.isoformat(),
        "window_end": AS_OF.isoformat(), "valid": 2000, "good": 1990, "bad": 10,
        "sli": 0.995, "budget_ratio": 0.01, "allowed_bad": 20.0,
        "budget_remaining": lowest, "remaining": 12000.5, "remaining_unit": "events",
        "coverage": None,
        "burn_rates": [{"window": "1h", "burn": 0.5, "valid": 100},
                       {"window": "5m", "burn": 0.0, "valid": 10}],
        "alerts": [{"severity": "page", "long": "1h", "short": "5m", "k": 3.36,
                    "budget_fraction": 0.02,
                    "burn_long": 0.5, "burn_short": 0.0, "firing": status == "at_risk"}],
        "time_to_exhaustion_h": 8894.3, "status": status, "min_events": 100,
        "burn_down": burn_down, **extra}


def report(objectives: list[dict[str, Any]], kind: str = "nightly", **extra: Any
           ) -> dict[str, Any]:
    return {"schema_version": 1, "kind": kind, "generated_at": AS_OF.isoformat(),
            "as_of": AS_OF.isoformat(), "service": "trading-bot", "status": "breached",
            "objectives": objectives, "runs": 3,
            "data_quality": {"files_read": 3, "journals_read": 1, "skipped": [],
                             "journal_bad_lines": 0}, **extra}


def contract_keys() -> dict[str, Any]:
    """Every optional key of the issue-10 report contract, filled."""
    return {
        "runs_table": [
            {"folder": "../../runs/2026-11-23/23-00-00_dev", "run_id": "run-a", "env": "dev",
             "started_at": "2026-11-23T23:00:00+00:00", "ended_at": "2026-11-23T23:30:00+00:00",
             "status": "failed", "exit_code": 1, "git_sha": "3f9a2c7d1e0b4a5c",
             "config_hash": "fedcba9876543210", "events": 1234, "bad": {"error_rate": 7}},
            {"folder": "../../runs/2026-11-23/22-00-00_paper", "run_id": "run-b",
             "env": "paper", "started_at": None, "ended_at": None, "status": "crashed",
             "exit_code": None, "git_sha": None, "config_hash": None, "events": 5, "bad": {}}],
        "crashed": [{"folder": "../../runs/2026-11-23/22-00-00_paper", "run_id": "run-b",
                     "env": "paper", "last_event": "2026-11-23T22:05:00+00:00"}],
        "retries": [{"kind": "api_call", "name": "fetch_ohlcv", "calls": 200, "attempts": 225,
                     "retries": 25, "retried_calls": 20, "failed_calls": 2,
                     "retry_ratio": 0.125}],
        "readiness": {"verdict": "NOT READY", "envs": [], "gate": True,
                      "reasons": ["error_rate is breached", "1 crashed run (run-b)"]},
    }


def contributors() -> list[dict[str, Any]]:
    return [{"run_id": "run-a", "folder": "../../runs/2026-11-23/23-00-00_dev", "env": "dev",
             "git_sha": "3f9a2c7d1e0b4a5c", "config_hash": "fedcba9876543210",
             "phase": "market_data", "name": "fetch_ohlcv", "error": "NetworkError | timeout",
             "bad": 7}]


def full_report() -> dict[str, Any]:
    days = [{"day": (AS_OF - timedelta(days=7 - i)).date().isoformat(), "valid": 300,
             "good": 297, "sli": 0.99} for i in range(8)]
    days[3] = {**days[3], "valid": 0, "good": 0, "sli": None}
    objectives = [objective("error_rate", "breached", lowest=-17.18, contributors=contributors(),
                            sli_per_day=days),
                  *(objective(f"objective_{s}", s) for s in STATUSES if s != "breached")]
    return report(objectives, **contract_keys())


def test_hand_built_reports_match_the_schema():
    for rep in (report([objective()]), full_report()):
        assert list(validator("report").iter_errors(rep)) == []


def test_statuses_are_text_badges_without_emoji():
    rep = report([objective(f"o_{s}", s) for s in STATUSES], **contract_keys())
    md, html = render_markdown(rep), render_html(rep)
    for text in (md, html):
        assert EMOJI.findall(text) == []
    assert "**BREACHED**" in md and "**AT RISK**" in md and "| INSUFFICIENT DATA |" in md
    assert "| MET |" in md and "| NO DATA |" in md and "**FIRING**" in md and "| quiet |" in md
    assert '<span class="badge breached">BREACHED</span>' in html
    assert '<span class="badge firing">FIRING</span>' in html
    assert '<span class="badge quiet">quiet</span>' in html


def test_html_objectives_table_has_the_markdown_columns():
    rep = report([objective(), objective("api", "insufficient_data")])
    md_header = next(line for line in render_markdown(rep).splitlines()
                     if line.startswith("| objective | status"))
    columns = [c.strip() for c in md_header.strip("|").split("|")]
    html = render_html(rep)
    table = html[html.index("<h2>Objectives</h2>"):]
    table = table[:table.index("</table>")]
    assert re.findall(r"<th>(.*?)</th>", table) == columns
    assert "remaining" in columns and "burn (1st tier)" in columns
    assert "12,000 events" in table and "8,894 h" in table


def test_contract_sections_render_with_links_and_readiness_last():
    rep = full_report()
    md, html = render_markdown(rep), render_html(rep)
    assert "## What burned the budget" in md and "### error_rate" in md
    assert "| [run-a](../../runs/2026-11-23/23-00-00_dev) | dev | 3f9a2c7d1e | fedcba9876 " \
           "| market_data | fetch_ohlcv | NetworkError \\| timeout | 7 |" in md
    assert '<a href="../../runs/2026-11-23/23-00-00_dev">run-a</a>' in html
    assert "## Runs" in md and "| bad: error_rate |" in md and "**FAILED**" in md
    assert "2026-11-23 23:00:00 UTC" in md and "<th>bad: error_rate</th>" in html
    assert "## Crashed runs" in md and "- [run-b](../../runs/2026-11-23/22-00-00_paper)" in md
    assert "<h2>Crashed runs</h2><ul><li><a href=" in html
    assert "## Retries" in md and "| api_call | fetch_ohlcv | 200 | 25 | 20 | 2 | 12.5 % |" in md
    tail = md[md.index("## Go-live readiness: NOT READY"):]
    assert "## " not in tail[3:] and "all environments" in tail and "exits 3" in tail
    assert "- error_rate is breached" in tail and "- 1 crashed run (run-b)" in tail
    html_tail = html[html.index("<h2>Go-live readiness"):]
    assert "<h2>" not in html_tail[4:] and "badge not_ready" in html_tail
    assert html.index("<h2>Data quality</h2>") < html.index("<h2>Go-live readiness")


def test_empty_lists_say_none_and_missing_keys_leave_sections_out():
    rep = report([objective(contributors=[])], crashed=[], retries=[],
                 readiness={"verdict": "READY", "envs": ["paper", "live"], "reasons": [],
                            "gate": False})
    md = render_markdown(rep)
    assert "## Crashed runs\n\nnone" in md and "## Retries\n\nnone" in md
    assert "### error_rate" not in md and "No bad units in the window: error_rate." in md
    assert "## Go-live readiness: READY" in md and "paper, live" in md and "## Runs" not in md
    old = render_markdown(report([objective()]))  # an older report: none of the new keys
    for title in ("What burned", "## Runs", "Crashed", "Retries", "readiness"):
        assert title not in old
    assert "<h2>Runs</h2>" not in render_html(report([objective()]))


def test_html_escapes_report_text():
    bad = objective("<script>x</script>", contributors=[{**contributors()[0],
                                                         "folder": 'a" onclick="x',
                                                         "error": "<b>boom</b>"}])
    html = render_html(report([bad]))
    assert "<script>x" not in html and "<b>boom" not in html and 'onclick="x' not in html
    assert "&lt;b&gt;boom&lt;/b&gt;" in html


def test_burn_down_x_limits_are_the_window_and_outliers_are_clamped():
    o = objective(lowest=-17.18)
    limits = chart_limits(o)
    assert limits.x == (AS_OF - timedelta(days=7), AS_OF)
    low, high = limits.y
    assert -220 <= low < -200 and 100 < high < 125
    assert min(v for _, v in limits.below) == pytest.approx(-1718)
    calm = chart_limits(objective(lowest=0.4))
    assert calm.below == [] and calm.y[0] < -100 < 100 < calm.y[1] < 125


def test_burn_down_svg_annotates_the_clamped_outlier():
    svg = objective_svg(objective(lowest=-17.18))
    assert svg.startswith("<svg") and "lowest: -1,718 %" in svg
    assert "lowest:" not in objective_svg(objective(lowest=0.4))


def test_sli_per_day_chart_zooms_around_target_and_skips_empty_days():
    o = full_report()["objectives"][0]
    limits = sli_limits(o)
    assert limits.x == (AS_OF - timedelta(days=7), AS_OF)
    assert 96 < limits.y[0] < 99 and 100 <= limits.y[1] < 101  # target 99 %, data at 99 %
    svg = objective_svg(o)
    assert "SLI per day" in svg and "target 99 %" in svg
    one_bad_day = {**o, "sli_per_day": [*o["sli_per_day"][:-1],
                                        {"day": "2026-11-24", "valid": 10, "good": 1, "sli": 0.1}]}
    assert sli_limits(one_bad_day).y[0] > 80 and sli_limits(one_bad_day).below


def test_charts_keep_their_size_when_no_day_is_below_target():
    from slo.charts import objective_figure

    o = full_report()["objectives"][0]
    o["sli_per_day"] = [d for d in o["sli_per_day"] if d["sli"] is not None]  # all at target
    figure = objective_figure(o)
    figure.draw_without_rendering()  # runs the layout: an empty marker line once squeezed it
    assert [a.get_position().width > 0.3 for a in figure.axes] == [True, True]


def test_sweep_rows_show_each_objective_status_and_readiness():
    jobs = [{"job": i, "path": f"/s/{i}", "overrides": {"env": env}, "status": "succeeded",
             "exit_code": 0, "slo_status": status,
             "objectives": {"error_rate": {"status": status, "sli": 1.0,
                                           "budget_remaining": 1.0}},
             "readiness": {"verdict": verdict, "reasons": reasons}}
            for i, (env, status, verdict, reasons) in enumerate([
                ("dev", "met", "READY", []),
                ("paper", "insufficient_data", "NOT READY",
                 ["error_rate has insufficient data: 12 of 100 events " + "x" * 80])])]
    rep = {"schema_version": 1, "kind": "sweep", "generated_at": AS_OF.isoformat(),
           "as_of": AS_OF.isoformat(), "service": "trading-bot", "status": "insufficient_data",
           "objectives": [], "sweep_dir": "/s", "override_keys": ["env"],
           "objective_names": ["error_rate"], "jobs": jobs}
    assert list(validator("report").iter_errors(rep)) == []
    md = render_markdown(rep)
    assert ("| job | env | run status | exit | error_rate status | error_rate SLI "
            "| error_rate budget | readiness |") in md
    assert "| 0 | dev | succeeded | 0 | MET | 100.000 % | 100.000 % | READY |" in md
    row = next(line for line in md.splitlines() if line.startswith("| 1 |"))
    assert "| INSUFFICIENT DATA | 100.000 % |" in row and "**NOT READY**: error_rate has" in row
    assert row.endswith("... |") and EMOJI.findall(md) == []
    del jobs[0]["readiness"], jobs[1]["readiness"]
    assert "readiness" not in render_markdown(rep)
