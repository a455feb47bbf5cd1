"""The plan: stable topological order, plan.json, the printed table."""

from __future__ import annotations

import json

import pytest

from runner.pipeline import write_plan
from runner.plan import build_plan


def test_standard_plan_order_is_the_declared_dependency_order(compose):
    plan = build_plan(compose())
    assert [p.name for p in plan.phases] == [
        "preflight", "connect", "market_data", "strategy", "execution", "load", "cleanup",
        "report"]


def test_order_is_topological_and_stable_for_ties(compose):
    config = compose("phases.preflight.needs=[cleanup]", "phases.cleanup.needs=[]")
    names = [p.name for p in build_plan(config).phases]
    assert names.index("cleanup") < names.index("preflight")
    assert names == ["cleanup", "preflight", "connect", "market_data", "strategy", "execution",
                     "load", "report"]


def test_defaults_are_filled_for_minimal_phase_declarations(compose):
    config = compose()
    config["phases"] = {"only": {"callable": "fake_phases:ok"}}
    (spec,) = build_plan(config).phases
    assert (spec.timeout_s, spec.retries, spec.on_failure, spec.always, spec.enabled) == (
        60.0, 0, "abort", False, True)


def test_plan_json_round_trips(compose, tmp_path):
    plan = build_plan(compose("phases=smoke"))
    data = json.loads(write_plan(plan, tmp_path / "plan.json").read_text())
    assert data["schema_version"] == 1
    assert [p["name"] for p in data["phases"]] == ["preflight", "connect", "market_data",
                                                   "cleanup", "report"]
    assert data["phases"][1]["needs"] == ["preflight"]


def test_table_lists_every_phase_and_marks_disabled(compose):
    table = build_plan(compose()).table()
    assert "load" in table and "disabled" in table
    rows, _orders_line = table.split("\n\n")
    assert len(rows.splitlines()) == 2 + 8


@pytest.mark.parametrize(("overrides", "says"), [
    ((), "only test orders"),
    (("dry_run=false",), "intended orders are PLACED"),
    (("phases.execution.params.probe_when_idle=false",), "no probe"),
    (("phases.execution.enabled=false",), "no execution phase"),
])
def test_the_plan_preview_says_what_happens_to_orders(compose, overrides, says):
    note = build_plan(compose(*overrides)).table().splitlines()[-1]
    assert note.startswith("orders: ") and says in note
    if "probe" in note and "no probe" not in note:
        assert "probe is sent as a test order (never placed)" in note
