"""runner/verdict.py: what can happen at a run's end -> its status and exit code."""

from __future__ import annotations

import pytest

from runner.executor import Outcome
from runner.run_data import SloSummary
from runner.verdict import Verdict, decide

UNKNOWN = "1 order(s) with an unknown outcome after reconciliation (pxr-1): check them"


def slo(*, breached: tuple[str, ...] = ("error_rate",), fail_on_breach: bool = True) -> SloSummary:
    return SloSummary(worst_status="breached" if breached else "ok", breached=breached,
                      fail_on_breach=fail_on_breach, report="slo_report.json", objectives={})


@pytest.mark.parametrize(
    ("phases", "signal", "unresolved", "summary", "expected"),
    [
        # the phases alone
        ("succeeded", None, None, None, ("succeeded", 0, None)),
        ("failed", None, None, None, ("failed", 1, None)),
        ("interrupted", "SIGINT", None, None, ("interrupted", 130, "SIGINT")),
        ("interrupted", "SIGTERM", None, None, ("interrupted", 143, "SIGTERM")),
        ("interrupted", None, None, None, ("interrupted", 130, None)),  # ctx.stop, no signal
        # an order whose outcome stayed unknown fails an otherwise good run, never a stopped one
        ("succeeded", None, UNKNOWN, None, ("failed", 1, None)),
        ("failed", None, UNKNOWN, None, ("failed", 1, None)),
        ("interrupted", "SIGTERM", UNKNOWN, None, ("interrupted", 143, "SIGTERM")),
        # an SLO breach counts only with fail_on_breach, and only when nothing worse happened
        ("succeeded", None, None, slo(), ("succeeded", 3, None)),
        ("succeeded", None, None, slo(fail_on_breach=False), ("succeeded", 0, None)),
        ("succeeded", None, None, slo(breached=()), ("succeeded", 0, None)),
        ("failed", None, None, slo(), ("failed", 1, None)),
        ("succeeded", None, UNKNOWN, slo(), ("failed", 1, None)),
        ("interrupted", "SIGINT", None, slo(), ("interrupted", 130, "SIGINT")),
    ],
)
def test_the_worst_thing_that_happened_decides(phases, signal, unresolved, summary, expected):
    verdict = decide(phases, signal=signal, unresolved=unresolved, slo=summary)
    assert (verdict.status, verdict.exit_code, verdict.signal) == expected


def test_the_verdict_logs_what_the_phases_did_not():
    assert decide("succeeded").reasons == ()
    assert decide("failed").reasons == ()  # the executor already logged the failed phase
    assert decide("interrupted", signal="SIGINT", unresolved=UNKNOWN).reasons == (UNKNOWN,)
    (line,) = decide("succeeded", slo=slo(breached=("error_rate", "uptime"))).reasons
    assert line == "SLO breached (error_rate, uptime) and slo.fail_on_breach=true: exit 3"
    assert decide("succeeded", slo=slo(fail_on_breach=False)).reasons == ()


@pytest.mark.parametrize(
    ("before", "signal", "expected"),
    [
        (Verdict("succeeded", 0), "SIGTERM", ("interrupted", 143, "SIGTERM")),
        (Verdict("succeeded", 3), "SIGINT", ("interrupted", 130, "SIGINT")),
        (Verdict("failed", 1), "SIGINT", ("interrupted", 130, "SIGINT")),
        (Verdict("interrupted", 130, "SIGINT"), "SIGTERM", ("interrupted", 130, "SIGINT")),
    ],
)
def test_a_signal_after_the_phases_wins_but_never_replaces_the_first(before, signal, expected):
    late = before.interrupted_by(signal)
    assert (late.status, late.exit_code, late.signal) == expected


def test_an_unknown_phase_outcome_is_a_bug_not_a_success():
    with pytest.raises(ValueError, match="unknown phase outcome 'ok'"):
        decide("ok")


def test_the_executors_outcome_codes_come_from_the_verdict():
    assert Outcome("succeeded", []).exit_code == 0
    assert Outcome("failed", []).exit_code == 1
    assert Outcome("interrupted", [], "SIGTERM").exit_code == 143
