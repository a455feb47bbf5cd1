"""Binance's kline intervals: where each kline opens, and which klines a request selects.

Kept apart from the price model so the calendar rules (Monday weeks, calendar months, the
`timeZone` parameter) and Binance's startTime/endTime/limit rules can be read in one place.
Klines are identified by their open time; `timeZone` shifts where intervals start, never how
startTime and endTime are read (always UTC), as Binance documents it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime, timezone

SECOND_MS = 1_000
MINUTE_MS = 60_000
HOUR_MS = 3_600_000
DAY_MS = 86_400_000
WEEK_MS = 7 * DAY_MS
MONDAY_MS = 4 * DAY_MS  # 1970-01-05, the first Monday after the epoch: weeks open on Mondays

# Fixed-width intervals (ms), in Binance's order; "1M" is the calendar month.
FIXED_MS: dict[str, int] = {
    "1s": SECOND_MS, "1m": MINUTE_MS, "3m": 3 * MINUTE_MS, "5m": 5 * MINUTE_MS,
    "15m": 15 * MINUTE_MS, "30m": 30 * MINUTE_MS, "1h": HOUR_MS, "2h": 2 * HOUR_MS,
    "4h": 4 * HOUR_MS, "6h": 6 * HOUR_MS, "8h": 8 * HOUR_MS, "12h": 12 * HOUR_MS,
    "1d": DAY_MS, "3d": 3 * DAY_MS, "1w": WEEK_MS,
}
INTERVALS: tuple[str, ...] = (*FIXED_MS, "1M")
_TIME_ZONE = re.compile(r"^([+-]?)(\d{1,2})(?::(\d{2}))?$")


def parse_time_zone(raw: str | None) -> int:
    """Binance's `timeZone` ('8', '-1:00', '05:45') as an offset in ms; ValueError when it is
    malformed or outside [-12:00, +14:00]."""
    if raw is None or raw == "":
        return 0
    match = _TIME_ZONE.match(raw.strip())
    if not match:
        raise ValueError(raw)
    sign = -1 if match.group(1) == "-" else 1
    hours, minutes = int(match.group(2)), int(match.group(3) or 0)
    offset = sign * (hours * 60 + minutes)
    if minutes >= 60 or not -12 * 60 <= offset <= 14 * 60:
        raise ValueError(raw)
    return offset * MINUTE_MS


def open_time(interval: str, t: int, offset: int = 0) -> int:
    """Open time (UTC ms) of the `interval` kline containing `t`, intervals aligned in the
    time zone `offset` ms east of UTC."""
    local = t + offset
    if interval == "1M":
        day = datetime.fromtimestamp(local // 1000, tz=timezone.utc)
        first = datetime(day.year, day.month, 1, tzinfo=timezone.utc)
        return int(first.timestamp()) * 1000 - offset
    width = FIXED_MS[interval]
    anchor = MONDAY_MS if interval == "1w" else 0
    return local - (local - anchor) % width - offset


def next_open(interval: str, opened: int, offset: int = 0) -> int:
    """Open time of the kline after the one opening at `opened`."""
    if interval != "1M":
        return opened + FIXED_MS[interval]
    return open_time(interval, opened + 32 * DAY_MS, offset)


def select(
    interval: str,
    first: int,
    last: int,
    *,
    start: int | None,
    end: int | None,
    limit: int,
    offset: int = 0,
) -> list[int]:
    """Open times of the klines a request selects, oldest first.

    `first`..`last` (ms, inclusive) is the data that exists.  Binance's rules: klines whose open
    time lies in [startTime, endTime]; with startTime the first `limit` of them, otherwise the
    last `limit` (the most recent when neither is sent).
    """
    oldest, newest = open_time(interval, first, offset), open_time(interval, last, offset)
    step: Callable[[int], int] = lambda t: next_open(interval, t, offset)  # noqa: E731
    if end is not None:
        newest = min(newest, open_time(interval, end, offset))
    if start is not None:
        opened = open_time(interval, start, offset)
        opened = opened if opened >= start else step(opened)
        opened = max(opened, oldest)
        out: list[int] = []
        while opened <= newest and len(out) < limit:
            out.append(opened)
            opened = step(opened)
        return out
    out = []
    opened = newest
    while opened >= oldest and len(out) < limit:
        out.append(opened)
        opened = open_time(interval, opened - 1, offset)
    return out[::-1]
