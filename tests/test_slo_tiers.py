"""Burn-rate alert tiers by SLO window (alerting.tiers_by_window), the threshold clamp max(k, 1),
and the two min_events thresholds (status vs burn-rate windows)."""

from __future__ import annotations

import copy
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from runner.shared.errors import ConfigError
from slo.openslo import to_openslo
from slo.settings import Settings, with_window
from slo.spec import AlertTier, Objective, load_objectives

ROOT = Path(__file__).resolve().parents[1]
DEFAULT = ROOT / "conf" / "slo" / "default.yaml"
HOUR, DAY = timedelta(hours=1), timedelta(days=1)
WEEK, MONTH = 7 * DAY, 30 * DAY

# sloth's published 7-day AlertWindows (github.com/slok/sloth, examples/windows/7d.yaml):
# (severity, long, short, errorBudgetPercent / 100)
SLOTH_7D = [
    ("page", HOUR, timedelta(minutes=5), 0.08),  # page quick
    ("page", 6 * HOUR, timedelta(minutes=30), 0.125),  # page slow
    ("ticket", DAY, 2 * HOUR, 0.20),  # ticket quick
    ("ticket", 3 * DAY, 6 * HOUR, 0.42),  # ticket slow
]
SLOTH_7D_K = [13.44, 3.5, 1.4, 0.98]  # 0.08*168/1, 0.125*168/6, 0.2*168/24, 0.42*168/72
SLOTH_7D_THRESHOLD = [13.44, 3.5, 1.4, 1.0]  # the slow ticket tier is clamped at 1
# The SRE Workbook's 30-day table: page 1h/5m 2 %, page 6h/30m 5 %, ticket 3d/6h 10 %.
WORKBOOK = [("page", HOUR, timedelta(minutes=5), 0.02),
            ("page", 6 * HOUR, timedelta(minutes=30), 0.05),
            ("ticket", 3 * DAY, 6 * HOUR, 0.10)]
WORKBOOK_K = [14.4, 6.0, 1.0]


def default_node() -> dict[str, Any]:
    return yaml.safe_load(DEFAULT.read_text(encoding="utf-8"))


def by_name(node: dict[str, Any]) -> dict[str, Objective]:
    return {o.name: o for o in load_objectives(node).objectives}


def table(o: Objective) -> list[tuple[str, timedelta, timedelta, float]]:
    return [(t.severity, t.long, t.short, t.budget_fraction) for t in o.tiers]


def ks(o: Objective) -> list[float]:
    return [t.k(o.window) for t in o.tiers]


def thresholds(o: Objective) -> list[float]:
    return [t.threshold(o.window) for t in o.tiers]


def tier(severity: str, long: str, short: str, fraction: float) -> dict[str, Any]:
    return {"severity": severity, "long": long, "short": short, "budget_fraction": fraction}


# -- the default spec ----------------------------------------------------------------------------


def test_seven_day_objectives_use_sloths_table() -> None:
    objectives = load_objectives(default_node()).objectives
    seven = [o for o in objectives if o.window == WEEK]
    assert len(seven) >= 3  # api_response_time, trade_execution_time, error_rate
    for o in seven:
        assert table(o) == SLOTH_7D, o.name
        assert ks(o) == SLOTH_7D_K, o.name
        assert thresholds(o) == SLOTH_7D_THRESHOLD, o.name
    slow_ticket = seven[0].tiers[-1]
    assert slow_ticket.k(WEEK) < 1 and slow_ticket.clamped(WEEK)  # 0.42 * 168 h / 72 h = 0.98
    assert not any(t.clamped(WEEK) for t in seven[0].tiers[:-1])


def test_thirty_day_objectives_keep_the_workbooks_table() -> None:
    objectives = load_objectives(default_node()).objectives
    thirty = [o for o in objectives if o.window == MONTH]
    assert "system_uptime" in [o.name for o in thirty]
    for o in thirty:
        assert table(o) == WORKBOOK, o.name
        assert ks(o) == WORKBOOK_K and thresholds(o) == WORKBOOK_K, o.name
    uptime = thirty[0]
    # The Workbook's check: burning at 14.4 for 1 h of 720 h spends 2 % of the budget.
    page = uptime.tiers[0]
    assert page.k(MONTH) * (page.long / MONTH) == pytest.approx(0.02)
    assert [t.k(MONTH) * (t.long / MONTH) for t in uptime.tiers] == pytest.approx(
        [t.budget_fraction for t in uptime.tiers])


def test_the_default_config_holds_both_tables() -> None:
    alerting = default_node()["alerting"]
    assert set(alerting) == {"min_events", "tiers", "tiers_by_window"}
    assert list(alerting["tiers_by_window"]) == ["7d"]
    assert [(t["severity"], t["long"], t["short"], t["budget_fraction"])
            for t in alerting["tiers_by_window"]["7d"]] == [
        ("page", "1h", "5m", 0.08), ("page", "6h", "30m", 0.125),
        ("ticket", "1d", "2h", 0.20), ("ticket", "3d", "6h", 0.42)]


# -- the threshold --------------------------------------------------------------------------------


@pytest.mark.parametrize(("fraction", "long", "window", "k", "threshold"), [
    (0.02, HOUR, MONTH, 14.4, 14.4),
    (0.10, 3 * DAY, MONTH, 1.0, 1.0),  # exactly 1: not clamped
    (0.10, 3 * DAY, WEEK, 0.233333333333, 1.0),  # the Workbook's ticket on a 7-day window
    (0.42, 3 * DAY, WEEK, 0.98, 1.0),
    (1.0, 3 * DAY, DAY, 0.333333333333, 1.0),
])
def test_threshold_is_k_clamped_at_1(fraction: float, long: timedelta, window: timedelta,
                                     k: float, threshold: float) -> None:
    t = AlertTier("ticket", long, HOUR, fraction)
    assert t.k(window) == k
    assert t.threshold(window) == threshold
    assert t.clamped(window) == (k < 1)


# -- which table an objective uses ---------------------------------------------------------------


@pytest.mark.parametrize("window", ["7d", "168h", "1w", "10080m", "604800s"])
def test_a_window_equal_as_a_duration_uses_the_table(window: str) -> None:
    node = default_node()
    node["objectives"]["error_rate"]["timeWindow"] = window
    o = by_name(node)["error_rate"]
    assert o.window == WEEK
    assert table(o) == SLOTH_7D and thresholds(o) == SLOTH_7D_THRESHOLD


def test_a_table_keyed_168h_matches_an_objective_of_7d() -> None:
    node = default_node()
    node["alerting"]["tiers_by_window"] = {"168h": node["alerting"]["tiers_by_window"]["7d"]}
    objectives = by_name(node)
    assert table(objectives["api_response_time"]) == SLOTH_7D  # timeWindow: 7d
    assert table(objectives["system_uptime"]) == WORKBOOK  # 30d: no table


def test_a_window_without_a_table_uses_tiers() -> None:
    node = default_node()
    node["objectives"]["error_rate"]["timeWindow"] = "14d"
    node["objectives"]["api_response_time"]["timeWindow"] = "6d"
    objectives = by_name(node)
    assert table(objectives["error_rate"]) == WORKBOOK
    assert table(objectives["api_response_time"]) == WORKBOOK
    assert table(objectives["trade_execution_time"]) == SLOTH_7D  # still 7d


def test_without_tiers_by_window_every_objective_uses_tiers() -> None:
    node = default_node()
    del node["alerting"]["tiers_by_window"]
    assert all(table(o) == WORKBOOK for o in by_name(node).values())
    node["alerting"]["tiers_by_window"] = {}
    assert all(table(o) == WORKBOOK for o in by_name(node).values())


def test_an_empty_table_means_no_tiers_for_that_window() -> None:
    node = default_node()
    node["alerting"]["tiers_by_window"]["30d"] = []
    objectives = by_name(node)
    assert objectives["system_uptime"].tiers == ()
    assert objectives["system_uptime"].burn_windows == ()


def test_an_objectives_own_tiers_win_over_the_window_table() -> None:
    node = default_node()
    own = [tier("ticket", "2d", "4h", 0.5)]
    node["objectives"]["error_rate"]["alerting"] = {"tiers": own}
    node["objectives"]["system_uptime"]["alerting"] = {"tiers": own}
    objectives = by_name(node)
    assert table(objectives["error_rate"]) == [("ticket", 2 * DAY, 4 * HOUR, 0.5)]  # not 7d's
    assert table(objectives["system_uptime"]) == [("ticket", 2 * DAY, 4 * HOUR, 0.5)]
    assert ks(objectives["error_rate"]) == [1.75] and thresholds(objectives["error_rate"]) == [1.75]
    assert table(objectives["api_response_time"]) == SLOTH_7D  # the others keep the table
    # an objective's alerting.min_events alone does not replace its tiers
    node["objectives"]["error_rate"]["alerting"] = {"min_events": 3}
    assert table(by_name(node)["error_rate"]) == SLOTH_7D


def test_the_horizon_covers_the_seven_day_tables_windows() -> None:
    o = by_name(default_node())["api_response_time"]
    assert o.burn_windows == (HOUR, timedelta(minutes=5), 6 * HOUR, timedelta(minutes=30),
                              DAY, 2 * HOUR, 3 * DAY)  # 6 h once
    assert o.horizon == WEEK


# -- bad tables: one line each, naming the key ---------------------------------------------------

DURATION = "a duration: a whole number followed by s, m, h, d or w (e.g. 5m, 1h, 30d)"


def _key(old: str, new: Any):
    def mutate(alerting: dict[str, Any]) -> None:
        tables = alerting["tiers_by_window"]
        tables[new] = tables.pop(old)
    return mutate


def _tier(window: str, index: int, key: str, value: Any):
    def mutate(alerting: dict[str, Any]) -> None:
        alerting["tiers_by_window"][window][index][key] = value
    return mutate


def _add(window: Any, tiers: Any):
    def mutate(alerting: dict[str, Any]) -> None:
        alerting["tiers_by_window"][window] = tiers
    return mutate


def _set(value: Any):
    def mutate(alerting: dict[str, Any]) -> None:
        alerting["tiers_by_window"] = value
    return mutate


BAD_TABLES = [
    (_key("7d", "7 days"), f"slo.alerting.tiers_by_window: '7 days' is not allowed; allowed: "
                           f"{DURATION}"),
    (_key("7d", "7days"), f"slo.alerting.tiers_by_window: '7days' is not allowed; allowed: "
                          f"{DURATION}"),
    (_key("7d", "1M"), f"slo.alerting.tiers_by_window: '1M' is not allowed; allowed: {DURATION}"),
    (_key("7d", "0d"), f"slo.alerting.tiers_by_window: '0d' is not allowed; allowed: {DURATION}"),
    (_key("7d", 7), f"slo.alerting.tiers_by_window: 7 is not allowed; allowed: {DURATION}"),
    (_key("7d", "99999999999d"),
     "slo.alerting.tiers_by_window: '99999999999d' is not allowed; allowed: at most 3650d"),
    (_add("168h", []),
     "slo.alerting.tiers_by_window: '168h' is not allowed; allowed: one table per window "
     "('7d' is the same window)"),
    (_tier("7d", 1, "short", "7h"),
     "slo.alerting.tiers_by_window.7d[1].short: '7h' is not allowed; allowed: a window shorter "
     "than long (6h)"),
    (_tier("7d", 3, "short", "3d"),
     "slo.alerting.tiers_by_window.7d[3].short: '3d' is not allowed; allowed: a window shorter "
     "than long (3d)"),
    (_tier("7d", 1, "short", "30 m"),
     f"slo.alerting.tiers_by_window.7d[1].short: '30 m' is not allowed; allowed: {DURATION}"),
    (_tier("7d", 0, "long", "99999999999d"),
     "slo.alerting.tiers_by_window.7d[0].long: '99999999999d' is not allowed; allowed: at most "
     "3650d"),
    (_tier("7d", 2, "budget_fraction", 1.5),
     "slo.alerting.tiers_by_window.7d[2].budget_fraction: 1.5 is not allowed; allowed: a share "
     "of the error budget, > 0 and <= 1"),
    (_tier("7d", 2, "severity", "sms"),
     "slo.alerting.tiers_by_window.7d[2].severity: 'sms' is not allowed; allowed: one of page, "
     "ticket"),
    (_add("30d", 5), "slo.alerting.tiers_by_window.30d: 5 is not allowed; allowed: a value of "
                     "type array"),
    (_set([]), "slo.alerting.tiers_by_window: [] is not allowed; allowed: a mapping from a "
               "timeWindow (e.g. 7d) to the tiers of objectives with that window"),
]


@pytest.mark.parametrize(("mutate", "line"), BAD_TABLES,
                         ids=[f"{i}-{b[1].split(': ')[0]}" for i, b in enumerate(BAD_TABLES)])
def test_a_bad_table_is_one_line_naming_the_key(mutate, line: str) -> None:
    node = default_node()
    mutate(node["alerting"])
    with pytest.raises(ConfigError) as raised:
        load_objectives(node)
    assert raised.value.problems == [line]
    assert all("\n" not in problem for problem in raised.value.problems)


def test_the_schema_lists_the_new_key() -> None:
    node = default_node()
    node["alerting"]["tiers_by_windows"] = {}
    with pytest.raises(ConfigError) as raised:
        load_objectives(node)
    assert raised.value.problems == ["slo.alerting.tiers_by_windows: unknown key; allowed keys: "
                                     "min_events, tiers, tiers_by_window"]


def test_the_runner_validation_checks_the_tables_too() -> None:
    from runner.validate import slo_problems

    node = default_node()
    assert slo_problems(node) == []
    _tier("7d", 1, "short", "7h")(node["alerting"])
    assert slo_problems(node) == ["slo.alerting.tiers_by_window.7d[1].short: '7h' is not "
                                  "allowed; allowed: a window shorter than long (6h)"]


# -- window= of `python -m slo` ----------------------------------------------------------------


@pytest.mark.parametrize("window", ["7d", "168h"])
def test_window_setting_picks_the_seven_day_table_for_every_objective(window: str) -> None:
    node = default_node()
    objectives = load_objectives(with_window(node, window)).objectives
    assert len(objectives) == len(node["objectives"]) >= 4
    assert any(raw["timeWindow"] == "30d" for raw in node["objectives"].values())
    for o in objectives:
        assert o.window == WEEK
        assert table(o) == SLOTH_7D, o.name
        assert ks(o) == SLOTH_7D_K and thresholds(o) == SLOTH_7D_THRESHOLD, o.name


def test_window_setting_of_30d_picks_the_workbooks_table() -> None:
    objectives = load_objectives(with_window(default_node(), "30d")).objectives
    assert all(table(o) == WORKBOOK and ks(o) == WORKBOOK_K for o in objectives)


def test_settings_load_the_spec_with_the_window(tmp_path: Path) -> None:
    config = {"slo": default_node(), "as_of": "2026-03-01T00:00:00Z", "window": "7d", "envs": [],
              "roots": [str(tmp_path)], "out_dir": str(tmp_path / "out"), "run_dir": None,
              "export_openslo": None, "fail_on_breach": False, "fail_on_not_ready": False,
              "progress": "auto", "log_level": "INFO"}
    spec = Settings.from_config(config).spec
    assert len(spec.objectives) == len(config["slo"]["objectives"])
    assert all(o.window == WEEK and table(o) == SLOTH_7D for o in spec.objectives)


def test_cli_export_with_window_shows_the_seven_day_thresholds(tmp_path: Path) -> None:
    from conftest import cli_env

    out = tmp_path / "slo.yaml"
    done = subprocess.run([sys.executable, "-m", "slo", "window=168h", f"export_openslo={out}"],
                          cwd=tmp_path, env=cli_env(), capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    docs = list(yaml.safe_load_all(out.read_text(encoding="utf-8")))
    assert len(docs) == len(default_node()["objectives"])
    for doc in docs:
        assert doc["spec"]["timeWindow"] == [{"duration": "7d", "isRolling": True}]
        assert doc["metadata"]["annotations"]["pre-execution-runner/alert-tiers"] == SEVEN_DAY_TEXT


# -- min_events: status vs burn-rate windows -------------------------------------------------------


def _objective(node: dict[str, Any], **keys: Any) -> Objective:
    node["alerting"]["min_events"] = 10
    raw = node["objectives"]["error_rate"]
    raw.pop("min_events", None)
    raw.pop("alerting", None)
    raw.update(keys)
    return by_name(node)["error_rate"]


def test_min_events_resolution() -> None:
    node = default_node()
    o = _objective(copy.deepcopy(node))
    assert (o.min_events, o.alert_min_events) == (10, 10)  # both from alerting.min_events
    o = _objective(copy.deepcopy(node), min_events=60)  # status only
    assert (o.min_events, o.alert_min_events) == (60, 10)  # burn rates: the global
    o = _objective(copy.deepcopy(node), alerting={"min_events": 1})  # burn rates only
    assert (o.min_events, o.alert_min_events) == (10, 1)  # status: the global
    o = _objective(copy.deepcopy(node), min_events=60, alerting={"min_events": 1})
    assert (o.min_events, o.alert_min_events) == (60, 1)
    o = _objective(copy.deepcopy(node), min_events=0, alerting={"min_events": 0})
    assert (o.min_events, o.alert_min_events) == (0, 0)


def test_system_uptimes_planned_thresholds_load() -> None:
    """conf/slo/default.yaml's system_uptime: min_events 60 for its status, 1 per burn window."""
    node = default_node()
    uptime = node["objectives"]["system_uptime"]
    uptime["min_events"] = 60
    uptime["alerting"] = {"min_events": 1}
    o = by_name(node)["system_uptime"]
    assert (o.min_events, o.alert_min_events) == (60, 1)
    assert table(o) == WORKBOOK  # alerting without tiers keeps the window's table


def test_bad_min_events_are_one_line() -> None:
    node = default_node()
    node["objectives"]["error_rate"]["alerting"] = {"min_events": -1}
    with pytest.raises(ConfigError) as raised:
        load_objectives(node)
    assert raised.value.problems == ["slo.objectives.error_rate.alerting.min_events: -1 is not "
                                     "allowed; allowed: a whole number of valid events >= 0"]


# -- OpenSLO export ------------------------------------------------------------------------------

SEVEN_DAY_TEXT = ("page 1h/5m threshold=13.44; page 6h/30m threshold=3.5; "
                  "ticket 1d/2h threshold=1.4; ticket 3d/6h threshold=1 (k=0.98, clamped)")
THIRTY_DAY_TEXT = "page 1h/5m threshold=14.4; page 6h/30m threshold=6; ticket 3d/6h threshold=1"


def test_openslo_export_shows_the_thresholds() -> None:
    node = default_node()
    docs = {d["metadata"]["displayName"]: d for d in to_openslo(load_objectives(node))}
    annotations = {name: d["metadata"]["annotations"] for name, d in docs.items()}
    for name, o in by_name(node).items():
        expected = SEVEN_DAY_TEXT if o.window == WEEK else THIRTY_DAY_TEXT
        assert annotations[name]["pre-execution-runner/alert-tiers"] == expected, name
        assert annotations[name]["pre-execution-runner/min-events"] == str(o.min_events)
        assert annotations[name]["pre-execution-runner/alert-min-events"] == str(
            o.alert_min_events)


def test_openslo_export_shows_a_clamped_workbook_tier() -> None:
    node = with_window(default_node(), "7d")
    del node["alerting"]["tiers_by_window"]  # the Workbook's 30-day table on 7 days
    [doc, *_] = to_openslo(load_objectives(node))
    assert doc["metadata"]["annotations"]["pre-execution-runner/alert-tiers"] == (
        "page 1h/5m threshold=3.36; page 6h/30m threshold=1.4; "
        "ticket 3d/6h threshold=1 (k=0.233333, clamped)")
