"""The steps both report modes of `python -m slo` share (the nightly and `run_dir=`): reading the
events (again file by file when a parquet's data pages are corrupt), the data-quality section,
the console table and the exit code.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from runner.shared.errors import EXIT_OK, EXIT_SLO_BREACHED
from runner.shared.events import JOURNAL_NAMES
from slo.settings import DataError, Settings, columns

if TYPE_CHECKING:
    from slo.read import EventData, RunSource

T = TypeVar("T")


def verdict(settings: Settings, objectives: list[dict[str, Any]],
            readiness: dict[str, Any] | None = None) -> int:
    """The exit code of `python -m slo`, by the same rule as the runner's (runner/verdict.py):
    3 when `fail_on_breach` is set and an objective is breached (its budget overspent), or
    when `fail_on_not_ready` is set and the go-live verdict is NOT READY; else 0."""
    from loguru import logger

    breached = [o["name"] for o in objectives if o["status"] == "breached"]
    if breached and settings.fail_on_breach:
        logger.error(f"error budget breached: {', '.join(breached)} (fail_on_breach=true): "
                     "exit 3")
        return EXIT_SLO_BREACHED
    if readiness is not None and readiness["verdict"] != "READY" and settings.fail_on_not_ready:
        logger.error(f"go-live readiness: {readiness['verdict']} "
                     f"({len(readiness['reasons'])} reason(s); fail_on_not_ready=true): exit 3")
        return EXIT_SLO_BREACHED
    return EXIT_OK


def print_table(objectives: list[dict[str, Any]]) -> None:
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
    data = load_events(sources, since, columns(settings), progress=stoppable(None),
                       check_pages=True)
    try:
        return data, use(data)
    except read_errors() as error:
        raise DataError(f"run folders: cannot be read even file by file "
                        f"({first_line(error)})") from None


def data_quality(data: EventData, skipped: list[dict[str, str]]) -> dict[str, Any]:
    """The report's data-quality section: what was read, what was left out and why."""
    return {"files_read": len(data.used),
            "journals_read": sum(1 for p in data.used if Path(p).name in JOURNAL_NAMES),
            "skipped": [*skipped, *data.skipped], "journal_bad_lines": data.journal_bad_lines,
            "invalid_events": data.invalid_events, "partly_read": data.partly_read}


def warn_quality(quality: dict[str, Any]) -> None:
    from loguru import logger

    skipped, partly = len(quality["skipped"]), len(quality["partly_read"])
    if skipped or partly:
        logger.warning(f"{skipped} file(s) or folder(s) skipped, {partly} read in part; see the "
                       "data-quality section")


def short(value: Any) -> str:
    shown = repr(value)
    return shown if len(shown) <= 60 else shown[:57] + "..."


def stoppable(progress: Any) -> Any:
    """The progress callback, which also stops the reading loop after a signal."""
    from runner.shared import signals

    def advance(done: int, total: int) -> None:
        signals.checkpoint()
        if progress is not None:
            progress(done, total)

    return advance
