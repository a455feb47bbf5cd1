"""Bad input never starts a run: one line per problem naming the key, exit code 2."""

from __future__ import annotations

import pytest
from conftest import run_cli

from runner.plan import build_plan
from runner.shared.errors import ConfigError
from runner.validate import validate_config


def problems(config: dict) -> list[str]:
    try:
        validate_config(config)
        build_plan(config)
    except ConfigError as error:
        return error.problems
    return []


def test_default_config_is_valid(compose):
    assert problems(compose()) == []


@pytest.mark.parametrize("overrides", [
    ["phases=smoke"], ["slo=strict"], ["slo=strict", "phases=smoke"], ["experiment=soak"],
    ["phases.report.enabled=false"],  # no report, but nothing asks to fail on a breach
])
def test_shipped_plans_and_slo_sets_combine(compose, overrides):
    assert problems(compose(*overrides)) == []


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        (["heartbeat_s=-1"], "heartbeat_s: -1 is not allowed; allowed: a number > 0"),
        (["heartbeat_s=fast"], "heartbeat_s: 'fast' is not allowed; allowed: a value of type"),
        (["dry_run=maybe"], "dry_run: 'maybe' is not allowed; allowed: a value of type boolean"),
        (["seed=-3"], "seed: -3 is not allowed; allowed: a number >= 0"),
        (["symbols=[btc]"], "symbols[0]: 'btc' is not allowed; allowed: BASE/QUOTE"),
        (["symbols=[]"], "symbols: [] is not allowed; allowed: at least 1 item(s)"),
        (["adapter.faults.error_rate=2"], "adapter.faults.error_rate: 2 is not allowed; allowed: "
                                          "a probability between 0 and 1"),
        (["log_level=LOUD"], "log_level: 'LOUD' is not allowed; allowed: one of TRACE, DEBUG"),
        (["journal_flush_s=1"], "journal_flush_s: 1 is not allowed; allowed: at most 0.25 s"),
        (["phases.connect.timeout_s=-5"], "phases.connect.timeout_s: -5 is not allowed; "
                                          "allowed: a number > 0"),
        (["phases.connect.timeout_s=0"], "phases.connect.timeout_s: 0 is not allowed"),
        (["phases.connect.retries=-1"], "phases.connect.retries: -1 is not allowed"),
        (["phases.connect.on_failure=stop"], "phases.connect.on_failure: 'stop' is not allowed; "
                                             "allowed: one of abort, continue"),
        (["+phases.connect.timout_s=3"], "phases.connect.timout_s: unknown key; allowed keys: "
                                         "always, callable"),
        (["+surprise=1"], "surprise: unknown key; allowed keys:"),
        (["phases.connect.needs=[nope]"], "phases.connect.needs: unknown phase 'nope'; known "
                                          "phases: preflight, connect"),
        (["phases.connect.needs=[preflight,preflight]"], "phases.connect.needs: 'preflight' is "
                                                         "listed twice"),
        (["phases.connect.needs=[connect]"], "phases.connect.needs: 'connect' is the phase itself"),
        (["phases.preflight.needs=[cleanup]", "phases.cleanup.needs=[preflight]"],
         "phases: dependency cycle preflight -> cleanup -> preflight"),
        (["phases.connect.callable=nope"], "phases.connect.callable: unknown phase 'nope'; "
                                           "allowed: a built-in phase"),
        (["phases.connect.callable=os:nothing"], "phases.connect.callable: module 'os' has no "
                                                 "function 'nothing'"),
        (["phases.connect.callable=no_such_module:run"], "phases.connect.callable: cannot import "
                                                         "module 'no_such_module'"),
        (["+phases.market_data.params.candles=3"],
         "phases.market_data.params.candles: unknown parameter of 'market_data'; allowed: "),
        (["strategy.fast=50"], "strategy.fast: 50 is not allowed; allowed: a period shorter than "
                               "strategy.slow (30)"),
        ([f"phases.{p}.enabled=false" for p in
          ("preflight", "connect", "market_data", "strategy", "execution", "cleanup", "report")],
         "phases: the plan is empty (no enabled phase)"),
        (["slo.fail_on_breach=true", "phases.report.enabled=false"],
         "slo.fail_on_breach: true, but the plan has no enabled report phase"),
        (["slo=strict", "phases.report.callable=fake_phases:ok"],
         "slo.fail_on_breach: true, but the plan has no enabled report phase"),
    ],
)
def test_bad_input_is_one_clear_line(compose, overrides, expected):
    found = problems(compose(*overrides))
    assert found, f"{overrides} was accepted"
    assert any(line.startswith(expected) for line in found), found
    assert all("\n" not in line for line in found)


def test_every_problem_is_reported_not_just_the_first(compose):
    found = problems(compose("heartbeat_s=-1", "seed=-1", "log_level=LOUD"))
    assert [line.split(":")[0] for line in found] == ["heartbeat_s", "log_level", "seed"]


@pytest.mark.slow  # each row starts `python -m runner` as a subprocess
@pytest.mark.parametrize(
    ("args", "stderr_has"),
    [
        (["env=nope"], "Could not find 'env/nope'"),              # unknown group option
        (["no_such_key=1"], "Could not override 'no_such_key'"),  # unknown key
        (["a b"], "LexerNoViableAltException"),                   # bad override syntax
        (["phases.connect.timeout_s=-1"], "error: phases.connect.timeout_s: -1 is not allowed"),
        (["seed=${oc.env:SURELY_NOT_SET_ENV_VAR}"], "error: seed:"),
    ],
)
def test_cli_exits_2_with_one_line_and_leaves_nothing_behind(tmp_path, args, stderr_has):
    done = run_cli(*args, cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    assert stderr_has in done.stderr
    assert done.stderr.startswith("error: ") and done.stderr.count("\n") == 1, done.stderr
    assert not list((tmp_path / "outputs").glob("runs/*/*")), "no half-written run folder"


def test_fail_on_breach_without_a_report_phase_is_refused_before_the_run(tmp_path):
    done = run_cli("slo=strict", "phases=smoke", "phases.report.enabled=false", cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    (line,) = done.stderr.splitlines()
    assert line.startswith("error: slo.fail_on_breach: ")
    assert "enable phases.report" in line and "set slo.fail_on_breach=false" in line
    assert not list((tmp_path / "outputs").glob("runs/*/*")), "no half-written run folder"


def test_full_hydra_errors_remain_available(tmp_path):
    done = run_cli("env=nope", cwd=tmp_path, HYDRA_FULL_ERROR="1")
    assert done.returncode == 2
    assert "Traceback" in done.stderr and "Config search path" in done.stderr


@pytest.mark.slow  # starts `python -m runner -m` as a subprocess
def test_a_sweep_with_one_bad_job_is_one_line_exit_2_and_runs_nothing(tmp_path):
    from conftest import run_cli

    done = run_cli("-m", "adapter=paper,nope", cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    errors = [line for line in done.stderr.splitlines() if line.strip()]
    assert errors == ["error: sweep job #1 (adapter=nope): In 'config': Could not find "
                      "'adapter/nope'; Available options in 'adapter': binance, paper; nothing "
                      "was run"], done.stderr
    assert not list(tmp_path.glob("outputs/sweeps/*/*")), "a refused sweep leaves no folder"
