"""report (always, last): the run's own error-budget report, slo_report.json and .md, and its
summary (-> ctx.data.slo, which the run's verdict reads: runner/verdict.py).

The phase judges what the run did so far (the window of every objective ends now), logs it and
sets the summary.  Once the events are complete — after cleanup's last reconciliation, the last
heartbeat and the health checks that follow this phase — the run calls `final_report`, which
judges ALL of the run's events as of its end (result.json's ended_at), names the contributors
and retries, and writes slo_report.*.  That is exactly what `python -m slo run_dir=<this folder>`
judges later, so both give the same report and the same exit code for the same run.  The files
are written once, by `final_report`: the phase's early judgement is only its log line and the
summary a failed final judgement leaves (writing it too cost every run ~15 ms for files that
were always replaced).
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

from runner.run_data import SloSummary

if TYPE_CHECKING:
    from runner.context import RunContext
    from slo.runs import RunInfo


def judge(ctx: RunContext, as_of: datetime, run: RunInfo, *, write: bool = True
          ) -> dict[str, Any]:
    """Judge the recorded events as of `as_of` and set ctx.data.slo; with `write`, also name
    the causes and retries and write slo_report.*."""
    from slo.compute import assess
    from slo.report import summarize
    from slo.spec import load_objectives

    spec = load_objectives(ctx.config["slo"])
    frame = ctx.recorder.frame()
    assessment = assess(frame.lazy(), spec, as_of, runs=[run], explain=write)
    objectives = assessment.objectives
    if write:
        _write(ctx, spec, objectives, as_of, run, frame)
    summary = summarize(objectives, fail_on_breach=spec.fail_on_breach)
    ctx.data.slo = SloSummary.from_dict(summary)
    return summary


def _write(ctx: RunContext, spec: Any, objectives: list[dict[str, Any]], as_of: datetime,
           run: RunInfo, frame: Any) -> None:
    from slo.budget import EPOCH
    from slo.causes import describe_runs
    from slo.report import run_report, write_report
    from slo.retries import retry_summary
    from slo.run_table import crashed_list

    describe_runs(objectives, [run], ctx.run_dir)
    report = run_report(spec, objectives, as_of, run_id=ctx.run_id, env=ctx.env)
    report |= {"crashed": crashed_list([run], ctx.run_dir),
               "retries": retry_summary(frame, EPOCH, as_of)}
    write_report(report, ctx.run_dir / "slo_report")


def this_run(ctx: RunContext, status: str, started_at: str, ended_at: str | None = None
             ) -> RunInfo:
    from slo.runs import RunInfo
    from slo.settings import parse_time

    return RunInfo(folder=ctx.run_dir, run_id=ctx.run_id, env=ctx.env, status=status,
                   started_at=parse_time(started_at),
                   ended_at=parse_time(ended_at) if ended_at else None)


def run(ctx: RunContext) -> dict[str, Any]:
    from runner.executor import utc_now

    started_at = ctx.started_at or utc_now()
    summary = judge(ctx, datetime.now(timezone.utc), this_run(ctx, "running", started_at),
                    write=False)
    statuses = ", ".join(f"{name} {o['status']}" for name, o in summary["objectives"].items())
    worrying = summary["worst_status"] in ("breached", "at_risk")
    (ctx.log.warning if worrying else ctx.log.info)(f"SLOs: {statuses}")
    return summary


def final_report(ctx: RunContext, status: str, started_at: str, ended_at: str) -> None:
    """Judge every event as of the run's end and write slo_report.*; when that fails, the
    phase's summary stays the run's and the failure is logged with the command that writes
    the report later (a bug here must not cost the run its result.json)."""
    try:
        at_end = datetime.fromisoformat(ended_at) + timedelta(microseconds=1)
        judge(ctx, at_end, this_run(ctx, status, started_at, ended_at))
    except Exception as exc:
        ctx.log.error(f"final SLO report failed ({type(exc).__name__}: {exc}); the verdict "
                      "uses the report phase's judgement; write slo_report.* later with "
                      f"`python -m slo run_dir={ctx.run_dir}`")
        ctx.log.opt(exception=exc).debug("final SLO report traceback")
