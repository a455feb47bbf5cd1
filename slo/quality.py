"""Event values that break the event contract (runner/schemas/event.schema.json) in a way that
would change a count, as polars expressions over whichever event columns a frame has.

Journals are validated line by line when read (runner.shared.events.read_journal); metrics.parquet
rows are not, so without this a NaN latency in a parquet would be counted as a slow call and a
null `ok` as a failure.  The computation (slo/compute.py) leaves such rows out of every objective
and counts them; the nightly then names the files they came from in the report's data-quality
section.  Only such values are checked, in one cheap expression on the hot path of the nightly:
an unknown kind or an empty name can never match an objective's conditions, so it is never
counted either way.  A null `final` is within the contract (not an exchange call, or written
before the flag existed), so `final` is not checked.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from datetime import datetime

    import polars as pl

    from slo.read import EventData

MAX_LATENCY_MS = 1e12  # the event schema's maximum


def rules(columns: Collection[str]) -> dict[str, pl.Expr]:
    """What is wrong -> an expression that is true for a row that is wrong so (never null), for
    naming what was left out; `broken` is their union."""
    import polars as pl

    out: dict[str, pl.Expr] = {}
    if "ok" in columns:
        out["ok is null"] = pl.col("ok").is_null()
    if "latency_ms" in columns:
        latency = pl.col("latency_ms")
        out["latency_ms is NaN or infinite"] = (latency.is_nan() | latency.is_infinite()
                                                ).fill_null(False)
        out[f"latency_ms is negative or above {MAX_LATENCY_MS:,.0f}"] = (
            latency.is_finite() & ~latency.is_between(0, MAX_LATENCY_MS)).fill_null(False)
    if "attempt" in columns:
        out["attempt is null or below 1"] = pl.col("attempt").fill_null(0) < 1
    return out


def broken(columns: Collection[str]) -> pl.Expr:
    """True for a row that breaks any rule, false otherwise (never null); the same union as
    `rules`, in as few operations as polars allows (NaN and infinities are never between)."""
    import polars as pl

    out = pl.lit(False)
    if "ok" in columns:
        out = out | pl.col("ok").is_null()
    if "latency_ms" in columns:
        out = out | ~pl.col("latency_ms").is_between(0, MAX_LATENCY_MS).fill_null(True)
    if "attempt" in columns:
        out = out | (pl.col("attempt").fill_null(0) < 1)
    return out


def name_invalid(data: EventData, invalid: dict[str | None, int],
                 window: tuple[datetime, datetime] | None = None) -> None:
    """Record the out-of-contract events the computation left out (slo.compute.assess counts
    them per run_id), naming the parquet files they are in and what was wrong with them, within
    `window` ([since, as_of), the horizon the computation read).

    Journals never hold any (their bad lines were dropped and counted when read), so only the
    parquets are scanned again — and only when there is something to name."""
    import polars as pl

    from runner.shared.events import OPTIONAL_COLUMNS
    from slo.read import first_line, read_errors

    data.invalid_events += sum(invalid.values())
    if not invalid or not data.parquets:
        return
    ids = [i for i in invalid if i is not None]
    wanted = pl.col("run_id").is_in(ids)
    if None in invalid:
        wanted = wanted | pl.col("run_id").is_null()
    if window is not None:
        wanted = wanted & (pl.col("ts") >= window[0]) & (pl.col("ts") < window[1])
    scan = pl.scan_parquet(data.parquets, include_file_paths="_path", hive_partitioning=False,
                           glob=False, extra_columns="ignore")
    # The first file's columns; optional ones may be absent from other files (never checked).
    names = [c for c in scan.collect_schema().names()
             if c != "_path" and c not in OPTIONAL_COLUMNS]
    checks = rules(names)
    try:
        found = (scan.filter(wanted & broken(names))
                 .group_by("_path").agg(pl.len().alias("_n"),
                                        *(e.sum().alias(k) for k, e in checks.items()))
                 .sort("_path").collect(engine="streaming"))
    except read_errors() as error:  # named by run instead of by file
        data.partly_read += [{"path": f"run {i}", "reason": f"{n} event(s) breaking the event "
                              f"contract left out (files not named: {first_line(error)})"}
                             for i, n in invalid.items()]
        return
    for row in found.iter_rows(named=True):
        what = ", ".join(f"{k} ({row[k]})" for k in checks if row[k])
        data.partly_read.append({"path": row["_path"], "reason": f"{row['_n']} event(s) left "
                                 f"out: {what}"})
