"""`python -m slo`: the nightly report over all run folders, one run's report, OpenSLO export.

Bad settings are one-line errors (exit 2); unreadable run folders are skipped, counted and
listed in the report's data-quality section, never fatal.  Exit 3 when an objective is breached
or its budget is exhausted and `fail_on_breach` is set.
"""

from __future__ import annotations

import json
import shutil
import sys
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from runner.errors import EXIT_OK, EXIT_SLO_BREACHED, ConfigError

EVENT_COLUMNS = ["ts", "run_id", "env", "phase", "kind", "name", "ok", "latency_ms"]


def columns(settings: Settings) -> list[str]:
    """Only the event columns the reports and the objectives' conditions need are read."""
    return list(dict.fromkeys([*EVENT_COLUMNS, *settings.spec.columns]))


def parse_as_of(value: Any) -> datetime:
    """None -> now; an ISO 8601 time (naive means UTC) -> an aware UTC datetime."""
    if value is None:
        return datetime.now(timezone.utc)
    text = str(value).strip().replace("Z", "+00:00")
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ConfigError(f"as_of: '{value}' is not allowed; allowed: an ISO 8601 time such as "
                          "2026-11-24T02:00:00Z, or null for now") from None
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment.astimezone(
        timezone.utc)


def with_window(slo: dict[str, Any], window: str | None) -> dict[str, Any]:
    """The slo node with every objective's timeWindow replaced by `window` (when given)."""
    if window is None:
        return slo
    from slo.durations import parse_duration

    try:
        parse_duration(str(window))
    except ValueError as exc:
        raise ConfigError(f"window: {exc}") from None
    objectives = {name: {**o, "timeWindow": str(window)} for name, o in slo["objectives"].items()}
    return {**slo, "objectives": objectives}


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

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Settings:
        from slo.spec import load_objectives

        progress = str(config["progress"]).lower()
        if progress not in ("auto", "true", "false"):
            raise ConfigError(f"progress: '{config['progress']}' is not allowed; "
                              "allowed: auto, true, false")
        run_dir = Path(config["run_dir"]) if config["run_dir"] else None
        if run_dir is not None and not any((run_dir / n).is_file()
                                           for n in ("metrics.parquet", "events.jsonl")):
            raise ConfigError(f"run_dir: {run_dir} holds no metrics.parquet or events.jsonl; "
                              "allowed: a run folder such as outputs/runs/<date>/<time>_<env>")
        return cls(
            spec=load_objectives(with_window(config["slo"], config["window"])),
            as_of=parse_as_of(config["as_of"]),
            roots=[Path(r) for r in config["roots"]],
            out_dir=Path(config["out_dir"]),
            run_dir=run_dir,
            export_openslo=Path(config["export_openslo"]) if config["export_openslo"] else None,
            fail_on_breach=bool(config["fail_on_breach"]),
            progress=progress,
        )


def main(cfg: Any) -> int:
    from runner.app import report_config_error, resolve
    from runner.logs import configure_console

    try:
        config = resolve(cfg)
        settings = Settings.from_config(config)
    except ConfigError as error:
        return report_config_error(error)
    configure_console(config["log_level"])
    if settings.export_openslo is not None:
        return export(settings)
    from runner import signals

    signals.reclaim_from("polars")  # polars' SIGINT hook would raise inside its calls
    if settings.run_dir is not None:
        return rebuild_run(settings)
    try:
        return nightly(settings)
    except signals.Stopped:  # Ctrl-C while reading: nothing was written (runner/signals.py)
        return signals.exit_code(EXIT_OK)


def export(settings: Settings) -> int:
    from loguru import logger

    from runner.files import write_text_atomic
    from slo.openslo import dump_openslo

    path = settings.export_openslo
    path.parent.mkdir(parents=True, exist_ok=True)
    write_text_atomic(dump_openslo(settings.spec), path)
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
    from runner.console import format_table

    def pct(value: float | None) -> str:
        return "-" if value is None else f"{value * 100:.3f}%"

    print(format_table(
        ["objective", "status", "SLI", "target", "budget left", "alerts firing"],
        [[o["name"], o["status"], pct(o["sli"]), pct(o["target"]), pct(o["budget_remaining"]),
          ", ".join(f"{a['severity']} {a['long']}/{a['short']}" for a in o["alerts"]
                    if a["firing"]) or "-"]
         for o in objectives]))


def rebuild_run(settings: Settings) -> int:
    """(Re)build slo_report.* of one run folder, judged as of the run's end."""
    from slo.compute import evaluate
    from slo.read import discover, load_events
    from slo.report import run_report, write_report

    run_dir = settings.run_dir
    data = load_events(discover([run_dir]), None, columns(settings))
    result_file = run_dir / "result.json"
    result = json.loads(result_file.read_text()) if result_file.is_file() else {}
    frame = data.frame.collect()
    if "ended_at" in result:
        as_of = parse_as_of(result["ended_at"]) + timedelta(microseconds=1)
    elif frame.height:
        as_of = frame["ts"].max() + timedelta(microseconds=1)
    else:
        as_of = settings.as_of
    objectives = evaluate(frame.lazy(), settings.spec, as_of)
    run_id = result.get("run_id") or (frame["run_id"][0] if frame.height else run_dir.name)
    env = result.get("env") or (frame["env"][0] if frame.height else "unknown")
    report = run_report(settings.spec, objectives, as_of, run_id=run_id, env=env)
    written = write_report(report, run_dir / "slo_report")
    _print_table(objectives)
    print(f"\nreport: {written[0]}")
    return _verdict(settings, objectives)


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
    from runner import signals

    def advance(done: int, total: int) -> None:
        signals.checkpoint()
        if progress is not None:
            progress(done, total)

    return advance


def nightly(settings: Settings) -> int:
    from loguru import logger

    from runner import signals
    from slo.compute import evaluate
    from slo.read import discover, load_events
    from slo.report import nightly_report, write_report

    roots = [r for r in settings.roots if r.is_dir()]
    missing = [str(r) for r in settings.roots if not r.is_dir()]
    if missing:
        logger.warning(f"roots not found (nothing read there): {', '.join(missing)}")
    sources = discover(roots)
    since = settings.as_of - settings.spec.horizon  # the longest window, alert windows included
    data = load_events(sources, since, columns(settings),
                       progress=_stoppable(_progress_bar(settings, len(sources))))
    signals.checkpoint()  # the last moment before anything is written
    objectives = evaluate(data.frame, settings.spec, settings.as_of)
    quality = {"files_read": len(data.used),
               "journals_read": sum(1 for p in data.used if Path(p).name == "events.jsonl"),
               "skipped": data.skipped, "journal_bad_lines": data.journal_bad_lines}
    report = nightly_report(settings.spec, objectives, settings.as_of, data_quality=quality,
                            runs=len(data.used))
    settings.out_dir.mkdir(parents=True, exist_ok=True)
    written = write_report(report, settings.out_dir / settings.as_of.date().isoformat(),
                           html=True)
    for path in written:  # latest.* : copied, then renamed into place (atomic)
        tmp = path.with_name(f".latest{path.suffix}.tmp")
        shutil.copyfile(path, tmp)
        tmp.replace(path.with_name(f"latest{path.suffix}"))
    if data.skipped:
        logger.warning(f"{len(data.skipped)} file(s) skipped; see the data-quality section")
    _print_table(objectives)
    print(f"\n{len(data.used)} run folder(s) read; report: {written[-1]}")
    return _verdict(settings, objectives)
