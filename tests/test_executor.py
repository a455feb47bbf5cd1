"""The executor: timeouts, retries, abort/continue, skipped dependents, always-run cleanup."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest

from runner.context import RunContext
from runner.executor import Executor
from runner.plan import build_plan
from runner.recorder import Recorder

NO_CHECKS: dict[str, Any] = {}


def phase(callable_: str, **keys: Any) -> dict[str, Any]:
    return {"callable": callable_, **keys}


def execute(compose, tmp_path: Path, phases: dict[str, Any], health: dict | None = None):
    config = compose()
    config["phases"] = phases
    plan = build_plan(config)
    recorder = Recorder("run-1", "dev", tmp_path)
    ctx = RunContext(config=config, run_dir=tmp_path, run_id="run-1", recorder=recorder)
    outcome = Executor(plan, ctx, health if health is not None else NO_CHECKS, seed=1).run()
    recorder.close()
    return outcome, {r.name: r for r in outcome.phases}, recorder


def test_all_succeed(compose, tmp_path):
    outcome, results, _ = execute(compose, tmp_path, {
        "a": phase("fake_phases:ok", params={"value": 7}),
        "b": phase("fake_phases:ok", needs=["a"]),
    })
    assert (outcome.status, outcome.exit_code) == ("succeeded", 0)
    assert results["a"].summary == {"value": 7}
    assert results["b"].status == "succeeded"


def test_timeout_is_marked_on_time_and_the_run_continues_per_policy(compose, tmp_path):
    started = time.monotonic()
    outcome, results, _ = execute(compose, tmp_path, {
        "slow": phase("fake_phases:stubborn", params={"seconds": 10}, timeout_s=0.3,
                      on_failure="continue", retries=3),
        "next": phase("fake_phases:ok"),
    })
    elapsed = time.monotonic() - started
    assert results["slow"].status == "timed_out"
    assert results["slow"].attempts == 1, "a timed-out attempt may still run: never retried"
    assert elapsed < 0.3 + 1.0
    assert results["next"].status == "succeeded"
    assert outcome.status == "succeeded"


def test_cooperative_phase_is_told_to_stop_on_timeout(compose, tmp_path):
    before = set(threading.enumerate())
    _, results, _ = execute(compose, tmp_path, {
        "slow": phase("fake_phases:sleepy", params={"seconds": 10}, timeout_s=0.2,
                      on_failure="continue"),
    })
    assert results["slow"].status == "timed_out"
    # The abandoned attempt would sleep on for 10 s; told to stop, it returns at once.
    started = [t for t in threading.enumerate() if t not in before]
    for thread in started:
        thread.join(timeout=3.0)
    assert [t.name for t in started if t.is_alive()] == [], "the attempt was not told to stop"


def test_retryable_errors_are_retried_with_backoff(compose, tmp_path):
    _, results, recorder = execute(compose, tmp_path, {
        "flaky": phase("fake_phases:flaky", params={"failures": 2}, retries=2),
    })
    assert results["flaky"].status == "succeeded"
    assert results["flaky"].attempts == 3
    phase_events = recorder.frame().filter(kind="phase").row(0, named=True)
    assert phase_events["attempt"] == 3 and phase_events["ok"]


def test_retries_run_out(compose, tmp_path):
    _, results, _ = execute(compose, tmp_path, {
        "flaky": phase("fake_phases:flaky", params={"failures": 5}, retries=1),
    })
    assert results["flaky"].status == "failed"
    assert results["flaky"].attempts == 2
    assert results["flaky"].error == "RetryableError: transient failure 2"


def test_non_retryable_errors_are_not_retried(compose, tmp_path):
    _, results, _ = execute(compose, tmp_path, {
        "bad": phase("fake_phases:fail", retries=3, on_failure="continue"),
    })
    assert results["bad"].attempts == 1
    assert results["bad"].error == "ValueError: boom"


def test_abort_skips_the_rest_but_always_phases_run(compose, tmp_path):
    outcome, results, _ = execute(compose, tmp_path, {
        "bad": phase("fake_phases:fail"),
        "independent": phase("fake_phases:ok"),
        "cleanup": phase("fake_phases:marker", always=True, params={"name": "cleanup"}),
    })
    assert (outcome.status, outcome.exit_code) == ("failed", 1)
    assert results["independent"].status == "skipped"
    assert results["independent"].reason == "run aborted: bad failed"
    assert results["cleanup"].status == "succeeded"
    assert (tmp_path / "cleanup.ran").exists()


def test_continue_skips_only_dependents_with_the_reason(compose, tmp_path):
    outcome, results, _ = execute(compose, tmp_path, {
        "bad": phase("fake_phases:fail", on_failure="continue"),
        "child": phase("fake_phases:ok", needs=["bad"]),
        "grandchild": phase("fake_phases:ok", needs=["child"]),
        "independent": phase("fake_phases:ok"),
    })
    assert outcome.status == "succeeded"
    assert results["child"].reason == "needs bad (failed)"
    assert results["grandchild"].reason == "needs child (skipped: needs bad (failed))"
    assert results["independent"].status == "succeeded"


def test_disabled_phase_and_its_dependents_are_skipped(compose, tmp_path):
    _, results, _ = execute(compose, tmp_path, {
        "off": phase("fake_phases:ok", enabled=False),
        "child": phase("fake_phases:ok", needs=["off"]),
    })
    assert results["off"].reason == "disabled"
    assert results["child"].reason == "needs off (skipped: disabled)"


def test_phase_and_health_events_are_recorded(compose, tmp_path):
    health = {"disk_space": {"enabled": True, "min_free_mb": 1, "on_unhealthy": "abort"},
              "memory": {"enabled": True, "min_available_mb": 1, "on_unhealthy": "warn"}}
    _, results, recorder = execute(compose, tmp_path, {"a": phase("fake_phases:ok")}, health)
    frame = recorder.frame()
    assert frame.filter(kind="health").height == 4  # 2 checks, before and after
    assert [h["name"] for h in results["a"].health["before"]] == ["disk_space", "memory"]
    assert frame.filter(kind="phase")["name"].to_list() == ["a"]


@pytest.mark.parametrize(("policy", "status", "ran"), [("abort", "failed", False),
                                                       ("warn", "succeeded", True)])
def test_unhealthy_check_aborts_or_warns_per_config(compose, tmp_path, policy, status, ran):
    health = {"disk_space": {"enabled": True, "min_free_mb": 1e12, "on_unhealthy": policy}}
    outcome, results, _ = execute(compose, tmp_path, {
        "a": phase("fake_phases:marker", params={"name": "a"}, on_failure="continue"),
        "cleanup": phase("fake_phases:ok", always=True),
    }, health)
    assert outcome.status == status
    assert (tmp_path / "a.ran").exists() is ran
    if policy == "abort":
        assert results["a"].error.startswith("HealthAbort: disk_space=")
    assert results["cleanup"].status == "succeeded", "always phases run whatever the checks say"


def test_a_phase_can_skip_itself_with_a_reason_without_failing_the_run(compose, tmp_path):
    outcome, results, recorder = execute(compose, tmp_path, {
        "signed": phase("fake_phases:needs_keys"),
        "after": phase("fake_phases:ok", needs=["signed"]),
    })
    assert outcome.status == "succeeded"
    assert results["signed"].status == "skipped"
    assert results["signed"].reason.startswith("needs API keys")
    assert results["after"].reason == ("needs signed (skipped: needs API keys: set "
                                       "BINANCE_TESTNET_API_KEY and _SECRET)")
    assert recorder.frame().filter(kind="phase")["ok"].to_list() == [True]
