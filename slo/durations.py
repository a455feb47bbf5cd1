"""Durations as the SLO spec writes them ("45s", "5m", "1h", "30d", "2w" <-> timedelta), and
moments in UTC.

The units are OpenSLO's small ones (m is minutes); months, quarters and years are not accepted
because they have no fixed length.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import polars as pl

UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
PATTERN = r"^[1-9][0-9]*[smhdw]$"
_RE = re.compile(PATTERN)
ALLOWED = "a whole number followed by s, m, h, d or w (e.g. 45s, 5m, 1h, 30d)"
MAX_DAYS = 3650  # ten years: a window longer than that is a typo, and dates stay in range


def parse_seconds(text: str) -> int:
    """'5m' -> 300.  Anything else raises ValueError saying what is allowed."""
    if not isinstance(text, str) or not _RE.match(text.strip()):
        raise ValueError(f"{text!r} is not a duration; allowed: {ALLOWED}")
    text = text.strip()
    seconds = int(text[:-1]) * UNITS[text[-1]]
    if seconds > MAX_DAYS * UNITS["d"]:
        raise ValueError(f"{text!r} is too long; allowed: at most {MAX_DAYS}d")
    return seconds


def parse_duration(text: str) -> timedelta:
    """'30d' -> timedelta(days=30)."""
    return timedelta(seconds=parse_seconds(text))


def format_duration(value: timedelta | float | int) -> str:
    """timedelta(days=7) -> '7d'; the largest of d, h, m, s that divides it exactly."""
    seconds = value.total_seconds() if isinstance(value, timedelta) else float(value)
    if seconds <= 0:
        raise ValueError(f"{seconds!r} s is not a duration; allowed: a positive duration")
    if seconds != int(seconds):
        return f"{seconds:.6f}".rstrip("0") + "s"
    whole = int(seconds)
    for unit in ("d", "h", "m"):
        if whole % UNITS[unit] == 0:
            return f"{whole // UNITS[unit]}{unit}"
    return f"{whole}s"


def as_utc(moment: datetime) -> datetime:
    """The same moment in UTC; a naive datetime is taken to be UTC already."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc)


def utc_timestamps(schema: Any) -> pl.Expr:
    """`ts` as Datetime(us, UTC), whatever unit or zone the frame has."""
    import polars as pl

    ts = pl.col("ts")
    dtype = schema["ts"]
    if not isinstance(dtype, pl.Datetime):
        from runner.shared.errors import ConfigError

        raise ConfigError(f"events: column ts is {dtype}; allowed: a Datetime column")
    if dtype.time_zone is None:
        ts = ts.dt.replace_time_zone("UTC")
    elif dtype.time_zone != "UTC":
        ts = ts.dt.convert_time_zone("UTC")
    return ts.dt.cast_time_unit("us") if dtype.time_unit != "us" else ts
