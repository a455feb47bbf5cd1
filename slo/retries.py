"""Retries of exchange calls, reported next to the objectives rather than inside them.

Why retries are not part of the error rate: the `error_rate` objective measures what the callers
of the exchange experienced, so it counts each LOGICAL call once, by the outcome of its last
attempt (the event field `final`, runner/shared/events.py).  A read that failed once with a
retryable error and then succeeded was a success for its caller; counting its failed attempt as
an error would make the SLI depend on the retry policy (more retries, more "errors") and charge
the error budget for failures nobody saw.

Retries still matter — each costs latency and request weight (rate limits), and a rising retry
ratio is the early warning of a degrading exchange that the error rate hides until the retries
run out — so they get their own figures here: per (kind, name), the logical calls, the attempts
they took, the retries (attempts beyond the first), how many calls needed one, and how many
calls failed for good.

Events written before `final` existed (null there) carry no call boundaries: each of their
attempts counts as a call, exactly as the error-rate SLI counts them (its `final ne false` is
true for null), so old data shows no retries rather than invented ones; only its attempts
numbered 2 or more still show, as retried calls.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from slo.durations import as_utc

if TYPE_CHECKING:
    import polars as pl

EXCHANGE_KINDS = ("api_call", "order")
# The event columns retry_summary reads (`final` may be absent: old data, counted by attempt).
COLUMNS = ("ts", "kind", "name", "ok", "latency_ms", "attempt", "final")


def _sig(value: float, digits: int = 6) -> float:
    return float(f"{value:.{digits}g}")


def retry_summary(events: pl.LazyFrame | pl.DataFrame, start: datetime,
                  as_of: datetime) -> list[dict[str, Any]]:
    """Per (kind, name) of the exchange calls with `start <= ts < as_of`, JSON-ready:

    - calls: logical calls, i.e. attempts that end one (final true; final null counts each
      attempt as a call);
    - attempts: every attempt; retries = attempts - calls;
    - retried_calls: calls whose last attempt was not their first (attempt > 1);
    - failed_calls: calls whose last attempt failed (what the error-rate SLI counts as bad);
    - retry_ratio: retries per call (None when there are no calls), 6 significant digits.

    Sorted by retries (most first), then kind and name.  Events that break the event contract
    (slo/quality.py: a null `ok`, a bad latency or attempt) are left out, as the objectives
    leave them out.
    """
    import polars as pl

    from slo.quality import broken

    frame = events.lazy()
    names = frame.collect_schema().names()
    final = pl.col("final") if "final" in names else pl.lit(None, pl.Boolean)
    ends = final.fill_null(True)  # the attempt a call ends with (old data: every attempt)
    window = ((pl.col("ts") >= as_utc(start)) & (pl.col("ts") < as_utc(as_of))
              & pl.col("kind").is_in(EXCHANGE_KINDS) & ~broken(names))
    counts = (frame.filter(window)
              .group_by("kind", "name")
              .agg(ends.sum().alias("calls"),
                   pl.len().alias("attempts"),
                   (ends & (pl.col("attempt") > 1)).sum().alias("retried_calls"),
                   (ends & ~pl.col("ok")).sum().alias("failed_calls"))
              .collect(engine="streaming"))
    rows = []
    for row in counts.iter_rows(named=True):
        calls, attempts = int(row["calls"]), int(row["attempts"])
        retries = attempts - calls
        rows.append({"kind": row["kind"], "name": row["name"], "calls": calls,
                     "attempts": attempts, "retries": retries,
                     "retried_calls": int(row["retried_calls"]),
                     "failed_calls": int(row["failed_calls"]),
                     "retry_ratio": _sig(retries / calls) if calls else None})
    rows.sort(key=lambda r: (-r["retries"], r["kind"], r["name"]))
    return rows
