"""`python -m slo`: the nightly report over all run folders, one run's report, OpenSLO export.

Its settings are checked in slo/settings.py, one run's report is rebuilt by slo/rebuild.py,
and the steps both modes share (reading, data quality, table, exit code) are in slo/steps.py.

Every bad input ends in one `error:` line, never a traceback:
- the settings (conf/nightly.yaml and the command line) are checked against
  slo/schemas/nightly.schema.json, the objectives against spec.schema.json, then what a schema
  cannot say (as_of parseable and within AS_OF_RANGE, run_dir a run folder): exit 2;
- an output that cannot be written (out_dir, run_dir, export_openslo) names the setting, the
  path and the OS's reason: exit 2, as every path written is a setting.  The folder is tried
  before the long read, and nothing is half-written (slo/report.py).
Bad data is never fatal: a run folder that cannot be read, or read whole, is skipped or read in
part, counted and named in the report's data-quality section (slo/read.py).  Exit 3 when an
objective is breached and `fail_on_breach` is set, or the go-live verdict is NOT READY and
`fail_on_not_ready` is set (slo/steps.py: the same rule as the runner's).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from runner.shared.errors import (
    EXIT_INVALID,
    EXIT_OK,
    EXIT_RUN_FAILED,
    ConfigError,
)
from runner.shared.progress import Steps, no_step

if TYPE_CHECKING:
    from slo.report import WriteError

from slo.causes import describe_runs
from slo.readiness import readiness
from slo.rebuild import rebuild_run
from slo.run_table import crashed_list, in_window, runs_table
from slo.runs import RunInfo, run_facts
from slo.settings import OUTPUT_FIX, DataError, Settings
from slo.steps import (
    data_quality,
    print_table,
    read_and_use,
    stoppable,
    verdict,
    warn_quality,
)


def main(cfg: Any) -> int:
    from runner.shared import signals
    from runner.shared.hydra_cli import report_config_error, resolve
    from runner.shared.logs import configure_console
    from slo.report import WriteError

    try:
        config = resolve(cfg)
        settings = Settings.from_config(config)
    except ConfigError as error:
        return report_config_error(error)
    configure_console(settings.log_level)
    try:
        if settings.export_openslo is not None:
            return export(settings)
        signals.reclaim_from("polars")  # polars' SIGINT hook would raise inside its calls
        if settings.run_dir is not None:
            return rebuild_run(settings)
        return nightly(settings)
    except WriteError as error:
        return report_write_error(settings, error)
    except DataError as error:
        return _error_line(f"{error}; fix: check that the run folders are readable, then rerun",
                           EXIT_RUN_FAILED)
    except signals.Stopped:  # Ctrl-C while reading: nothing was written (runner/shared/signals.py)
        return signals.exit_code(EXIT_OK)


def _error_line(text: str, code: int) -> int:
    from runner.shared.secrets import mask

    print(mask(f"error: {text}"), file=sys.stderr)
    return code


def report_write_error(settings: Settings, error: WriteError) -> int:
    """One line: the setting, its value, the OS's reason and the file it failed on.  Exit 2:
    everything this command writes lies under a path that a setting names."""
    key = settings.output_key
    value = {"export_openslo": settings.export_openslo, "run_dir": settings.run_dir,
             "out_dir": settings.out_dir}[key]
    return _error_line(f"{key}: {str(value)!r} cannot be written ({error.strerror}: "
                       f"{error.filename}); {OUTPUT_FIX[key]}", EXIT_INVALID)


def export(settings: Settings) -> int:
    from loguru import logger

    from slo.openslo import dump_openslo
    from slo.report import write_files

    path = settings.export_openslo
    assert path is not None
    write_files({path: dump_openslo(settings.spec)})
    logger.info(f"wrote {len(settings.spec.objectives)} OpenSLO objective(s) to {path}")
    return EXIT_OK


def _progress_bar(settings: Settings, total_hint: int) -> Any:
    """Progress of reading the run folders: a tqdm bar on a terminal, else a status line every
    1.5 s (logs, CI); `progress=auto` only from 50 folders on (fewer read in a blink),
    `true` always a bar, `false` nothing."""
    if settings.progress == "false" or (settings.progress == "auto" and total_hint < 50):
        return None
    from runner.shared.progress import Progress

    progress = Progress("reading run folders", total_hint, unit="runs",
                        bar=True if settings.progress == "true" else None)

    def advance(done: int, total: int) -> None:
        progress.total = total
        progress.update(done - progress.n)
        if done >= total:
            progress.close()

    return advance


def nightly(settings: Settings) -> int:
    from loguru import logger

    from runner.shared import signals
    from slo.quality import name_invalid
    from slo.read import discover
    from slo.report import check_writable, nightly_report

    check_writable(settings.out_dir)  # an unwritable out_dir fails now, not after reading
    roots = [r for r in settings.roots if r.is_dir()]
    missing = [str(r) for r in settings.roots if not r.is_dir()]
    if missing:
        logger.warning(f"roots not found (nothing read there): {', '.join(missing)}")
    skipped: list[dict[str, str]] = []
    sources = discover(roots, skipped)
    window = judged_window(settings)
    runs = in_window(run_facts(sources), window.since, window.as_of, list(settings.envs))
    # After the reading bar: each step is named when the console has been quiet for ~1 s
    # (runner/shared/progress.py); fast steps print nothing.
    with Steps() as step:
        data, (assessment, retries) = read_and_use(
            sources, window.since, settings,
            lambda d: judge(d.frame, settings, runs, window, step),
            progress=stoppable(_progress_bar(settings, len(sources))))
        step("checking the events")
        name_invalid(data, assessment.invalid, (window.since, settings.as_of))
        signals.checkpoint()  # the last moment before anything is written
        objectives = assessment.objectives
        quality = data_quality(data, skipped)
        report = nightly_report(settings.spec, objectives, settings.as_of, data_quality=quality,
                                runs=len(data.used))
        step("naming the contributors")
        describe_runs(objectives, runs, settings.out_dir)
        step("listing the runs and the go-live readiness")
        report |= {"runs_table": runs_table(runs, assessment.events_by_run,
                                            assessment.bad_by_run, settings.out_dir),
                   "crashed": crashed_list(runs, settings.out_dir), "retries": retries,
                   "readiness": readiness(objectives, runs, envs=list(settings.envs),
                                          gate=settings.fail_on_not_ready)}
        written = write_nightly(report, settings, step)
    warn_quality(quality)
    print_table(objectives)
    print_readiness(report["readiness"])
    print(f"\n{len(data.used)} run folder(s) read; report: {written}")
    return verdict(settings, objectives, report["readiness"])


@dataclass(frozen=True)
class JudgedWindow:
    """What the nightly reads: events from `since` (the first whole slice of the longest
    horizon, so every path judges a cut slice on all its events) to `as_of`; runs whose
    lifetime overlaps that span."""

    since: datetime
    as_of: datetime


def judged_window(settings: Settings) -> JudgedWindow:
    from slo.budget import EPOCH
    from slo.compute import make_grid

    start_us = make_grid(settings.spec, settings.as_of).start_us
    return JudgedWindow(EPOCH + timedelta(microseconds=start_us), settings.as_of)


def judge(frame: Any, settings: Settings, runs: list[RunInfo], window: JudgedWindow,
          step: Callable[[str], None] = no_step) -> tuple[Any, list[dict[str, Any]]]:
    """The objectives (with their contributors) and the retry figures, for the judged envs."""
    import polars as pl

    from slo.compute import assess
    from slo.retries import retry_summary

    if settings.envs:
        frame = frame.filter(pl.col("env").is_in(list(settings.envs)))
    step("computing error budgets")
    assessment = assess(frame, settings.spec, settings.as_of, runs=runs, explain=True)
    step("counting retries")
    return assessment, retry_summary(frame, window.since, settings.as_of)


def write_nightly(report: dict[str, Any], settings: Settings,
                  step: Callable[[str], None] = no_step) -> Path:
    """<date><variant>.* always; latest<variant>.* only when this report is not older than
    the one there (rebuilding a past night leaves latest alone).  All files or none."""
    from slo.report import render_report, write_files

    base = settings.out_dir / f"{settings.as_of.date().isoformat()}{settings.variant}"
    step("rendering the report (JSON, Markdown, HTML with charts)")
    texts = render_report(report, base, html=True)
    latest = settings.out_dir / f"latest{settings.variant}.json"
    if _not_older(settings, latest):
        texts |= {path.with_name(f"latest{settings.variant}{path.suffix}"): text
                  for path, text in texts.items()}
    step(f"writing the report to {settings.out_dir}")
    write_files(texts)
    return base.with_suffix(".html")


def _not_older(settings: Settings, latest: Path) -> bool:
    import json

    from slo.settings import parse_time

    try:
        shown = parse_time(json.loads(latest.read_text(encoding="utf-8"))["as_of"])
    except (OSError, ValueError, KeyError, TypeError):  # none yet, or unreadable: replace it
        return True
    return settings.as_of.replace(microsecond=0) >= shown


def print_readiness(verdict: dict[str, Any]) -> None:
    judged = ", ".join(verdict["envs"]) or "all environments"
    print(f"\ngo-live readiness ({judged}): {verdict['verdict']}")
    for reason in verdict["reasons"]:
        print(f"  - {reason}")
