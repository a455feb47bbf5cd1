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
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from runner.shared.errors import ConfigError
from slo.budget import EPOCH, Units, objective_report, to_us
from slo.conditions import all_of
from slo.durations import as_utc
from slo.quality import broken
from slo.spec import Objective, SloSpec

if TYPE_CHECKING:
    import polars as pl

BUCKET = timedelta(minutes=1)
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


def _ts_expr(schema: Any) -> pl.Expr:
    """`ts` as Datetime(us, UTC), whatever unit or zone the frame has."""
    import polars as pl

    ts = pl.col("ts")
    dtype = schema["ts"]
    if not isinstance(dtype, pl.Datetime):
        raise ConfigError(f"events: column ts is {dtype}; allowed: a Datetime column")
    if dtype.time_zone is None:
        ts = ts.dt.replace_time_zone("UTC")
    elif dtype.time_zone != "UTC":
        ts = ts.dt.convert_time_zone("UTC")
    return ts.dt.cast_time_unit("us") if dtype.time_unit != "us" else ts


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
    ts = _ts_expr(schema)
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
             bad.sum().cast(pl.Int64).alias(INVALID)]
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


def _expected_slices(fine: pl.DataFrame, key: str, size: int) -> pl.DataFrame:
    """Slice indices overlapping some run's lifetime (first to last event), once each."""
    import polars as pl

    lifetimes = fine.group_by("run_id").agg(pl.col("first_us").min(), pl.col("last_us").max())
    return (lifetimes.select(pl.int_ranges(pl.col("first_us") // size,
                                           pl.col("last_us") // size + 1).alias(key))
            .explode(key).unique().drop_nulls())


def _timeslice_units(fine: pl.DataFrame, i: int, o: Objective, plan: WindowGrid,
                     expected: dict[int, pl.DataFrame]) -> Units:
    import polars as pl

    size = to_us(o.slice)  # type: ignore[arg-type]
    key = plan.slice_keys[size]
    if size not in expected:
        expected[size] = _expected_slices(fine, key, size)
    valid, good = WindowGrid.valid_col(i), WindowGrid.good_col(i)
    per_slice = fine.group_by(key).agg(pl.col(valid).sum(), pl.col(good).sum())
    slices = (expected[size].join(per_slice, on=key, how="left")
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


def evaluate(events: pl.LazyFrame | pl.DataFrame, spec: SloSpec, as_of: datetime,
             bucket: timedelta = BUCKET) -> list[dict[str, Any]]:
    """One JSON-ready report dict per objective, for windows ending at `as_of` (exclusive)."""
    return assess(events, spec, as_of, bucket).objectives


def assess(events: pl.LazyFrame | pl.DataFrame, spec: SloSpec, as_of: datetime,
           bucket: timedelta = BUCKET) -> Assessment:
    """`evaluate`, plus the count of out-of-contract events per run.

    The events are read once: one query, collected once, then every window is derived from
    its small result."""
    import polars as pl

    if not spec.objectives:
        return Assessment([], {})
    plan = make_grid(spec, as_of, bucket)
    # Streaming keeps memory flat however many events there are (100M events: ~390 MiB).
    fine = build_query(events, spec, plan).collect(engine="streaming")
    per_run = fine.group_by("run_id").agg(pl.col(INVALID).sum()).filter(pl.col(INVALID) > 0)
    invalid = dict(zip(per_run["run_id"].to_list(), per_run[INVALID].to_list(), strict=True))
    expected: dict[int, pl.DataFrame] = {}
    reports = []
    for i, o in enumerate(spec.objectives):
        units = (_timeslice_units(fine, i, o, plan, expected) if o.budgeting == "Timeslices"
                 else _occurrence_units(fine, i, plan))
        reports.append(objective_report(o, units, plan.as_of_us, spec.at_risk_below))
    return Assessment(reports, invalid)
