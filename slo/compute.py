"""Error budgets (docs/SLO.md) from metric events, reading the events exactly once.

`evaluate` builds ONE lazy query over the events: keep `as_of - horizon <= ts < as_of`, then
group by (run_id, bucket, slice) and count, for every objective at once, its valid and its
valid-and-good events, plus the first and last event time of each group.  That query is
collected once; the result is tiny (one row per run and minute that had events).  Every window
— an objective's timeWindow, each alert tier's long and short window — and the burn-down series
are then sums over that small frame:

- Occurrences: buckets are aligned to `as_of` (bucket j holds as_of - j*b <= ts < as_of -
  (j-1)*b), and b divides every window, so a window is exactly the buckets j <= W / b.
  b is the requested bucket (1 min) reduced to the gcd with every window (a 45s window gives
  15s buckets), so no window is ever approximated.
- Timeslices: slices are aligned to the UTC clock (timeSliceWindow divides a day).  Expected
  slices are those overlapping some run's lifetime [first event, last event] and the window;
  runs sharing a slice share it.  A slice is good when it holds >= 1 valid event and all of its
  valid events are good; an expected slice without a valid event is bad (nobody was alive to
  say so).  valid = expected slices, good = good slices, coverage = measured / expected.

The budget arithmetic on those sums (exact fractions, then rounded) is slo/budget.py's.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from runner.shared.errors import ConfigError
from slo.budget import EPOCH, Units, objective_report, to_us
from slo.conditions import all_of
from slo.durations import as_utc, utc_timestamps
from slo.quality import broken
from slo.runs import RunInfo, completion_frame, lifetimes_frame
from slo.spec import Objective, SloSpec

if TYPE_CHECKING:
    import polars as pl

BUCKET = timedelta(minutes=1)
EVENTS = "events"  # the query's count of rows per group (a run's events, for the run tables)
INVALID = "invalid"  # the query's count of rows that break the event contract (slo/quality.py)


# -- the one query ---------------------------------------------------------------------


@dataclass(frozen=True)
class WindowGrid:
    """How the query lays out its buckets, and the column names of each objective's counts."""

    as_of_us: int
    start_us: int
    bucket_us: int
    slice_keys: dict[int, str]  # slice size (us) -> key column

    @staticmethod
    def valid_col(i: int) -> str:
        return f"valid_{i}"

    @staticmethod
    def good_col(i: int) -> str:
        return f"good_{i}"


def make_grid(spec: SloSpec, as_of: datetime, bucket: timedelta = BUCKET) -> WindowGrid:
    as_of_us = to_us(as_utc(as_of) - EPOCH)
    bucket_us = to_us(bucket)
    if bucket_us <= 0:
        raise ValueError(f"bucket must be positive, not {bucket}")
    starts = []
    slice_keys: dict[int, str] = {}
    for o in spec.objectives:
        start = as_of_us - to_us(o.horizon)
        if o.budgeting == "Timeslices" and o.slice is not None:
            size = to_us(o.slice)
            slice_keys.setdefault(size, f"slice_{len(slice_keys)}")
            start = start // size * size  # whole slices: the first one is judged on all events
        else:
            for window in (o.window, *o.burn_windows):
                bucket_us = math.gcd(bucket_us, to_us(window))
        starts.append(start)
    return WindowGrid(as_of_us=as_of_us, start_us=min(starts, default=as_of_us),
                      bucket_us=bucket_us, slice_keys=slice_keys)


def build_query(events: pl.LazyFrame | pl.DataFrame, spec: SloSpec, plan: WindowGrid
                ) -> pl.LazyFrame:
    """The single aggregation over the events that every number of the report comes from."""
    import polars as pl

    events = events.lazy()
    schema = events.collect_schema()
    missing = [c for c in spec.columns if c not in schema]
    if missing:
        raise ConfigError(f"events: column(s) {', '.join(missing)} are used by the objectives "
                          f"but not in the events read (columns: {', '.join(schema.names())})")
    ts = utc_timestamps(schema)
    bad = broken(schema.names())  # out-of-contract rows (NaN latency, ...): counted, never judged
    start = EPOCH + timedelta(microseconds=plan.start_us)
    as_of = EPOCH + timedelta(microseconds=plan.as_of_us)
    ts_us = ts.dt.epoch("us")
    keys = [
        pl.col("run_id"),
        ((plan.as_of_us - ts_us + plan.bucket_us - 1) // plan.bucket_us).alias("j"),
        *((ts_us // size).alias(key) for size, key in plan.slice_keys.items()),
    ]
    aggs = []
    for i, o in enumerate(spec.objectives):
        valid = all_of(o.valid) & ~bad
        aggs.append(valid.sum().cast(pl.Int64).alias(plan.valid_col(i)))
        aggs.append((valid & all_of(o.good)).sum().cast(pl.Int64).alias(plan.good_col(i)))
    aggs += [ts_us.min().alias("first_us"), ts_us.max().alias("last_us"),
             bad.sum().cast(pl.Int64).alias(INVALID), pl.len().cast(pl.Int64).alias(EVENTS)]
    return (events.filter((ts >= start) & (ts < as_of))
            .group_by(keys).agg(aggs))


def _occurrence_units(fine: pl.DataFrame, i: int, plan: WindowGrid) -> Units:
    import polars as pl

    valid, good = WindowGrid.valid_col(i), WindowGrid.good_col(i)
    per_bucket = (fine.group_by("j").agg(pl.col(valid).sum(), pl.col(good).sum())
                  .filter(pl.col(valid) > 0).sort("j", descending=True))
    starts = [plan.as_of_us - j * plan.bucket_us for j in per_bucket["j"].to_list()]
    counts = per_bucket[valid].to_list()
    return Units.of(starts, plan.bucket_us, counts, per_bucket[good].to_list(),
                    [1 if c else 0 for c in counts])


def alive_slices(fine: pl.DataFrame, key: str, size: int, plan: WindowGrid,
                 lifetimes: pl.DataFrame | None) -> pl.DataFrame:
    """(run_id, slice, downtime) for every slice a run was alive in, within the query's range.

    A lifetime runs from the run's start to its end as its run folder tells them
    (slo/runs.py: result.json, or a crashed run's journal), else from its first to its last
    event in the range; a crashed run's lifetime takes one more slice (`downtime`: its crash)."""
    import polars as pl

    spans = fine.group_by("run_id").agg(pl.col("first_us").min(), pl.col("last_us").max())
    if lifetimes is not None and lifetimes.height:
        spans = spans.join(lifetimes, on="run_id", how="full", coalesce=True).select(
            "run_id", pl.min_horizontal("start_us", "first_us").alias("first_us"),
            pl.max_horizontal("end_us", "last_us").alias("last_us"),
            pl.col("crashed").fill_null(False).cast(pl.Int64).alias("extra"))
    else:
        spans = spans.with_columns(pl.lit(0, pl.Int64).alias("extra"))
    crash = pl.col("last_us") // size + pl.col("extra")
    first = (pl.col("first_us") // size).clip(lower_bound=plan.start_us // size)
    last = crash.clip(upper_bound=plan.as_of_us // size)
    return (spans.drop_nulls(["first_us", "last_us"])
            .select("run_id", first.alias("lo"), last.alias("hi"),
                    pl.when(pl.col("extra") > 0).then(crash).alias("crash"))
            .filter(pl.col("lo") <= pl.col("hi"))
            .select("run_id", "crash", pl.int_ranges(pl.col("lo"), pl.col("hi") + 1).alias(key))
            .explode(key)
            .select("run_id", key, (pl.col(key) == pl.col("crash")).fill_null(False)
                    .alias("downtime")))


def _timeslice_units(fine: pl.DataFrame, i: int, o: Objective, plan: WindowGrid,
                     alive: dict[int, pl.DataFrame], lifetimes: pl.DataFrame | None) -> Units:
    import polars as pl

    size = to_us(o.slice)  # type: ignore[arg-type]
    key = plan.slice_keys[size]
    if size not in alive:
        alive[size] = alive_slices(fine, key, size, plan, lifetimes)
    valid, good = WindowGrid.valid_col(i), WindowGrid.good_col(i)
    per_slice = fine.group_by(key).agg(pl.col(valid).sum(), pl.col(good).sum())
    slices = (alive[size].select(key).unique().join(per_slice, on=key, how="left")
              .with_columns(pl.col(valid, good).fill_null(0))
              .sort(key))
    measured = (slices[valid] > 0).cast(pl.Int64).to_list()
    all_good = ((slices[valid] > 0) & (slices[good] == slices[valid])).cast(pl.Int64).to_list()
    return Units.of([s * size for s in slices[key].to_list()], size, [1] * slices.height,
                    all_good, measured)


@dataclass(frozen=True)
class Assessment:
    """The objectives' reports, and per run_id how many of its events in the horizon broke the
    event contract and were left out (only runs that had some)."""

    objectives: list[dict[str, Any]]
    invalid: dict[str | None, int]
    events_by_run: dict[str | None, int] = field(default_factory=dict)  # in the horizon
    # {objective: {run_id: bad events or slices}}, when explained (slo/causes.py)
    bad_by_run: dict[str, dict[str, int]] = field(default_factory=dict)


def evaluate(events: pl.LazyFrame | pl.DataFrame, spec: SloSpec, as_of: datetime,
             bucket: timedelta = BUCKET) -> list[dict[str, Any]]:
    """One JSON-ready report dict per objective, for windows ending at `as_of` (exclusive)."""
    return assess(events, spec, as_of, bucket).objectives


def with_completions(events: pl.LazyFrame, runs: Sequence[RunInfo]) -> pl.LazyFrame:
    """The events plus one derived `run`/`completion` event per run (slo/runs.py)."""
    import polars as pl

    names = events.collect_schema().names()
    return pl.concat([events, completion_frame(list(runs), names).lazy()],
                     how="vertical_relaxed")


def assess(events: pl.LazyFrame | pl.DataFrame, spec: SloSpec, as_of: datetime,
           bucket: timedelta = BUCKET, runs: Sequence[RunInfo] | None = None, *,
           explain: bool = False) -> Assessment:
    """`evaluate`, plus the count of out-of-contract events per run.

    `runs`: the run folders' facts (slo/runs.py) — their completion events are judged, their
    lifetimes (with a crash's downtime) bound the uptime slices.  `explain`: add each
    objective's contributors (slo/causes.py), from a second read of only the runs that had
    bad events (a shared cache would hold every event in memory: 12 GiB at 100M events).
    Without it the events are read once: one query, collected once, then every window is
    derived from its small result."""
    import polars as pl

    if not spec.objectives:
        return Assessment([], {})
    plan = make_grid(spec, as_of, bucket)
    events = events.lazy()
    if runs:
        events = with_completions(events, runs)
    lifetimes = lifetimes_frame(list(runs)) if runs else None
    # Streaming keeps memory flat however many events there are (100M events: ~390 MiB).
    fine = build_query(events, spec, plan).collect(engine="streaming")
    bad = None
    if explain:  # a second streaming read, of the runs that had bad events only
        from slo.causes import bad_events_query

        bad = bad_events_query(events, spec, plan, fine).collect(engine="streaming")
    per_run = fine.group_by("run_id").agg(pl.col(INVALID, EVENTS).sum())
    with_invalid = per_run.filter(pl.col(INVALID) > 0)
    invalid = dict(zip(with_invalid["run_id"].to_list(), with_invalid[INVALID].to_list(),
                       strict=True))
    events_by_run = dict(zip(per_run["run_id"].to_list(), per_run[EVENTS].to_list(),
                             strict=True))
    alive: dict[int, pl.DataFrame] = {}
    reports = []
    for i, o in enumerate(spec.objectives):
        units = (_timeslice_units(fine, i, o, plan, alive, lifetimes)
                 if o.budgeting == "Timeslices" else _occurrence_units(fine, i, plan))
        reports.append(objective_report(o, units, plan.as_of_us, spec.at_risk_below))
    bad_by_run = {}
    if bad is not None:
        from slo.causes import attach_contributors

        bad_by_run = attach_contributors(reports, spec, plan, bad, fine, alive)
    return Assessment(reports, invalid, events_by_run, bad_by_run)
