"""Event values the event contract forbids (runner/schemas/event.schema.json), as polars
expressions over whichever event columns a frame has.

Journals are validated line by line when read (runner.shared.events.read_journal); metrics.parquet
rows are not, so without this a NaN latency in a parquet would be counted as a slow call.  The
computation (slo/compute.py) leaves such rows out of every objective and counts them; the
nightly then names the files they came from in the report's data-quality section.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import TYPE_CHECKING

from runner.shared.events import KINDS

if TYPE_CHECKING:
    import polars as pl

MAX_LATENCY_MS = 1e12  # the event schema's maximum


def rules(columns: Collection[str]) -> dict[str, pl.Expr]:
    """What is wrong -> an expression that is true for a row that is wrong so (never null: a
    null value is wrong only in a column that must not hold one)."""
    import polars as pl

    out: dict[str, pl.Expr] = {}
    if "ts" in columns:
        out["ts is null"] = pl.col("ts").is_null()
    for name in ("run_id", "env", "name"):
        if name in columns:
            out[f"{name} is null or empty"] = pl.col(name).is_null() | (pl.col(name) == "")
    if "kind" in columns:
        kind = pl.col("kind")
        out["kind is not one of " + ", ".join(KINDS)] = kind.is_null() | ~kind.is_in(KINDS)
    if "ok" in columns:
        out["ok is null"] = pl.col("ok").is_null()
    if "latency_ms" in columns:
        latency = pl.col("latency_ms")
        out["latency_ms is NaN or infinite"] = (latency.is_nan() | latency.is_infinite()
                                                ).fill_null(False)
        out[f"latency_ms is negative or above {MAX_LATENCY_MS:g}"] = (
            latency.is_finite() & ((latency < 0) | (latency > MAX_LATENCY_MS))).fill_null(False)
    if "attempt" in columns:
        attempt = pl.col("attempt")
        out["attempt is null or below 1"] = attempt.is_null() | (attempt < 1)
    return out


def broken(columns: Collection[str]) -> pl.Expr:
    """True for a row that breaks any rule, false otherwise (never null)."""
    import polars as pl

    checks = list(rules(columns).values())
    if not checks:
        return pl.lit(False)
    return pl.any_horizontal(checks).fill_null(False)
