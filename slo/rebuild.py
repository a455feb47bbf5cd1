"""`python -m slo run_dir=...`: (re)build one run's report from its folder, judged as of the
run's own end (result.json, or its last event when result.json cannot be read).
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from slo.budget import EPOCH
from slo.settings import AS_OF_RANGE, Settings, parse_time
from slo.steps import data_quality, print_table, read_and_use, short, verdict, warn_quality

if TYPE_CHECKING:
    import polars as pl


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
        return {}, [{"path": str(path), "reason": f"not a JSON object but {short(result)}; "
                                                  "not used"}]
    usable: dict[str, Any] = {}
    notes = []
    for key in ("run_id", "env"):
        value = result.get(key)
        if isinstance(value, str) and value:
            usable[key] = value
        elif key in result:
            notes.append(f"{key} {short(value)} is not a non-empty string; not used")
    if "ended_at" in result:
        try:
            usable["ended_at"] = parse_time(result["ended_at"])
        except ValueError as error:
            notes.append(f"ended_at {short(result['ended_at'])} {error}; judged as of the "
                         "last event instead")
    return usable, [{"path": str(path), "reason": "; ".join(notes)}] if notes else []


def _first_text(frame: pl.DataFrame, column: str) -> str | None:
    values = frame[column].drop_nulls() if column in frame.columns else []
    return next((v for v in values if isinstance(v, str) and v), None)


def _run_as_of(result: dict[str, Any], frame: pl.DataFrame, settings: Settings,
               notes: list[dict[str, str]], run_dir: Path) -> datetime:
    """The run is judged as of its end: result.json's ended_at, else its last event, else the
    as_of setting; just after it, so the last event counts.  A run without an end never said
    how it ended: it is judged to the end of the slice after its last event, which holds its
    crash (slo/runs.py)."""
    if "ended_at" in result:
        return result["ended_at"] + timedelta(microseconds=1)
    last = frame["ts"].max() if frame.height else None
    if isinstance(last, datetime):
        if AS_OF_RANGE[0] <= last < AS_OF_RANGE[1]:
            slices = [o.slice for o in settings.spec.objectives if o.slice is not None]
            if not slices:
                return last + timedelta(microseconds=1)
            size = max(slices)
            return EPOCH + (last - EPOCH) // size * size + 2 * size
        notes.append({"path": str(run_dir), "reason": f"last event at {last} is out of range; "
                      f"judged as of {settings.as_of.isoformat(timespec='seconds')}"})
    return settings.as_of


def rebuild_run(settings: Settings) -> int:
    """(Re)build slo_report.* of one run folder, judged as of the run's end, as the runner
    itself judged it at its end (runner/phases/report.py: same events, as_of, exit rule)."""
    from slo.causes import describe_runs
    from slo.compute import assess
    from slo.quality import name_invalid
    from slo.read import discover
    from slo.report import check_writable, run_report, write_report
    from slo.retries import retry_summary
    from slo.run_table import crashed_list
    from slo.runs import run_facts

    run_dir = settings.run_dir
    assert run_dir is not None
    check_writable(run_dir)  # a read-only run folder fails now, not after reading
    skipped: list[dict[str, str]] = []
    sources = discover([run_dir], skipped)
    runs = run_facts(sources)
    result, notes = read_result(run_dir / "result.json")
    data, frame = read_and_use(sources, None, settings, lambda d: d.frame.collect())
    data.partly_read[:0] = notes
    as_of = _run_as_of(result, frame, settings, data.partly_read, run_dir)
    assessment = assess(frame.lazy(), settings.spec, as_of, runs=runs, explain=True)
    name_invalid(data, assessment.invalid)
    run_id = result.get("run_id") or _first_text(frame, "run_id") or run_dir.name
    env = result.get("env") or _first_text(frame, "env") or "unknown"
    quality = data_quality(data, skipped)
    describe_runs(assessment.objectives, runs, run_dir)
    report = run_report(settings.spec, assessment.objectives, as_of, run_id=run_id, env=env,
                        data_quality=quality)
    report |= {"crashed": crashed_list(runs, run_dir),
               "retries": retry_summary(frame, EPOCH, as_of)}
    written = write_report(report, run_dir / "slo_report")
    warn_quality(quality)
    if report["crashed"]:
        from loguru import logger

        logger.warning(f"the run crashed: no result.json, last event at "
                       f"{report['crashed'][0]['last_event']}")
    print_table(assessment.objectives)
    print(f"\nreport: {written[0]}")
    return verdict(settings, assessment.objectives)
