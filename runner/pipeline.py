"""One run: composed config -> validate -> plan -> execute -> run folder.  Returns the exit code
(decided from the run's outcome by runner/verdict.py).

Everything that can be wrong with the input is found before anything is executed, and reported
as one line per problem (exit 2).  Heavy libraries (polars, loguru, the adapters) are imported only
by the steps that need them, so `plan_only=true` stays about as fast as a bare Hydra app.

Safety (docs/SAFETY.md): the resolved config's secret values are registered for masking before
anything is validated or written, and the live guard (runner/live_guard.py) refuses a run that
would place real-money orders without all three switches, before any phase runs.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import threading
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from runner.plan import Plan, build_plan
from runner.shared import signals
from runner.shared.errors import ConfigError
from runner.shared.hydra_cli import report_config_error, resolve
from runner.validate import validate_config

if TYPE_CHECKING:
    from runner.verdict import Verdict

# A sweep job whose config was invalid keeps its folder with only this file (and .hydra/).
ERROR_NAME = "error.txt"
# Files that mean a folder already holds another run; never overwrite them.  Defence in depth:
# runner/run_folder.py claims every run folder and sweep root exclusively before Hydra writes, but
# sweep jobs whose hydra.sweep.subdir repeats share a folder, and the compose API bypasses it.
RUN_MARKERS = ("events.jsonl", "events.jsonl.gz", "result.json")
# A sweep job that a signal stopped before it started keeps its folder with only this file.
INTERRUPTED_NAME = "interrupted.txt"
# What a signal leads to (the one line runner/shared/signals.py prints), during and after the
# phases.
RUNNING = ("stopping after the current step; cleanup and report still run, then result.json and "
           "metrics.parquet are written")
WRITING = "the phases are over; result.json and metrics.parquet are being written"


def discard_unused(run_dir: Path, *, force: bool = False) -> None:
    """Nothing half-written: drop a run folder that holds only Hydra's snapshot of a bad config
    (`force`: also its error.txt etc., e.g. a folder whose name holds a secret)."""
    import shutil

    if run_dir.is_dir() and (force or {p.name for p in run_dir.iterdir()} <= {".hydra"}):
        shutil.rmtree(run_dir, ignore_errors=True)
        with contextlib.suppress(OSError):
            run_dir.parent.rmdir()  # the date folder, when this was its only run


def prepare(cfg: Any, run_dir: Path) -> tuple[dict[str, Any], Plan]:
    from runner.shared.secrets import contains_secret, register_config

    config = resolve(cfg)
    register_config(config)  # before any message could quote a value
    validate_config(config)
    if contains_secret(str(run_dir)):
        raise ConfigError("hydra.run.dir: the run folder's name contains a secret value; "
                          "keep secret keys out of hydra.run.dir / hydra.sweep.subdir")
    if not config["plan_only"]:  # plan_only executes nothing, so it is not guarded
        from runner import live_guard

        problems = live_guard.problems(config)
        if problems:
            raise ConfigError(problems)
    plan = build_plan(config)
    used = [name for name in RUN_MARKERS if (run_dir / name).exists()]
    if used:
        raise ConfigError(f"hydra.run.dir: {run_dir} already holds a run ({used[0]}); pass a "
                          "new folder (in a sweep: a hydra.sweep.subdir unique to each job)")
    return config, plan


def main(cfg: Any, run_dir: Path, *, sweep_job: bool = False) -> int:
    if signals.requested():
        return not_started(run_dir, sweep_job=sweep_job)
    try:
        config, plan = prepare(cfg, run_dir)
    except Exception as exc:  # a check that raised instead of answering is bad input too
        from runner.shared.secrets import contains_secret, mask

        error = exc if isinstance(exc, ConfigError) else unexpected_error(exc)

        if contains_secret(str(run_dir)) and not any((run_dir / m).exists() for m in RUN_MARKERS):
            discard_unused(run_dir, force=True)  # never another run's folder
        elif sweep_job:  # the sweep report must still show this job, and why it did not run
            (run_dir / ERROR_NAME).write_text(mask("\n".join(error.problems) + "\n"),
                                              encoding="utf-8")
        else:
            discard_unused(run_dir)
        if error is not exc and os.environ.get("HYDRA_FULL_ERROR") == "1":
            raise  # the traceback, for whoever debugs the check
        return report_config_error(error)
    if signals.requested():  # the last moment before anything of the run is written
        return not_started(run_dir, sweep_job=sweep_job)
    run_dir.mkdir(parents=True, exist_ok=True)
    write_plan(plan, run_dir / "plan.json")
    if config["plan_only"]:
        print(plan.table())
        print(f"\nplan written to {run_dir / 'plan.json'} (plan_only=true: nothing executed)")
        return 0
    return execute_run(config, plan, run_dir)


def unexpected_error(exc: BaseException) -> ConfigError:
    """An exception no check turned into a message (a bug, or input nobody foresaw): still one
    line and exit 2, since nothing ran; HYDRA_FULL_ERROR=1 shows its traceback."""
    text = str(exc).strip().splitlines()
    what = f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__
    return ConfigError(f"config: it could not be checked ({what}); allowed: a config whose "
                       "values have the shapes docs/CONFIGURATION.md describes "
                       "(HYDRA_FULL_ERROR=1 shows the traceback)")


def not_started(run_dir: Path, *, sweep_job: bool) -> int:
    """A signal before the run started: nothing ran, so no run folder is left behind, except
    that a sweep job's keeps interrupted.txt (and .hydra/) for the sweep report.  130 / 143."""
    from runner.shared.errors import EXIT_SIGINT
    from runner.shared.secrets import contains_secret

    secret = contains_secret(str(run_dir))
    if not any((run_dir / m).exists() for m in RUN_MARKERS):  # never another run's folder
        if sweep_job and not secret and run_dir.is_dir():
            (run_dir / INTERRUPTED_NAME).write_text(
                f"{signals.name() or 'a stop request'} received before this job started; "
                "nothing ran\n", encoding="utf-8")
        else:
            discard_unused(run_dir, force=secret)
    return signals.exit_code(EXIT_SIGINT)


def write_plan(plan: Plan, path: Path) -> Path:
    """plan.json as Plan.write writes it, with secret values (e.g. a phase param) masked."""
    import json

    from runner.shared.files import write_text_atomic
    from runner.shared.secrets import redact

    return write_text_atomic(json.dumps(redact(plan.to_dict()), indent=2) + "\n", path)


def new_run_id(env: str) -> str:
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    return f"{stamp}-{env}-{secrets.token_hex(3)}"


def start_heartbeat(recorder: Any, every_s: float, stop: threading.Event) -> threading.Thread:
    """Emit a heartbeat now and every `every_s` until `stop` is set (feeds the uptime SLO)."""

    def beat() -> None:
        recorder.record("heartbeat", "alive", True, phase=recorder.phase)
        while not stop.wait(every_s):
            recorder.record("heartbeat", "alive", True, phase=recorder.phase)

    thread = threading.Thread(target=beat, name="heartbeat", daemon=True)
    thread.start()
    return thread


def settle_orders_safely(ctx: Any) -> dict[str, Any] | None:
    """runner/order_book.py's settle_orders; a failure there must not cost the run its result."""
    from runner.order_book import settle_orders

    try:
        return settle_orders(ctx)
    except Exception as exc:
        ctx.log.error(f"could not settle the run's orders: {type(exc).__name__}: {exc}")
        return None


@signals.stage(RUNNING)
def execute_run(config: dict[str, Any], plan: Plan, run_dir: Path) -> int:
    from runner.context import RunContext
    from runner.executor import Executor, Outcome, utc_now
    from runner.order_book import unresolved_line
    from runner.phases.preflight import mode
    from runner.phases.report import final_report
    from runner.recorder import Recorder
    from runner.result import build_result, write_json_atomic
    from runner.shared.logs import add_run_log, configure_console, remove_sink
    from runner.shared.run_end import RESULT_NAME
    from runner.summary import print_summary
    from runner.verdict import FAILED, decide

    signals.reclaim_from("polars")  # its SIGINT hook (set on import) must not outlive this line
    configure_console(config["log_level"])
    sink = add_run_log(run_dir)
    run_id = new_run_id(plan.env)
    recorder = Recorder(run_id, plan.env, run_dir, flush_interval_s=config["journal_flush_s"])
    recorder.start()
    started_at, started = utc_now(), time.perf_counter()
    ctx = RunContext(config=config, run_dir=run_dir, run_id=run_id, recorder=recorder,
                     stop=signals.STOP, started_at=started_at)
    ctx.log.info(f"run {run_id}: env={plan.env} adapter={plan.adapter} "
                 f"mode: {mode(ctx)} -> {run_dir}")
    alive = threading.Event()
    beats = start_heartbeat(recorder, config["heartbeat_s"], alive)
    executor = Executor(plan, ctx, config["health"]["checks"], seed=config["seed"])
    orders = None
    try:
        outcome = executor.run()
    except Exception as exc:  # a bug of ours must still leave a result.json and the events
        ctx.log.error(f"internal error: {type(exc).__name__}: {exc} (traceback in run.log)")
        ctx.log.opt(exception=exc).debug("internal error traceback")
        outcome = Outcome(FAILED, list(executor.results.values()))
    finally:
        signals.set_stage(WRITING)
        orders = settle_orders_safely(ctx)
        alive.set()
        beats.join()
        recorder.close()
    ended_at = utc_now()
    if ctx.data.slo is not None:  # the report phase ran: judge all events, as of the end
        how = decide(outcome.status, signal=outcome.signal_name,
                     unresolved=unresolved_line(orders))
        final_report(ctx, how.status, started_at, ended_at)
    verdict = decide(outcome.status, signal=outcome.signal_name,
                     unresolved=unresolved_line(orders), slo=ctx.data.slo)
    for reason in verdict.reasons:
        ctx.log.error(reason)
    result = build_result(run_id=run_id, config=config, phases=outcome.phases, verdict=verdict,
                          started_at=started_at, ended_at=ended_at,
                          duration_s=time.perf_counter() - started,
                          kinds=recorder.counts_by_kind(), slo=ctx.data.slo, orders=orders)
    result = with_late_signal(result, verdict)
    write_json_atomic(result, run_dir / RESULT_NAME)
    recorder.release()  # from now on a reader sees a finished run (slo/runs.py)
    from runner.prune import after_run

    after_run(run_dir, config["journal_after_run"], ctx.log)  # keep | compress | drop
    print_summary(result, run_dir)
    remove_sink(sink)
    return result["exit_code"]


def with_late_signal(result: dict[str, Any], verdict: Verdict) -> dict[str, Any]:
    """A signal that arrived after the last phase, up to the moment result.json is written,
    still makes the run `interrupted` (130 / 143), so it is looked for here, at the last moment;
    what it makes of the verdict is runner/verdict.py's to say."""
    if not signals.requested():
        return result
    late = verdict.interrupted_by(signals.name())
    return {**result, "status": late.status, "signal": late.signal,
            "exit_code": late.exit_code}
