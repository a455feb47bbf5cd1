"""report (always, last): the run's own error-budget report, slo_report.json and .md, and its
summary (-> ctx.data.slo, which the run's verdict reads: runner/verdict.py).

The events come straight from the recorder (the run is still going, metrics.parquet does not
exist yet); the window of every objective ends now, so a run is judged on everything it did.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from runner.run_data import SloSummary

if TYPE_CHECKING:
    from runner.context import RunContext


def run(ctx: RunContext) -> dict[str, Any]:
    from slo.compute import evaluate
    from slo.report import run_report, summarize, write_report
    from slo.spec import load_objectives

    spec = load_objectives(ctx.config["slo"])
    as_of = datetime.now(timezone.utc)
    objectives = evaluate(ctx.recorder.frame().lazy(), spec, as_of)
    report = run_report(spec, objectives, as_of, run_id=ctx.run_id, env=ctx.env)
    write_report(report, ctx.run_dir / "slo_report")
    summary = summarize(objectives, fail_on_breach=spec.fail_on_breach)
    ctx.data.slo = SloSummary.from_dict(summary)
    statuses = ", ".join(f"{o['name']} {o['status']}" for o in objectives)
    worrying = summary["worst_status"] in ("breached", "at_risk")
    (ctx.log.warning if worrying else ctx.log.info)(f"SLOs: {statuses}")
    return summary
