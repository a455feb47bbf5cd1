"""`python -m slo`: the nightly report over all run folders, one run's report, OpenSLO export.

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

import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from runner.shared.errors import (
    EXIT_INVALID,
    EXIT_OK,
    EXIT_RUN_FAILED,
    EXIT_SLO_BREACHED,
    ConfigError,
)

if TYPE_CHECKING:
    import polars as pl

    from slo.read import EventData, RunSource
    from slo.report import WriteError

T = TypeVar("T")
EVENT_COLUMNS = ["ts", "run_id", "env", "phase", "kind", "name", "ok", "latency_ms"]
# A report's moment outside this is a typo (year 0001 would also overflow the window arithmetic).
AS_OF_RANGE = (datetime(1970, 1, 1, tzinfo=timezone.utc),
               datetime(2100, 1, 1, tzinfo=timezone.utc))
AS_OF_ALLOWED = ("an ISO 8601 time from 1970-01-01 to 2099-12-31 such as 2026-11-24T02:00:00Z, "
                 "or null for now")
RUN_FOLDER = "a run folder such as outputs/runs/<date>/<time>_<env>"
# What to do when an output cannot be written, by the setting that named it.
OUTPUT_FIX = {
    "out_dir": "allowed: a folder you can create and write to, e.g. "
               "out_dir=outputs/reports/nightly",
    "run_dir": "fix: make the run folder writable, or copy it elsewhere and pass that copy",
    "export_openslo": "allowed: a file in a folder you can write to, e.g. export_openslo=slo.yaml",
}


class DataError(Exception):
    """The run folders could not be read even file by file (exit 1: not a setting's fault)."""


def columns(settings: Settings) -> list[str]:
    """Only the event columns the reports and the objectives' conditions need are read."""
    return list(dict.fromkeys([*EVENT_COLUMNS, *settings.spec.columns]))


def parse_time(value: Any) -> datetime:
    """An ISO 8601 time (naive means UTC) within AS_OF_RANGE -> an aware UTC datetime; else
    ValueError saying what is wrong ('is not allowed' / 'is out of range')."""
    text = str(value).strip()
    if text[-1:] in ("Z", "z"):
        text = text[:-1] + "+00:00"
    try:
        moment = datetime.fromisoformat(text)
        moment = (moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None
                  else moment.astimezone(timezone.utc))
    except (ValueError, OverflowError):  # OverflowError: 0001-01-01T00:00+01:00 in UTC
        raise ValueError("is not allowed") from None
    if not AS_OF_RANGE[0] <= moment < AS_OF_RANGE[1]:
        raise ValueError("is out of range")
    return moment


def parse_as_of(value: Any) -> datetime:
    """None -> now; an ISO 8601 time (naive means UTC) -> an aware UTC datetime."""
    if value is None:
        return datetime.now(timezone.utc)
    try:
        return parse_time(value)
    except ValueError as exc:
        raise ConfigError(f"as_of: {value!r} {exc}; allowed: {AS_OF_ALLOWED}") from None


def with_window(slo: dict[str, Any], window: str | None) -> dict[str, Any]:
    """The slo node with every objective's timeWindow replaced by `window` (when given)."""
    if window is None or not isinstance(slo.get("objectives"), dict):
        return slo
    from slo.durations import parse_duration

    try:
        parse_duration(str(window))
    except ValueError as exc:
        raise ConfigError(f"window: {exc}") from None
    objectives = {name: {**o, "timeWindow": str(window)} if isinstance(o, dict) else o
                  for name, o in slo["objectives"].items()}
    return {**slo, "objectives": objectives}


def run_dir_problem(run_dir: Path) -> str | None:
    """Why `run_dir` is not a run folder, or None.  A folder with only `.hydra/` or result.json
    is one (a run that recorded nothing): its report says so rather than failing."""
    allowed = f"; allowed: {RUN_FOLDER}"
    if not run_dir.exists():
        return f"run_dir: {run_dir} does not exist{allowed}"
    if not run_dir.is_dir():
        return f"run_dir: {run_dir} is a file, not a folder{allowed}"
    if not any((run_dir / name).exists() for name in
               ("metrics.parquet", "events.jsonl", "result.json", ".hydra")):
        return (f"run_dir: {run_dir} holds no metrics.parquet, events.jsonl, result.json or "
                f".hydra/{allowed}")
    return None


@dataclass(frozen=True)
class Settings:
    spec: Any
    as_of: datetime
    roots: list[Path]
    out_dir: Path
    run_dir: Path | None
    export_openslo: Path | None
    fail_on_breach: bool
    progress: str
    log_level: str

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Settings:
        """The command's settings, or ConfigError with one line per problem: the schema's
        first (types, ranges, allowed values), then the objectives and what a schema cannot
        say."""
        from runner.shared.schemas import schema_problems
        from slo.spec import load_objectives

        problems = schema_problems(config, "nightly", package="slo.schemas")
        if problems:
            raise ConfigError(problems)
        spec = as_of = None
        try:
            spec = load_objectives(with_window(config["slo"], config["window"]))
        except ConfigError as error:
            problems += error.problems
        try:
            as_of = parse_as_of(config["as_of"])
        except ConfigError as error:
            problems += error.problems
        run_dir = Path(config["run_dir"]) if config["run_dir"] is not None else None
        problem = run_dir_problem(run_dir) if run_dir is not None else None
        if problem:
            problems.append(problem)
        if problems:
            raise ConfigError(problems)
        assert spec is not None and as_of is not None
        export = config["export_openslo"]
        return cls(
            spec=spec,
            as_of=as_of,
            roots=[Path(r) for r in config["roots"]],
            out_dir=Path(config["out_dir"]),
            run_dir=run_dir,
            export_openslo=Path(export) if export is not None else None,
            fail_on_breach=config["fail_on_breach"],
            progress={True: "true", False: "false"}.get(config["progress"], "auto"),
            log_level=config["log_level"],
        )

    @property
    def output_key(self) -> str:
        """The setting that names what this command writes."""
        if self.export_openslo is not None:
            return "export_openslo"
        return "run_dir" if self.run_dir is not None else "out_dir"


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


def _verdict(settings: Settings, objectives: list[dict[str, Any]]) -> int:
    """Exit 3 when asked to and an objective is breached or has no budget left."""
    from loguru import logger

    exhausted = [o["name"] for o in objectives if o["status"] == "breached"
                 or (o["budget_remaining"] is not None and o["budget_remaining"] <= 0)]
    if exhausted and settings.fail_on_breach:
        logger.error(f"error budget breached or exhausted: {', '.join(exhausted)} "
                     "(fail_on_breach=true): exit 3")
        return EXIT_SLO_BREACHED
    return EXIT_OK


def _print_table(objectives: list[dict[str, Any]]) -> None:
    from runner.shared.tables import format_table

    def pct(value: float | None) -> str:
        return "-" if value is None else f"{value * 100:.3f}%"

    print(format_table(
        ["objective", "status", "SLI", "target", "budget left", "alerts firing"],
        [[o["name"], o["status"], pct(o["sli"]), pct(o["target"]), pct(o["budget_remaining"]),
          ", ".join(f"{a['severity']} {a['long']}/{a['short']}" for a in o["alerts"]
                    if a["firing"]) or "-"]
         for o in objectives]))


def read_and_use(sources: list[RunSource], since: datetime | None, settings: Settings,
                 use: Callable[[EventData], T], progress: Any = None) -> tuple[EventData, T]:
    """load_events, then `use(data)` (where the lazy scan runs).  A parquet whose footer is
    fine but whose data pages are not fails only there: then read again, decoding each parquet
    on its own first, so that file is skipped (its journal read instead) and the rest used."""
    from loguru import logger

    from slo.read import first_line, load_events, read_errors

    data = load_events(sources, since, columns(settings), progress=progress)
    try:
        return data, use(data)
    except read_errors() as error:
        logger.warning(f"a metrics.parquet's data cannot be read ({first_line(error)}); "
                       "checking each file on its own")
    data = load_events(sources, since, columns(settings), progress=_stoppable(None),
                       check_pages=True)
    try:
        return data, use(data)
    except read_errors() as error:
        raise DataError(f"run folders: cannot be read even file by file "
                        f"({first_line(error)})") from None


def data_quality(data: EventData, skipped: list[dict[str, str]]) -> dict[str, Any]:
    """The report's data-quality section: what was read, what was left out and why."""
    return {"files_read": len(data.used),
            "journals_read": sum(1 for p in data.used if Path(p).name == "events.jsonl"),
            "skipped": [*skipped, *data.skipped], "journal_bad_lines": data.journal_bad_lines,
            "invalid_events": data.invalid_events, "partly_read": data.partly_read}


def _warn_quality(quality: dict[str, Any]) -> None:
    from loguru import logger

    skipped, partly = len(quality["skipped"]), len(quality["partly_read"])
    if skipped or partly:
        logger.warning(f"{skipped} file(s) or folder(s) skipped, {partly} read in part; see the "
                       "data-quality section")


def _short(value: Any) -> str:
    shown = repr(value)
    return shown if len(shown) <= 60 else shown[:57] + "..."


def read_result(path: Path) -> tuple[dict[str, Any], list[dict[str, str]]]:
    """result.json's run_id, env and ended_at (parsed), each only when usable, and what was
    not as data-quality notes: a run's report never fails on its result.json."""
    if not path.is_file():
        return {}, []
    try:
        result = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError) as error:  # ValueError: not UTF-8, not JSON
        reason = getattr(error, "strerror", None) or str(error).splitlines()[0][:120]
        return {}, [{"path": str(path), "reason": f"unreadable ({reason}); not used"}]
    if not isinstance(result, dict):
        return {}, [{"path": str(path), "reason": f"not a JSON object but {_short(result)}; "
                                                  "not used"}]
    usable: dict[str, Any] = {}
    notes = []
    for key in ("run_id", "env"):
        value = result.get(key)
        if isinstance(value, str) and value:
            usable[key] = value
        elif key in result:
            notes.append(f"{key} {_short(value)} is not a non-empty string; not used")
    if "ended_at" in result:
        try:
            usable["ended_at"] = parse_time(result["ended_at"])
        except ValueError as error:
            notes.append(f"ended_at {_short(result['ended_at'])} {error}; judged as of the "
                         "last event instead")
    return usable, [{"path": str(path), "reason": "; ".join(notes)}] if notes else []


def _first_text(frame: pl.DataFrame, column: str) -> str | None:
    values = frame[column].drop_nulls() if column in frame.columns else []
    return next((v for v in values if isinstance(v, str) and v), None)


def _run_as_of(result: dict[str, Any], frame: pl.DataFrame, settings: Settings,
               notes: list[dict[str, str]], run_dir: Path) -> datetime:
    """The run is judged as of its end: result.json's ended_at, else its last event, else the
    as_of setting; just after it, so the last event counts."""
    if "ended_at" in result:
        return result["ended_at"] + timedelta(microseconds=1)
    last = frame["ts"].max() if frame.height else None
    if isinstance(last, datetime):
        if AS_OF_RANGE[0] <= last < AS_OF_RANGE[1]:
            return last + timedelta(microseconds=1)
        notes.append({"path": str(run_dir), "reason": f"last event at {last} is out of range; "
                      f"judged as of {settings.as_of.isoformat(timespec='seconds')}"})
    return settings.as_of


def rebuild_run(settings: Settings) -> int:
    """(Re)build slo_report.* of one run folder, judged as of the run's end."""
    from slo.compute import assess
    from slo.read import discover, name_invalid
    from slo.report import check_writable, run_report, write_report

    run_dir = settings.run_dir
    assert run_dir is not None
    check_writable(run_dir)  # a read-only run folder fails now, not after reading
    skipped: list[dict[str, str]] = []
    sources = discover([run_dir], skipped)
    result, notes = read_result(run_dir / "result.json")
    data, frame = read_and_use(sources, None, settings, lambda d: d.frame.collect())
    data.partly_read[:0] = notes
    as_of = _run_as_of(result, frame, settings, data.partly_read, run_dir)
    assessment = assess(frame.lazy(), settings.spec, as_of)
    name_invalid(data, assessment.invalid)
    run_id = result.get("run_id") or _first_text(frame, "run_id") or run_dir.name
    env = result.get("env") or _first_text(frame, "env") or "unknown"
    quality = data_quality(data, skipped)
    report = run_report(settings.spec, assessment.objectives, as_of, run_id=run_id, env=env,
                        data_quality=quality)
    written = write_report(report, run_dir / "slo_report")
    _warn_quality(quality)
    _print_table(assessment.objectives)
    print(f"\nreport: {written[0]}")
    return _verdict(settings, assessment.objectives)


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


def _stoppable(progress: Any) -> Any:
    """The progress callback, which also stops the reading loop after a signal."""
    from runner.shared import signals

    def advance(done: int, total: int) -> None:
        signals.checkpoint()
        if progress is not None:
            progress(done, total)

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
        progress=_stoppable(_progress_bar(settings, len(sources))))
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
    _warn_quality(quality)
    _print_table(objectives)
    print(f"\n{len(data.used)} run folder(s) read; report: {base.with_suffix('.html')}")
    return _verdict(settings, objectives)
