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
