"""Runs a plan: health checks around each phase, timeouts, retries, always-run phases, signals.

A phase runs in a worker thread so that a phase that overruns its `timeout_s` can be marked
`timed_out` on time and the run can go on per its policy.  Python cannot kill a thread, so the
overrunning attempt is told to stop (ctx.cancelled) and abandoned; it is never retried, because it
may still be running.  SIGINT/SIGTERM (runner/shared/signals.py, handled process-wide from the first
line of `main()`) set ctx.stop: the run stops after the current phase (a phase that polls
ctx.cancelled stops sooner); `always` phases (cleanup, report) still run.
"""

from __future__ import annotations

import random
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from adapters.errors import is_retryable
from adapters.retry import RetryPolicy
from runner.context import RunContext
from runner.health import HealthResult, run_checks
from runner.phases import resolve_callable
from runner.plan import PhaseSpec, Plan
from runner.shared import signals
from runner.shared.errors import PhaseSkipped
from runner.shared.tables import number
from runner.verdict import INTERRUPTED, decide

SUCCEEDED, FAILED, TIMED_OUT, SKIPPED = "succeeded", "failed", "timed_out", "skipped"
# Backoff between attempts of a phase (the wrapper already retried each exchange call);
# the number of attempts comes from each phase's `retries`.
PHASE_BACKOFF = RetryPolicy(base_delay_s=0.2, max_delay_s=5.0)


def utc_now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="microseconds")


@dataclass
class PhaseResult:
    name: str
    status: str
    attempts: int = 0
    duration_s: float = 0.0
    error: str | None = None
    reason: str | None = None
    started_at: str | None = None
    health: dict[str, list[dict[str, Any]]] = field(
        default_factory=lambda: {"before": [], "after": []})
    summary: dict[str, Any] | None = None
    health_abort: bool = False  # failed because a check with on_unhealthy=abort was unhealthy

    @property
    def failed(self) -> bool:
        return self.status in (FAILED, TIMED_OUT)


@dataclass
class Outcome:
    """How the phases ended; the run's status and exit code also weigh its orders and SLOs, so
    they are decided from this in runner/verdict.py."""

    status: str  # succeeded | failed | interrupted
    phases: list[PhaseResult]
    signal_name: str | None = None

    @property
    def exit_code(self) -> int:
        """The phases' part of the exit code alone."""
        return decide(self.status, signal=self.signal_name).exit_code


def interrupted(phases: list[PhaseResult]) -> Outcome:
    """A run stopped by a signal (runner/shared/signals.py), with the signal's name."""
    return Outcome(INTERRUPTED, phases, signals.name())


@dataclass
class _Attempt:
    done: threading.Event = field(default_factory=threading.Event)
    cancel: threading.Event = field(default_factory=threading.Event)
    value: Any = None
    error: BaseException | None = None


class Executor:
    def __init__(self, plan: Plan, ctx: RunContext, health: dict[str, Any],
                 seed: int | None = None) -> None:
        self.plan = plan
        self.ctx = ctx
        self.health = health
        self._rng = random.Random(seed)
        self.results: dict[str, PhaseResult] = {}

    # -- the run -------------------------------------------------------------------------

    def run(self) -> Outcome:
        abort_reason: str | None = None
        for spec in self.plan.phases:
            signals.reclaim()  # a library a phase imported may have hooked SIGINT (polars does)
            skip = self._skip_reason(spec, abort_reason, self.stopping)
            if skip is not None:
                self.results[spec.name] = PhaseResult(spec.name, SKIPPED, reason=skip)
                self.ctx.log.info(f"phase {spec.name}: skipped ({skip})")
                continue
            result = self._run_phase(spec)
            self.results[spec.name] = result
            if result.failed and not spec.always and abort_reason is None and (
                    spec.on_failure == "abort" or result.health_abort):
                abort_reason = f"run aborted: {spec.name} {result.status}"
        phases = list(self.results.values())
        if self.stopping:
            return interrupted(phases)
        if abort_reason is not None:
            return Outcome(FAILED, phases)
        return Outcome(SUCCEEDED, phases)

    @property
    def stopping(self) -> bool:
        """A stop was requested: ctx.stop, or a signal the watcher has not turned into it yet."""
        return self.ctx.stop.is_set() or signals.received() is not None

    def _skip_reason(self, spec: PhaseSpec, abort_reason: str | None, stopping: bool) -> str | None:
        if not spec.enabled:
            return "disabled"
        if spec.always:
            return None
        if stopping:
            return f"interrupted by {signals.name() or 'a stop request'}"
        if abort_reason is not None:
            return abort_reason
        for need in spec.needs:
            status = self.results[need].status
            if status != SUCCEEDED:
                why = self.results[need].reason if status == SKIPPED else None
                return f"needs {need} ({status}{': ' + why if why else ''})"
        return None

    # -- one phase -----------------------------------------------------------------------

    def _checks(self, phase: str, stage: str) -> list[HealthResult]:
        return run_checks(self.ctx, self.health, f"{phase}:{stage}")

    def _run_phase(self, spec: PhaseSpec) -> PhaseResult:
        ctx = self.ctx
        ctx.recorder.phase = spec.name
        result = PhaseResult(spec.name, FAILED, started_at=utc_now())
        started, first_row = time.perf_counter(), len(ctx.recorder)
        ctx.log.info(f"phase {spec.name}: start")
        before = self._checks(spec.name, "pre")
        result.health["before"] = [h.to_dict() for h in before]
        blocking = [h for h in before if h.aborts]
        if blocking and not spec.always:
            result.error = "HealthAbort: " + "; ".join(h.describe() for h in blocking)
            result.health_abort = True
        else:
            if blocking:  # cleanup must still cancel orders and close connections
                ctx.log.warning(f"phase {spec.name}: runs despite unhealthy checks (always)")
            self._attempts(spec, result)
        result.duration_s = round(time.perf_counter() - started, 6)
        ctx.recorder.record("phase", spec.name, result.status in (SUCCEEDED, SKIPPED),
                            result.duration_s * 1000.0,
                            None if result.status in (SUCCEEDED, SKIPPED) else _error_class(result),
                            max(result.attempts, 1), phase=spec.name)
        after = self._checks(spec.name, "post")
        result.health["after"] = [h.to_dict() for h in after]
        if any(h.aborts for h in after) and not result.failed and not spec.always:
            result.status = FAILED
            result.error = "HealthAbort: " + "; ".join(h.describe() for h in after if h.aborts)
            result.health_abort = True
        ctx.recorder.flush()
        calls, retried, failed = ctx.recorder.exchange_call_stats(first_row)
        if failed:
            ctx.log.warning(f"phase {spec.name}: {failed} of {calls} exchange call attempts "
                            f"failed; {retried} retry attempt(s) (details in run.log)")
        log = ctx.log.error if result.failed else ctx.log.info
        log(f"phase {spec.name}: {result.status} in {result.duration_s:.3f}s"
            + (f" - {result.error or result.reason}" if result.error or result.reason else ""))
        ctx.recorder.phase = None
        return result

    def _attempts(self, spec: PhaseSpec, result: PhaseResult) -> None:
        function = resolve_callable(spec.callable)
        for attempt in range(1, spec.retries + 2):
            result.attempts = attempt
            state = self._run_attempt(function, spec)
            if state is None:
                result.status = TIMED_OUT
                result.error = f"PhaseTimeout: exceeded timeout_s={number(spec.timeout_s)}"
                return
            if isinstance(state.error, PhaseSkipped):
                result.status, result.reason = SKIPPED, str(state.error)
                return
            if state.error is None:
                result.status = SUCCEEDED
                result.error = None
                result.summary = state.value if isinstance(state.value, dict) else None
                return
            result.status = FAILED
            result.error = f"{type(state.error).__name__}: {state.error}"
            last = attempt == spec.retries + 1
            if last or not is_retryable(state.error) or self.ctx.stop.is_set():
                return
            delay = PHASE_BACKOFF.delay(attempt, self._rng)
            self.ctx.log.warning(f"phase {spec.name}: attempt {attempt} failed "
                                 f"({result.error}); retrying in {delay:.2f}s")
            if self.ctx.stop.wait(delay):
                return

    def _run_attempt(self, function: Any, spec: PhaseSpec) -> _Attempt | None:
        """Run one attempt in a worker thread; None when it overran its timeout."""
        state = _Attempt()
        ctx = self.ctx

        def target() -> None:
            ctx.bind_attempt(state.cancel)
            ctx.recorder.bind_phase(spec.name)  # an abandoned attempt's events stay its own
            try:
                state.value = function(ctx, **spec.params)
            except BaseException as exc:  # reported as the phase's error, never lost
                state.error = exc
            finally:
                state.done.set()

        worker = threading.Thread(target=target, name=f"phase-{spec.name}", daemon=True)
        worker.start()
        if state.done.wait(spec.timeout_s):
            return state
        state.cancel.set()
        ctx.log.error(f"phase {spec.name}: timed out after {number(spec.timeout_s)} s; "
                      "abandoning it")
        return None


def _error_class(result: PhaseResult) -> str:
    if result.status == TIMED_OUT:
        return "PhaseTimeout"
    return (result.error or "Error").split(":", 1)[0]

