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
    import polars as pl

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
