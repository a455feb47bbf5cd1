"""Request admission as Binance does it: SIGNED checks and request weight per rolling minute.

The checks and their error codes mirror api.binance.com so a real client's signing, clock and
rate-limit handling are exercised, not just its happy path.
"""

from __future__ import annotations

import hashlib
import hmac
import threading
import time
from collections import deque
from collections.abc import Callable

from adapters.sim import binance_wire as wire
from adapters.sim.params import int_param

DEFAULT_API_KEY = "sim-api-key"
DEFAULT_API_SECRET = "sim-api-secret"
DEFAULT_RECV_WINDOW_MS = 5_000
DEFAULT_WEIGHT_LIMIT = 6_000
MAX_RECV_WINDOW_MS = 60_000

Weight = Callable[[dict[str, str]], int]


def _unsigned(raw: str) -> str:
    """A query string or form body without its signature parameter (what was signed)."""
    return "&".join(p for p in raw.split("&") if p and not p.startswith("signature="))


class Signer:
    """Binance's SIGNED checks: API key, HMAC-SHA256 of query+body, timestamp window."""

    def __init__(self, api_key: str, api_secret: str, recv_window_ms: int,
                 server_time: Callable[[], int]) -> None:
        self.api_key, self._secret = api_key, api_secret.encode()
        self.recv_window_ms = int(recv_window_ms)
        self._server_time = server_time

    def check(self, key: str | None, query: str, body: str, params: dict[str, str]) -> None:
        """Raise the ApiError Binance would answer, or return when the request may proceed."""
        if not key:
            raise wire.ApiError(401, -2014, "API-key format invalid.")
        if not hmac.compare_digest(key.encode(), self.api_key.encode()):
            raise wire.ApiError(401, -2015, "Invalid API-key, IP, or permissions for action.")
        signature = params.get("signature")
        if not signature:
            raise wire.missing("signature")
        if "timestamp" not in params:
            raise wire.missing("timestamp")
        signed = _unsigned(query) + _unsigned(body)
        expected = hmac.new(self._secret, signed.encode(), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, signature.lower()):
            raise wire.ApiError(400, -1022, "Signature for this request is not valid.")
        self.check_time(params)

    def check_time(self, params: dict[str, str]) -> None:
        """The timestamp window alone: also applied when a delayed request is finally carried
        out, as Binance's engine refuses a request older than its recvWindow."""
        timestamp = int_param(params, "timestamp")
        window = int_param(params, "recvWindow", self.recv_window_ms)
        if window > MAX_RECV_WINDOW_MS:
            raise wire.ApiError(400, -1131, "recvWindow must be less than 60000")
        now = self._server_time()
        if timestamp >= now + 1_000:
            raise wire.ApiError(400, -1021, "Timestamp for this request was 1000ms ahead of "
                                            "the server's time.")
        if now - timestamp > window:
            raise wire.ApiError(400, -1021, "Timestamp for this request is outside of the "
                                            "recvWindow.")


# -- request weight -----------------------------------------------------------------------------


def by_symbol(with_symbol: int, without: int) -> Weight:
    """A weight that depends on whether one symbol or all are asked for."""
    return lambda p: with_symbol if "symbol" in p else without


def ticker_weight(p: dict[str, str]) -> int:
    """ticker/24hr: 2 for one symbol, growing with the number of `symbols` (all: 80)."""
    if "symbol" in p:
        return 2
    n = len(wire.parse_symbol_list(p["symbols"])) if "symbols" in p else 1_000
    return 2 if n <= 20 else 40 if n <= 100 else 80


def depth_weight(p: dict[str, str]) -> int:
    """depth: 5 up to 100 levels, then 25, 50 and 250."""
    limit = int(p["limit"]) if p.get("limit", "").isdigit() else 100
    return 5 if limit <= 100 else 25 if limit <= 500 else 50 if limit <= 1000 else 250


class WeightWindow:
    """Request weight over the last 60 s (a rolling minute)."""

    def __init__(self) -> None:
        self._events: deque[tuple[float, int]] = deque()
        self._total = 0
        self._lock = threading.Lock()

    def add(self, weight: int) -> tuple[int, float]:
        """Count `weight`; return (used in the last minute, seconds until the oldest expires)."""
        now = time.monotonic()
        with self._lock:
            while self._events and now - self._events[0][0] >= 60.0:
                self._total -= self._events.popleft()[1]
            self._events.append((now, weight))
            self._total += weight
            return self._total, 60.0 - (now - self._events[0][0])

    @property
    def used(self) -> int:
        with self._lock:
            return self._total


def weight_exceeded(limit: int) -> wire.ApiError:
    """Binance's 429 once the minute's weight is over `limit`."""
    return wire.ApiError(429, -1003, "Too much request weight used; current limit "
                                     f"is {limit} request weight per 1 MINUTE.")


# -- unfilled order count and IP bans -------------------------------------------------------------

# exchangeInfo's ORDERS rate limits: header suffix -> (interval in ms, limit, Binance's wording)
# The requests that place orders (the order count's); paths below /api/v3/.
# The requests that place orders -> how many each adds to the unfilled order count (Binance's
# "Unfilled Order Count" per endpoint: an OCO or OTO is 2 orders, an OTOCO 3).
ORDER_PLACING = {("POST", "order"): 1, ("POST", "order/oco"): 2, ("POST", "orderList/oco"): 2,
                 ("POST", "orderList/oto"): 2, ("POST", "orderList/otoco"): 3,
                 ("POST", "order/cancelReplace"): 1, ("POST", "sor/order"): 1}
ORDER_INTERVALS = {"10S": (10_000, "10 SECOND"), "1D": (86_400_000, "1 DAY")}
DEFAULT_ORDER_LIMITS = {"10S": 100, "1D": 200_000}


class OrderCounter:
    """Binance's unfilled order count per fixed, epoch-aligned interval (10 s and a day) on the
    exchange clock: the orders placed in the interval that have not traded (an order's first
    fill takes it off the count, a cancel or expiry does not), as GET rateLimit/order counts
    them.  A successful placement answers X-MBX-ORDER-COUNT-10S / -1D: the count with the new
    order in it (a taker fill is taken off after the answer, as Binance does).  A placement
    that finds an interval's count at its limit is refused with -1015 (HTTP 429).  Binance may
    take more than one off for an order first filled as maker; the simulator takes one."""

    def __init__(self, limits: dict[str, int] | None, now_ms: Callable[[], int],
                 unfilled: Callable[[int], int]) -> None:
        self.limits = {**DEFAULT_ORDER_LIMITS, **(limits or {})}
        unknown = set(self.limits) - set(ORDER_INTERVALS)
        if unknown:
            raise ValueError(f"order limits: unknown interval(s) {sorted(unknown)}; "
                             f"use {sorted(ORDER_INTERVALS)}")
        self._now = now_ms
        self._unfilled = unfilled  # orders placed since a time (ms) that have not traded
        self._lock = threading.Lock()

    def check(self, orders: int = 1) -> dict[str, str]:
        """The headers the answer to a request placing `orders` orders will carry; raise -1015
        (its `retry_after`: the seconds until the interval ends) when they do not fit in an
        interval.  Serialises placements: hold `lock` from here until the orders are placed."""
        now = self._now()
        headers = {}
        for name, limit in self.limits.items():
            size, wording = ORDER_INTERVALS[name]
            count = self._unfilled(now - now % size)
            if count + orders > limit:
                err = wire.ApiError(429, -1015, "Too many new orders; current limit is "
                                                f"{limit} orders per {wording}.")
                err.retry_after = max(1, -(-(size - now % size) // 1_000))  # type: ignore[attr-defined]
                raise err
            headers[f"X-MBX-ORDER-COUNT-{name}"] = str(count + orders)
        return headers

    @property
    def lock(self) -> threading.Lock:
        return self._lock


BAN_MIN_S, BAN_MAX_S = 120, 3 * 86_400  # Binance: bans scale from 2 minutes to 3 days


class BanList:
    """The 429 -> 418 escalation: a client that keeps sending after `after` 429s (over the
    request weight) is banned (HTTP 418, -1003, Retry-After until the ban ends); each new ban
    doubles, from 2 minutes up to 3 days.  Time is monotonic, as the weight window's."""

    def __init__(self, after: int = 10) -> None:
        self.after = int(after)
        self._strikes = 0
        self._until = 0.0
        self._bans = 0
        self._lock = threading.Lock()

    def banned_for(self) -> float:
        """Seconds left of the current ban (0: none)."""
        with self._lock:
            return max(0.0, self._until - time.monotonic())

    def strike(self) -> float:
        """Count a 429; return the ban's length in seconds if this one starts a ban, else 0."""
        with self._lock:
            self._strikes += 1
            if self.after <= 0 or self._strikes <= self.after:
                return 0.0
            length = float(min(BAN_MAX_S, BAN_MIN_S * 2 ** self._bans))
            self._bans += 1
            self._strikes = 0
            self._until = time.monotonic() + length
            return length

    def forgive(self) -> None:
        """A request within the limits: the client backed off."""
        with self._lock:
            self._strikes = 0


def banned(server_time_ms: int, seconds: float) -> wire.ApiError:
    """Binance's 418 for a banned IP."""
    return wire.ApiError(418, -1003, "Way too much request weight used; IP banned until "
                                     f"{server_time_ms + int(seconds * 1000)}. Please use "
                                     "WebSocket Streams for live updates to avoid bans.")
