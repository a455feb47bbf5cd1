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
objective is breached or its budget is exhausted and `fail_on_breach` is set.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

from runner.shared.errors import (
    EXIT_INVALID,
    EXIT_OK,
    EXIT_RUN_FAILED,
    ConfigError,
)

if TYPE_CHECKING:

    from slo.report import WriteError

from slo.rebuild import rebuild_run
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
    show = settings.progress == "true" or (
        settings.progress == "auto" and total_hint >= 50 and sys.stderr.isatty())
    if not show:
        return None
    from tqdm import tqdm

    bar = tqdm(total=total_hint, unit="run", desc="reading run folders", file=sys.stderr)

    def advance(done: int, total: int) -> None:
        bar.total = total
        bar.n = done
        bar.refresh()
        if done >= total:
            bar.close()

    return advance


def nightly(settings: Settings) -> int:
    from loguru import logger

    from runner.shared import signals
    from slo.compute import assess
    from slo.read import discover, name_invalid
    from slo.report import check_writable, nightly_report, render_report, write_files

    check_writable(settings.out_dir)  # an unwritable out_dir fails now, not after reading
    roots = [r for r in settings.roots if r.is_dir()]
    missing = [str(r) for r in settings.roots if not r.is_dir()]
    if missing:
        logger.warning(f"roots not found (nothing read there): {', '.join(missing)}")
    skipped: list[dict[str, str]] = []
    sources = discover(roots, skipped)
    since = settings.as_of - settings.spec.horizon  # the longest window, alert windows included
    data, assessment = read_and_use(
        sources, since, settings, lambda d: assess(d.frame, settings.spec, settings.as_of),
        progress=stoppable(_progress_bar(settings, len(sources))))
    name_invalid(data, assessment.invalid, (since, settings.as_of))
    signals.checkpoint()  # the last moment before anything is written
    objectives = assessment.objectives
    quality = data_quality(data, skipped)
    report = nightly_report(settings.spec, objectives, settings.as_of, data_quality=quality,
                            runs=len(data.used))
    base = settings.out_dir / settings.as_of.date().isoformat()
    texts = render_report(report, base, html=True)
    texts |= {path.with_name(f"latest{path.suffix}"): text for path, text in texts.items()}
    write_files(texts)  # <date>.* and latest.*: all or none
    warn_quality(quality)
    print_table(objectives)
    print(f"\n{len(data.used)} run folder(s) read; report: {base.with_suffix('.html')}")
    return verdict(settings, objectives)
