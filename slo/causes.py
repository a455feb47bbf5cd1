"""What burned each objective's budget: the bad events (or bad uptime slices) grouped by run,
env, phase, call or check name and error, biggest first.

The grouping runs in the same pass over the events as the budget query (slo/compute.py's
`assess(..., explain=True)` collects both together), so a report that names its causes costs
no second read.  Occurrences: a contributor's `bad` counts its bad events in the window.
Timeslices: it counts the bad slices it failed in; a slice with no measurement at all is
charged to every run alive in it, as "no heartbeat or health check" — or as "run crashed" for
the slice after a crashed run's last event (slo/runs.py).  The run folder, git sha and config
hash are filled in from the run folders' facts by `describe_runs`.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from slo.budget import EPOCH, to_us
from slo.conditions import all_of
from slo.durations import utc_timestamps
from slo.quality import broken

if TYPE_CHECKING:
    import polars as pl

    from slo.compute import WindowGrid
    from slo.runs import RunInfo
    from slo.spec import Objective, SloSpec

TOP = 10
KEYS = ("run_id", "env", "phase", "name", "error")
NO_MEASUREMENT = "no heartbeat or health check"
CRASH = "run crashed"


def _flag(i: int) -> str:
    return f"bad_{i}"


def _window_start(o: Objective, plan: WindowGrid) -> int:
    """The first instant of the objective's window that counts (a whole first slice)."""
    start = plan.as_of_us - to_us(o.window)
    if o.budgeting == "Timeslices" and o.slice is not None:
        size = to_us(o.slice)
        start = start // size * size
    return start


def bad_events_query(events: pl.LazyFrame, spec: SloSpec, plan: WindowGrid,
                     fine: pl.DataFrame) -> pl.LazyFrame:
    """Per (run, env, phase, name, error, slice) how many valid-but-not-good events each
    objective had in its window; only groups with at least one.  Only the runs that `fine`
    (the budget query's result) shows with bad events are read: a parquet's run_id statistics
    let the reader skip the other files."""
    import polars as pl

    bad_in = pl.any_horizontal(*(pl.col(plan.valid_col(i)) > pl.col(plan.good_col(i))
                                 for i in range(len(spec.objectives))))
    runs = fine.filter(bad_in)["run_id"].unique().to_list()
    schema = events.collect_schema()
    if not runs:  # nothing burned any budget: nothing to read
        events = pl.LazyFrame(schema=schema)
    # Filtering by run pays when it lets the reader skip files; when most runs burned budget,
    # a membership test on every row costs more than it saves.
    every_run = len(runs) * 2 > fine["run_id"].n_unique()
    names = schema.names()
    ts = utc_timestamps(schema)
    ts_us = ts.dt.epoch("us")
    bad = broken(names)
    flags = [(all_of(o.valid) & ~all_of(o.good) & ~bad
              & (ts_us >= _window_start(o, plan))).alias(_flag(i))
             for i, o in enumerate(spec.objectives)]
    keys = [pl.col(c) if c in names else pl.lit(None, pl.String).alias(c) for c in KEYS]
    keys += [(ts_us // size).alias(key) for size, key in plan.slice_keys.items()]
    start = EPOCH + timedelta(microseconds=plan.start_us)
    as_of = EPOCH + timedelta(microseconds=plan.as_of_us)
    in_runs = pl.col("run_id").is_in([r for r in runs if r is not None])
    if None in runs:
        in_runs = in_runs | pl.col("run_id").is_null()
    if every_run:
        in_runs = pl.lit(True)
    return (events.filter(in_runs & (ts >= start) & (ts < as_of))
            .select(*keys, *flags)
            .filter(pl.any_horizontal(*(pl.col(_flag(i)) for i in range(len(flags)))))
            .group_by([k.meta.output_name() for k in keys])
            .agg(pl.col(_flag(i)).sum().cast(pl.Int64) for i in range(len(flags))))


def _slice_range(o: Objective, plan: WindowGrid, key: str) -> pl.Expr:
    import polars as pl

    size = to_us(o.slice)  # type: ignore[arg-type]
    return pl.col(key).is_between(_window_start(o, plan) // size, (plan.as_of_us - 1) // size)


def _timeslice_causes(i: int, o: Objective, plan: WindowGrid, bad: pl.DataFrame,
                      fine: pl.DataFrame, alive: pl.DataFrame) -> pl.DataFrame:
    """(keys..., slice) pairs of the bad slices: failed checks, then unmeasured slices."""
    import polars as pl

    key = plan.slice_keys[to_us(o.slice)]  # type: ignore[arg-type]
    in_window = _slice_range(o, plan, key)
    failing = bad.filter((pl.col(_flag(i)) > 0) & in_window).select(*KEYS, key)
    measured = fine.filter(pl.col(plan.valid_col(i)) > 0).select(key).unique()
    empty = (alive.filter(in_window).join(measured, on=key, how="anti")
             .select("run_id", pl.lit(None, pl.String).alias("env"),
                     pl.lit(None, pl.String).alias("phase"),
                     pl.when("downtime").then(pl.lit(CRASH)).otherwise(pl.lit(NO_MEASUREMENT))
                     .alias("name"), pl.lit(None, pl.String).alias("error"), key))
    return pl.concat([failing.cast({key: pl.Int64}), empty.cast({key: pl.Int64})])


def attach_contributors(reports: list[dict[str, Any]], spec: SloSpec, plan: WindowGrid,
                        bad: pl.DataFrame, fine: pl.DataFrame,
                        alive: dict[int, pl.DataFrame]) -> dict[str, dict[str, int]]:
    """Each report gains `contributors` (the top TOP); returns {objective: {run_id: bad}}."""
    import polars as pl

    by_run: dict[str, dict[str, int]] = {}
    for i, (o, report) in enumerate(zip(spec.objectives, reports, strict=True)):
        if o.budgeting == "Timeslices" and o.slice is not None:
            size = to_us(o.slice)
            key = plan.slice_keys[size]
            pairs = _timeslice_causes(i, o, plan, bad, fine, alive.get(size, _no_alive(key)))
            groups = pairs.group_by(KEYS).agg(pl.col(key).n_unique().alias("bad"))
            per_run = pairs.group_by("run_id").agg(pl.col(key).n_unique().alias("bad"))
        else:
            rows = bad.filter(pl.col(_flag(i)) > 0)
            groups = rows.group_by(KEYS).agg(pl.col(_flag(i)).sum().alias("bad"))
            per_run = rows.group_by("run_id").agg(pl.col(_flag(i)).sum().alias("bad"))
        top = groups.sort(["bad", *KEYS], descending=[True, *[False] * len(KEYS)],
                          nulls_last=True).head(TOP)
        report["contributors"] = [{**row, "folder": None, "git_sha": None, "config_hash": None}
                                  for row in top.iter_rows(named=True)]
        by_run[o.name] = {r: int(n) for r, n in per_run.iter_rows() if r is not None}
    return by_run


def _no_alive(key: str) -> pl.DataFrame:
    import polars as pl

    return pl.DataFrame(schema={"run_id": pl.String, key: pl.Int64, "downtime": pl.Boolean})


def relative(folder: Path, base: Path) -> str:
    """A run folder as a link from the folder a report is written in (posix separators)."""
    import os

    try:
        return Path(os.path.relpath(folder.absolute(), base.absolute())).as_posix()
    except ValueError:  # another drive (Windows): an absolute link still works
        return folder.absolute().as_posix()


def describe_runs(reports: Iterable[dict[str, Any]], runs: Iterable[RunInfo],
                  base: Path) -> None:
    """Fill each contributor's folder (relative to `base`), env, git sha and config hash
    from the run folders' facts; contributors of an unknown run keep None."""
    by_id = {r.run_id: r for r in runs if r.run_id}
    for report in reports:
        for row in report.get("contributors", []):
            run = by_id.get(row["run_id"])
            if run is None:
                continue
            row["folder"] = relative(run.folder, base)
            row["env"] = row["env"] or run.env
            row["git_sha"], row["config_hash"] = run.git_sha, run.config_hash
