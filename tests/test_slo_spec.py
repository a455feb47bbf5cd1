"""slo.spec, slo.conditions, slo.durations, slo.openslo: the spec format of conf/slo/*.yaml."""

from __future__ import annotations

import copy
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import polars as pl
import pytest
import yaml
from omegaconf import OmegaConf

from runner.shared.errors import ConfigError
from runner.shared.events import polars_schema
from slo.conditions import Condition, all_of, parse_condition, to_expr
from slo.durations import format_duration, parse_duration, parse_seconds
from slo.openslo import dump_openslo, to_openslo
from slo.spec import AlertTier, load_objectives

CONF = Path(__file__).resolve().parents[1] / "conf"

SLO_DIR = CONF / "slo"


def default_node() -> dict[str, Any]:
    return OmegaConf.to_container(OmegaConf.load(SLO_DIR / "default.yaml"))


def strict_node() -> dict[str, Any]:
    """strict.yaml on top of default.yaml, the way its defaults list composes them."""
    strict = OmegaConf.load(SLO_DIR / "strict.yaml")
    assert list(strict.pop("defaults")) == ["default", "_self_"]
    return OmegaConf.to_container(OmegaConf.merge(OmegaConf.load(SLO_DIR / "default.yaml"),
                                                  strict))


# -- durations -----------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "seconds", "back"), [
    ("45s", 45, "45s"), ("5m", 300, "5m"), ("1h", 3600, "1h"), ("6h", 21600, "6h"),
    ("3d", 259200, "3d"), ("30d", 2592000, "30d"), ("90m", 5400, "90m"), ("60m", 3600, "1h"),
    ("1w", 604800, "7d")])
def test_durations_round_trip(text: str, seconds: int, back: str) -> None:
    assert parse_seconds(text) == seconds
    assert parse_duration(text) == timedelta(seconds=seconds)
    assert format_duration(parse_duration(text)) == back


@pytest.mark.parametrize("text", ["", "5", "m", "0m", "1.5h", "5 m", "-1h", "1M", "1y", "7 days",
                                  None, 5])
def test_bad_durations_say_what_is_allowed(text: Any) -> None:
    with pytest.raises(ValueError, match="is not a duration; allowed: a whole number followed"):
        parse_duration(text)


# -- conditions ----------------------------------------------------------------------------


EVENTS = pl.DataFrame([
    {"ts": datetime(2026, 3, 1, 10, tzinfo=timezone.utc), "kind": "api_call", "name": "a",
     "ok": True, "latency_ms": 100.0, "error": None, "attempt": 1},
    {"ts": datetime(2026, 3, 1, 11, tzinfo=timezone.utc), "kind": "order", "name": "b",
     "ok": False, "latency_ms": None, "error": "NetworkError", "attempt": 2},
    {"ts": datetime(2026, 3, 1, 12, tzinfo=timezone.utc), "kind": "heartbeat", "name": "alive",
     "ok": True, "latency_ms": 900.0, "error": None, "attempt": 1},
], schema={c: polars_schema()[c] for c in ("ts", "kind", "name", "ok", "latency_ms", "error",
                                           "attempt")})


@pytest.mark.parametrize(("raw", "expected"), [
    ({"field": "kind", "op": "eq", "value": "order"}, [False, True, False]),
    ({"field": "kind", "op": "ne", "value": "order"}, [True, False, True]),
    ({"field": "latency_ms", "op": "lt", "value": 500}, [True, False, False]),  # null: false
    ({"field": "latency_ms", "op": "le", "value": 100}, [True, False, False]),
    ({"field": "latency_ms", "op": "gt", "value": 100}, [False, False, True]),
    ({"field": "latency_ms", "op": "ge", "value": 100.0}, [True, False, True]),
    ({"field": "kind", "op": "in", "value": ["api_call", "order"]}, [True, True, False]),
    ({"field": "kind", "op": "not_in", "value": ["api_call", "order"]}, [False, False, True]),
    ({"field": "latency_ms", "op": "in", "value": [100, 900]}, [True, False, True]),
    ({"field": "error", "op": "ne", "value": "NetworkError"}, [True, False, True]),  # null: true
    ({"field": "error", "op": "not_in", "value": ["NetworkError"]}, [True, False, True]),
    ({"field": "error", "op": "is_null"}, [True, False, True]),
    ({"field": "latency_ms", "op": "not_null"}, [True, False, True]),
    ({"field": "ok", "op": "eq", "value": True}, [True, False, True]),
    ({"field": "attempt", "op": "gt", "value": 1}, [False, True, False]),
    ({"field": "ts", "op": "ge", "value": "2026-03-01T11:00:00Z"}, [False, True, True]),
    # a value is data, never code
    ({"field": "name", "op": "eq", "value": "__import__('os').system('false')"},
     [False, False, False]),
])
def test_condition_expressions(raw: dict[str, Any], expected: list[bool]) -> None:
    assert EVENTS.select(to_expr(parse_condition(raw))).to_series().to_list() == expected


def test_a_list_of_conditions_is_an_and() -> None:
    both = (Condition("ok", "eq", True), Condition("latency_ms", "lt", 500))
    assert EVENTS.select(all_of(both)).to_series().to_list() == [True, False, False]
    assert EVENTS.select(all_of(())).to_series().to_list() == [True, True, True]  # no condition


def test_bad_condition_raises_value_error() -> None:
    with pytest.raises(ValueError, match=r"c\.op: 'like' is not allowed"):
        parse_condition({"field": "name", "op": "like", "value": "%x"}, "c")


# -- the spec --------------------------------------------------------------------------------


def test_default_spec_loads() -> None:
    spec = load_objectives(default_node())
    assert (spec.service, spec.fail_on_breach, spec.at_risk_below) == ("trading-bot", False, 0.25)
    by_name = {o.name: o for o in spec.objectives}
    assert list(by_name) == ["system_uptime", "api_response_time", "trade_execution_time",
                             "error_rate", "run_completion"]
    uptime = by_name["system_uptime"]
    assert (uptime.budgeting, uptime.target, uptime.window, uptime.slice) == (
        "Timeslices", 0.995, timedelta(days=30), timedelta(minutes=1))
    api = by_name["api_response_time"]
    assert (api.budgeting, api.window, api.slice) == ("Occurrences", timedelta(days=7), None)
    assert api.valid == (Condition("kind", "eq", "api_call"), Condition("ok", "eq", True))
    assert api.good == (Condition("latency_ms", "lt", 500),)
    assert api.min_events == api.alert_min_events == 10
    assert len(api.tiers) == 4  # 7 d: alerting.tiers_by_window.7d (tests/test_slo_tiers.py)
    assert api.tiers[0] == AlertTier("page", timedelta(hours=1), timedelta(minutes=5), 0.08)
    assert len(uptime.tiers) == 3  # 30 d: alerting.tiers
    assert uptime.tiers[0] == AlertTier("page", timedelta(hours=1), timedelta(minutes=5), 0.02)
    assert by_name["error_rate"].valid == (Condition("kind", "in", ("api_call", "order")),
                                           Condition("final", "ne", False))  # calls, once
    assert spec.horizon == timedelta(days=30)
    assert spec.columns == ["ts", "run_id", "kind", "name", "ok", "latency_ms", "final"]


def test_alert_tier_k_is_the_workbooks() -> None:
    tiers = load_objectives(default_node()).objectives[0].tiers
    # k = budget_fraction * window / long: 0.02*720 h/1 h, 0.05*720/6, 0.10*720/72
    assert [t.k(timedelta(days=30)) for t in tiers] == [14.4, 6.0, 1.0]
    # 7 d: 0.02*168 = 3.36, 0.05*168/6 = 1.4, 0.1*168/72 = 0.2333...
    assert [t.k(timedelta(days=7)) for t in tiers] == pytest.approx([3.36, 1.4, 7 / 30])


def test_strict_spec_inherits_default() -> None:
    spec = load_objectives(strict_node())
    assert (spec.fail_on_breach, spec.at_risk_below) == (True, 0.5)
    targets = {o.name: o.target for o in spec.objectives}
    assert targets == {"system_uptime": 0.999, "api_response_time": 0.99,
                       "trade_execution_time": 0.999, "error_rate": 0.995,
                       "run_completion": 0.99}
    by_name = {o.name: o for o in spec.objectives}
    assert by_name["api_response_time"].good == (Condition("latency_ms", "lt", 250),)
    assert by_name["trade_execution_time"].good == (Condition("latency_ms", "lt", 500),)
    assert by_name["system_uptime"].slice == timedelta(minutes=1)  # inherited
    assert by_name["api_response_time"].budget_ratio == 0.01  # 1 - 0.99, without binary noise


@pytest.mark.parametrize("group", ["default", "strict"])
def test_hydra_composes_the_slo_group(compose, group: str) -> None:
    config = compose(f"slo={group}")
    spec = load_objectives(config["slo"])
    assert spec == load_objectives(default_node() if group == "default" else strict_node())


def test_per_objective_alerting_override() -> None:
    node = default_node()
    node["objectives"]["error_rate"]["alerting"] = {
        "min_events": 50, "tiers": [{"severity": "ticket", "long": "1d", "short": "1h",
                                     "budget_fraction": 0.2}]}
    by_name = {o.name: o for o in load_objectives(node).objectives}
    assert by_name["error_rate"].alert_min_events == 50  # burn-rate windows
    assert by_name["error_rate"].min_events == 10  # status: alerting.min_events of the spec
    assert [t.long for t in by_name["error_rate"].tiers] == [timedelta(days=1)]
    assert len(by_name["api_response_time"].tiers) == 4  # the others keep the 7-day table


def _set(path: str, value: Any):
    def mutate(node: dict[str, Any]) -> None:
        *parents, last = path.split("/")
        for part in parents:
            node = node[int(part)] if isinstance(node, list) else node[part]
        if value is DELETE:
            del node[last]
        elif isinstance(node, list):
            node[int(last)] = value
        else:
            node[last] = value
    return mutate


DELETE = object()
UPTIME, API = "objectives/system_uptime", "objectives/api_response_time"
BAD_SPECS = [
    (_set(f"{API}/target", 1.5),
     "slo.objectives.api_response_time.target: 1.5 is not allowed; allowed: a number between "
     "0 and 1 (exclusive)"),
    (_set(f"{API}/target", 0),
     "slo.objectives.api_response_time.target: 0 is not allowed; allowed: a number between "
     "0 and 1 (exclusive)"),
    (_set("colour", "red"),
     "slo.colour: unknown key; allowed keys: alerting, at_risk_below, fail_on_breach, "
     "objectives, service"),
    (_set(f"{API}/timewindow", "7d"),
     "slo.objectives.api_response_time.timewindow: unknown key; allowed keys: alerting, "
     "budgetingMethod, description, indicator, min_events, target, timeSliceWindow, timeWindow"),
    (_set(f"{API}/timeWindow", "7 days"),
     "slo.objectives.api_response_time.timeWindow: '7 days' is not allowed; allowed: a "
     "duration: a whole number followed by s, m, h, d or w (e.g. 5m, 1h, 30d)"),
    (_set(f"{API}/budgetingMethod", "Ratio"),
     "slo.objectives.api_response_time.budgetingMethod: 'Ratio' is not allowed; allowed: one of "
     "Occurrences, Timeslices"),
    (_set(f"{UPTIME}/timeSliceWindow", DELETE),
     "slo.objectives.system_uptime: 'timeSliceWindow' is a required property"),
    (_set(f"{UPTIME}/timeSliceWindow", "7m"),
     "slo.objectives.system_uptime.timeSliceWindow: '7m' is not allowed; allowed: a duration "
     "that divides 1 day (e.g. 1m, 5m, 1h)"),
    (_set(f"{API}/timeSliceWindow", "1m"),
     "slo.objectives.api_response_time.timeSliceWindow: '1m' is not allowed; allowed: only with "
     "budgetingMethod Timeslices"),
    (_set("alerting/tiers/0/short", "2h"),
     "slo.alerting.tiers[0].short: '2h' is not allowed; allowed: a window shorter than long (1h)"),
    (_set("alerting/tiers/1/severity", "sms"),
     "slo.alerting.tiers[1].severity: 'sms' is not allowed; allowed: one of page, ticket"),
    (_set("alerting/min_events", -1),
     "slo.alerting.min_events: -1 is not allowed; allowed: a whole number of valid events >= 0"),
    (_set(f"{API}/indicator/valid/0/field", "kinds"),
     "slo.objectives.api_response_time.indicator.valid[0].field: 'kinds' is not allowed; "
     "allowed: one of ts, run_id, env, phase, kind, name, ok, latency_ms, error, attempt, symbol, "
     "final"),
    (_set(f"{API}/indicator/valid/0/op", "=="),
     "slo.objectives.api_response_time.indicator.valid[0].op: '==' is not allowed; allowed: one "
     "of eq, ne, lt, le, gt, ge, in, not_in, is_null, not_null"),
    (_set(f"{API}/indicator/valid/0", {"field": "kind", "op": "in", "value": "api_call"}),
     "slo.objectives.api_response_time.indicator.valid[0].value: 'api_call' is not allowed; "
     "allowed: a non-empty list (in needs one)"),
    (_set(f"{API}/indicator/valid/0", {"field": "error", "op": "is_null", "value": "x"}),
     "slo.objectives.api_response_time.indicator.valid[0].value: 'x' is not allowed; allowed: "
     "no value (is_null takes none)"),
    (_set(f"{API}/indicator/good/0/value", "fast"),
     "slo.objectives.api_response_time.indicator.good[0].value: 'fast' is not allowed; "
     "allowed: a number (field latency_ms)"),
    (_set(f"{API}/indicator/valid/0/value", "api_calls"),
     "slo.objectives.api_response_time.indicator.valid[0].value: 'api_calls' is not allowed; "
     "allowed: event kinds api_call, order, phase, health, heartbeat, run"),
    (_set(f"{API}/indicator/valid/1/op", "lt"),
     "slo.objectives.api_response_time.indicator.valid[1].op: 'lt' is not allowed; allowed: "
     "eq, ne, in, not_in, is_null, not_null (field ok is true or false)"),
    (_set(f"{API}/indicator/valid/1/value", None),
     "slo.objectives.api_response_time.indicator.valid[1].value: missing; allowed: true or "
     "false; use op is_null / not_null to test for null"),
    (_set("objectives/Api Time", default_node()["objectives"]["error_rate"]),
     "slo.objectives: 'Api Time' is not allowed; allowed: objective names in lower_snake_case "
     "(a-z, 0-9, _)"),
    (_set("service", DELETE), "slo: 'service' is a required property"),
    (_set(f"{API}/timeWindow", "99999999999d"),
     "slo.objectives.api_response_time.timeWindow: '99999999999d' is not allowed; allowed: at "
     "most 3650d"),
]


@pytest.mark.parametrize(("mutate", "line"), BAD_SPECS, ids=[b[1].split(":")[0] + str(i)
                                                             for i, b in enumerate(BAD_SPECS)])
def test_bad_spec_is_one_line_naming_the_key(mutate, line: str) -> None:
    node = default_node()
    mutate(node)
    with pytest.raises(ConfigError) as raised:
        load_objectives(node)
    assert raised.value.problems == [line]


def test_every_problem_is_listed() -> None:
    node = default_node()
    node["objectives"]["error_rate"]["target"] = 2
    node["at_risk_below"] = "half"
    with pytest.raises(ConfigError) as raised:
        load_objectives(node)
    assert len(raised.value.problems) == 2
    assert raised.value.problems[0].startswith("slo.at_risk_below: 'half' is not allowed")
    assert raised.value.problems[1].startswith("slo.objectives.error_rate.target: 2 is not")


def test_runner_validation_uses_the_spec_checks() -> None:
    from runner.validate import slo_problems

    node = copy.deepcopy(default_node())
    assert slo_problems(node) == []
    node["objectives"]["error_rate"]["target"] = 1.5
    assert slo_problems(node) == ["slo.objectives.error_rate.target: 1.5 is not allowed; "
                                  "allowed: a number between 0 and 1 (exclusive)"]


# -- OpenSLO -----------------------------------------------------------------------------------


def test_openslo_documents() -> None:
    spec = load_objectives(default_node())
    docs = to_openslo(spec)
    assert [d["metadata"]["name"] for d in docs] == [
        "system-uptime", "api-response-time", "trade-execution-time", "error-rate",
        "run-completion"]
    assert {(d["apiVersion"], d["kind"]) for d in docs} == {("openslo/v1", "SLO")}
    uptime, api = docs[0]["spec"], docs[1]["spec"]
    assert uptime["budgetingMethod"] == "Timeslices"
    assert uptime["timeWindow"] == [{"duration": "30d", "isRolling": True}]
    assert uptime["objectives"] == [{"displayName": "system_uptime", "target": 0.995,
                                     "timeSliceTarget": 1, "timeSliceWindow": "1m"}]
    assert api["service"] == "trading-bot"
    assert api["objectives"] == [{"displayName": "api_response_time", "target": 0.95}]
    ratio = api["indicator"]["spec"]["ratioMetric"]
    total = ratio["total"]["metricSource"]
    assert total["type"] == "pre-execution-runner"
    assert total["spec"]["conditions"] == [{"field": "kind", "op": "eq", "value": "api_call"},
                                           {"field": "ok", "op": "eq", "value": True}]
    assert ratio["good"]["metricSource"]["spec"]["conditions"][-1] == {
        "field": "latency_ms", "op": "lt", "value": 500}
    assert docs[1]["metadata"]["annotations"]["pre-execution-runner/good"] == "latency_ms lt 500"
    text = dump_openslo(spec)
    assert list(yaml.safe_load_all(text)) == docs
    assert "&id" not in text  # plain YAML, no anchors


def test_spec_schema_is_valid_draft_2020_12() -> None:
    from jsonschema import Draft202012Validator

    from slo.schemas import load, validator

    Draft202012Validator.check_schema(load("spec"))
    assert validator("spec") is validator("spec")  # cached
    assert Path(__file__).parent.parent.joinpath("slo/schemas/spec.schema.json").is_file()
