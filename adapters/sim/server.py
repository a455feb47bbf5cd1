"""The simulator core served over HTTP in Binance's spot REST format, for a real ccxt client.

`SimServer` wraps one `Simulator` (the very object the paper adapter uses, so the same seed
gives the same prices) in a stdlib ThreadingHTTPServer on 127.0.0.1.  It checks API keys,
HMAC signatures and recvWindow like Binance, counts request weight per rolling minute
(X-MBX-USED-WEIGHT-1M, 429 over the limit) and injects transport faults per endpoint:
429/418 with Retry-After, 503/500, delays past the client timeout, malformed JSON, dropped
connections and, on POST order, "accepted but response lost" (placed, then dropped).

Fault config (`faults=`), endpoint -> list of rules, tried most specific key first:

    {"POST /api/v3/order": [{"fault": "accepted_but_response_lost", "first": 1}],
     "ticker/24hr": [{"fault": "rate_limit", "first": 2, "retry_after_s": 3}],
     "*": [{"fault": "unavailable", "rate": 0.05}]}

A key is "[METHOD ]path" (path with or without "/api/v3/", or "*"). A rule fires for the first
`first` requests it matches and/or with probability `rate` (seeded RNG, one draw per match).
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import ipaddress
import json
import logging
import math
import random
import socket
import string
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from adapters.sim import binance_wire as wire
from adapters.sim.engine import Simulator
from adapters.sim.faults import FaultInjector
from adapters.sim.latency import LatencyModel

log = logging.getLogger(__name__)

API_PREFIX = "/api/v3/"
DEFAULT_API_KEY = "sim-api-key"
DEFAULT_API_SECRET = "sim-api-secret"
MAX_RECV_WINDOW_MS = 60_000
# ccxt binance options that keep load_markets on /api/v3 (no sapi, no futures hosts).
CCXT_OPTIONS: dict[str, Any] = {
    "defaultType": "spot",
    "fetchMarkets": {"types": ["spot"]},
    "fetchCurrencies": False,
    "fetchMargins": False,
}

FAULT_ALIASES = {"429": "rate_limit", "418": "ip_ban", "503": "unavailable",
                 "500": "server_error", "timeout": "delay", "malformed": "malformed_json",
                 "disconnect": "drop"}
FAULT_KINDS = ("rate_limit", "ip_ban", "unavailable", "server_error", "delay",
               "malformed_json", "drop", "accepted_but_response_lost")
_RULE_KEYS = {"fault", "first", "rate", "retry_after_s", "delay_ms", "body"}
_CORE_FAULTS = {"ExchangeNotAvailable": "unavailable", "RateLimitExceeded": "rate_limit",
                "RequestTimeout": "delay"}


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def point_ccxt(exchange: Any, url: str) -> Any:
    """Rewrite every API base of a ccxt exchange onto `url`, keeping the path.

    'https://api.binance.com/api/v3' becomes f'{url}/api/v3'; sapi/fapi/... bases move too, so
    a stray non-spot call gets the simulator's 404 instead of leaving the machine.
    """
    api = exchange.urls["api"]
    for key, base in list(api.items()):
        if isinstance(base, str):
            api[key] = url.rstrip("/") + (urlsplit(base).path or "")
    return exchange


# -- faults -----------------------------------------------------------------------------------


@dataclass
class HttpFault:
    """One rule: what to do, when (first N matches and/or a seeded rate), and its details."""

    kind: str
    first: int = 0
    rate: float = 0.0
    retry_after_s: float | None = None
    delay_ms: float = 1_000.0
    body: Any = None
    then_drop: bool = False  # a core timeout: after the delay the client is gone
    seen: int = 0
    fired: int = 0

    @classmethod
    def parse(cls, key: tuple[str, str], raw: Mapping[str, Any]) -> HttpFault:
        where = f"faults[{' '.join(key)!r}]"
        if unknown := set(raw) - _RULE_KEYS:
            raise ValueError(f"{where}: unknown keys {sorted(unknown)}; "
                             f"allowed {sorted(_RULE_KEYS)}")
        kind = FAULT_ALIASES.get(str(raw.get("fault")), str(raw.get("fault")))
        if kind not in FAULT_KINDS:
            raise ValueError(f"{where}: fault must be one of {FAULT_KINDS}, "
                             f"got {raw.get('fault')!r}")
        if kind == "accepted_but_response_lost" and key not in (("POST", "order"), ("*", "order")):
            raise ValueError(f"{where}: accepted_but_response_lost applies to POST order only")
        rule = cls(kind, first=int(raw.get("first", 0)), rate=float(raw.get("rate", 0.0)),
                   retry_after_s=raw.get("retry_after_s"),
                   delay_ms=float(raw.get("delay_ms", 1_000.0)), body=raw.get("body"))
        if rule.first < 0 or not 0.0 <= rule.rate <= 1.0 or rule.delay_ms < 0:
            raise ValueError(f"{where}: need first >= 0, 0 <= rate <= 1, delay_ms >= 0")
        if not rule.first and not rule.rate:
            raise ValueError(f"{where}: give 'first' (a count) or 'rate' (a probability)")
        return rule


def _fault_key(key: str) -> tuple[str, str]:
    method, _, path = key.strip().rpartition(" ")
    path = path.lstrip("/")
    path = path[len(API_PREFIX) - 1:] if path.startswith(API_PREFIX.lstrip("/")) else path
    return (method.upper() or "*", path or "*")


class FaultPlan:
    """Per-endpoint HTTP fault rules with their counters and one seeded RNG."""

    def __init__(self, config: Mapping[str, Any] | None, seed: int) -> None:
        self.rules: dict[tuple[str, str], list[HttpFault]] = {}
        for key, rules in (config or {}).items():
            parsed = _fault_key(key)
            listed = [rules] if isinstance(rules, Mapping) else list(rules)
            self.rules[parsed] = [HttpFault.parse(parsed, r) for r in listed]
        self._rng = random.Random(f"{seed}:http-faults")
        self._lock = threading.Lock()

    def pick(self, method: str, path: str) -> HttpFault | None:
        chosen = None
        with self._lock:
            for key in ((method, path), ("*", path), (method, "*"), ("*", "*")):
                for rule in self.rules.get(key, ()):
                    if rule.kind == "accepted_but_response_lost" and (method, path) != (
                            "POST", "order"):
                        continue
                    rule.seen += 1
                    hit = rule.seen <= rule.first
                    if rule.rate:
                        hit = self._rng.random() < rule.rate or hit
                    if hit and chosen is None:
                        rule.fired += 1
                        chosen = rule
        return chosen

    def counts(self) -> dict[str, int]:
        return {f"{m} {p} {r.kind}": r.fired for (m, p), rs in self.rules.items() for r in rs}


class _WeightWindow:
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


# -- routes -----------------------------------------------------------------------------------


def _by_symbol(with_symbol: int, without: int) -> Callable[[dict[str, str]], int]:
    return lambda p: with_symbol if "symbol" in p else without


def _ticker_weight(p: dict[str, str]) -> int:
    if "symbol" in p:
        return 2
    n = len(wire.parse_symbol_list(p["symbols"])) if "symbols" in p else 1_000
    return 2 if n <= 20 else 40 if n <= 100 else 80


def _depth_weight(p: dict[str, str]) -> int:
    limit = int(p["limit"]) if p.get("limit", "").isdigit() else 100
    return 5 if limit <= 100 else 25 if limit <= 500 else 50 if limit <= 1000 else 250


@dataclass(frozen=True)
class Route:
    handler: str  # SimServer method name
    name: str  # the core's endpoint name (latency model, core fault injector)
    signed: bool
    weight: int | Callable[[dict[str, str]], int]


ROUTES: dict[tuple[str, str], Route] = {
    ("GET", "ping"): Route("_ping", "ping", False, 1),
    ("GET", "time"): Route("_time", "server_time", False, 1),
    ("GET", "exchangeInfo"): Route("_exchange_info", "load_markets", False, 20),
    ("GET", "ticker/24hr"): Route("_ticker_24hr", "fetch_ticker", False, _ticker_weight),
    ("GET", "ticker/price"): Route("_ticker_price", "fetch_ticker", False, _by_symbol(2, 4)),
    ("GET", "ticker/bookTicker"): Route("_book_ticker", "fetch_ticker", False,
                                        _by_symbol(2, 4)),
    ("GET", "avgPrice"): Route("_avg_price", "fetch_ticker", False, 2),
    ("GET", "klines"): Route("_klines", "fetch_ohlcv", False, 2),
    ("GET", "uiKlines"): Route("_klines", "fetch_ohlcv", False, 2),
    ("GET", "depth"): Route("_depth", "fetch_order_book", False, _depth_weight),
    ("GET", "account"): Route("_account", "fetch_balance", True, 20),
    ("POST", "order"): Route("_new_order", "create_order", True, 1),
    ("POST", "order/test"): Route("_test_order", "create_order", True, 1),
    ("GET", "order"): Route("_query_order", "fetch_order", True, 4),
    ("DELETE", "order"): Route("_cancel_order", "cancel_order", True, 1),
    ("GET", "openOrders"): Route("_open_orders", "fetch_open_orders", True, _by_symbol(6, 80)),
    ("DELETE", "openOrders"): Route("_cancel_all", "cancel_order", True, 1),
    ("GET", "allOrders"): Route("_all_orders", "fetch_orders", True, 20),
    ("GET", "myTrades"): Route("_my_trades", "fetch_my_trades", True, 20),
}


class _Dropped(Exception):
    """Close the connection without answering."""


# -- the server -------------------------------------------------------------------------------


class SimServer:
    """A Binance-spot-compatible HTTP front end for one Simulator; start()/stop() or `with`."""

    def __init__(
        self,
        simulator: Simulator,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        api_key: str = DEFAULT_API_KEY,
        api_secret: str = DEFAULT_API_SECRET,
        faults: Mapping[str, Any] | None = None,
        recv_window_ms: int = 5_000,
        latency: LatencyModel | None = None,
        injector: FaultInjector | None = None,
        weight_limit: int = 6_000,
        seed: int | None = None,
        allow_remote: bool = False,
    ) -> None:
        if not allow_remote and not is_loopback(host):
            raise ValueError(f"refusing to bind {host!r}: the simulator serves loopback only "
                             "unless allow_remote=True")
        self.sim = simulator
        self.host, self.port = host, int(port)
        self.api_key, self._secret = api_key, api_secret.encode()
        self.recv_window_ms = int(recv_window_ms)
        self.latency = latency
        self.injector = injector
        self.weight_limit = int(weight_limit)
        seed = simulator.market.seed if seed is None else seed
        self.faults = FaultPlan(faults, seed)
        self.weights = _WeightWindow()
        self.requests: deque[tuple[str, str, int | str]] = deque(maxlen=10_000)
        self._markets = simulator.load_markets()
        self._symbols = wire.symbol_index(self._markets)
        self._ids_rng = random.Random(f"{seed}:client-order-ids")
        self._orders: dict[int, tuple[str, str]] = {}  # orderId -> (symbol, clientOrderId)
        self._wire_types: dict[int, str] = {}
        self._taker: set[int] = set()
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._connections: set[socket.socket] = set()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @classmethod
    def from_config(
        cls,
        *,
        seed: int = 42,
        latency: Mapping[str, Any] | None = None,
        faults: Mapping[str, Any] | None = None,
        http_faults: Mapping[str, Any] | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        api_key: str = DEFAULT_API_KEY,
        api_secret: str = DEFAULT_API_SECRET,
        recv_window_ms: int = 5_000,
        weight_limit: int = 6_000,
        allow_remote: bool = False,
        clock: Callable[[], float] | None = None,
        **market_config: Any,
    ) -> SimServer:
        """Build core and server from a paper-style adapter node.

        `faults` are the core's rates (error_rate → 503, timeout_rate → delay of timeout_ms then
        drop, rate_limit_rate → 429), `http_faults` the per-endpoint rules of this module.
        """
        sim = Simulator.create(seed=seed, clock=clock, **market_config)
        return cls(sim, host=host, port=port, api_key=api_key, api_secret=api_secret,
                   faults=http_faults, recv_window_ms=recv_window_ms,
                   latency=LatencyModel.from_config(seed, latency),
                   injector=FaultInjector.from_config(seed, faults) if faults else None,
                   weight_limit=weight_limit, seed=seed, allow_remote=allow_remote)

    # -- lifecycle -------------------------------------------------------------------------

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def start(self) -> SimServer:
        if self._httpd is not None:
            return self
        server_class = _HTTPServer6 if ":" in self.host else _HTTPServer
        self._stopping.clear()
        self._httpd = server_class((self.host, self.port), self)
        self.port = self._httpd.server_address[1]
        self._thread = threading.Thread(target=self._httpd.serve_forever,
                                        kwargs={"poll_interval": 0.05},
                                        name=f"sim-server:{self.port}", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        httpd, self._httpd = self._httpd, None
        if httpd is None:
            return
        self._stopping.set()
        httpd.shutdown()
        httpd.server_close()
        with self._lock:
            connections = list(self._connections)
        for conn in connections:  # idle keep-alive connections would outlive the server
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        if self._thread is not None:
            self._thread.join(5)

    def __enter__(self) -> SimServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- request pipeline ------------------------------------------------------------------

    def handle(self, request: _Handler, method: str) -> None:
        split = urlsplit(request.path)
        length = int(request.headers.get("Content-Length") or 0)
        raw_body = request.rfile.read(length).decode("latin-1") if length else ""
        path = split.path
        sub = path[len(API_PREFIX):] if path.startswith(API_PREFIX) else None
        route = ROUTES.get((method, sub)) if sub is not None else None
        params: dict[str, str] = {}
        for k, v in [*parse_qsl(split.query), *parse_qsl(raw_body)]:
            params.setdefault(k, v)
        weight = route.weight(params) if route and callable(route.weight) else (
            route.weight if route else 1)
        used, oldest_expires = self.weights.add(int(weight))
        headers = {"X-MBX-USED-WEIGHT-1M": str(used), "X-MBX-USED-WEIGHT": str(used)}
        try:
            if route is None:
                self._log(method, path, 404)
                text = f"sim serves Binance spot /api/v3 only; no {method} {path}"
                return self._send(request, 404, text, headers, "text/plain")
            if used > self.weight_limit:
                raise wire.ApiError(429, -1003, "Too much request weight used; current limit "
                                    f"is {self.weight_limit} request weight per 1 MINUTE.")
            fault = self.faults.pick(method, sub) or self._core_fault(route.name)
            lost = fault is not None and fault.kind == "accepted_but_response_lost"
            if fault is not None and not lost:
                self._apply_fault(request, fault, headers, method, path)
            if self.latency is not None and self.latency.mode == "sleep":
                self.latency.spend(route.name)
            if route.signed:
                self._authenticate(request.headers.get("X-MBX-APIKEY"), split.query, raw_body,
                                   params)
            payload = self._call(route, method, params)
            if lost:
                raise _Dropped
        except wire.ApiError as err:
            if err.status in (418, 429):
                headers.setdefault("Retry-After", str(max(1, math.ceil(oldest_expires))))
            self._log(method, path, err.status)
            content_type = getattr(err, "content_type", "application/json;charset=UTF-8")
            return self._send(request, err.status, err.body(), headers, content_type)
        except _Dropped:
            self._log(method, path, "dropped")
            return self._drop(request)
        self._log(method, path, 200)
        return self._send(request, 200, payload, headers)

    def _core_fault(self, name: str) -> HttpFault | None:
        """The core FaultInjector's draw for this endpoint, as an HTTP fault."""
        if self.injector is None:
            return None
        fault = self.injector.draw(name)
        if fault is None:
            return None
        kind = _CORE_FAULTS.get(fault.class_name, "unavailable")
        return HttpFault(kind, first=1, retry_after_s=fault.retry_after_s,
                         delay_ms=fault.timeout_ms, then_drop=kind == "delay")

    def _apply_fault(self, request: _Handler, fault: HttpFault, headers: dict[str, str],
                     method: str, path: str) -> None:
        """Raise the fault's answer, or (delay) wait and let the request through."""
        kind = fault.kind
        if kind in ("rate_limit", "ip_ban"):
            default = 1.0 if kind == "rate_limit" else 60.0
            wait = fault.retry_after_s if fault.retry_after_s is not None else default
            status = 429 if kind == "rate_limit" else 418
            msg = ("Too many requests; current limit is exceeded (simulated)." if status == 429
                   else f"Way too much request weight used; IP banned until "
                        f"{self.sim.server_time() + int(wait * 1000)} (simulated).")
            body = fault.body if fault.body is not None else {"code": -1003, "msg": msg}
            headers["Retry-After"] = str(max(0, math.ceil(float(wait))))
            raise _FaultAnswer(status, body)
        if kind in ("unavailable", "server_error"):
            status = 503 if kind == "unavailable" else 500
            default = "Service Unavailable." if status == 503 else "Internal Server Error"
            raise _FaultAnswer(status, fault.body if fault.body is not None else default)
        if kind == "malformed_json":
            body = fault.body if fault.body is not None else '{"symbol":"BTCUSDT","price":"6'
            raise _FaultAnswer(200, body, content_type="application/json;charset=UTF-8")
        if kind == "drop":
            raise _Dropped
        if kind == "delay":
            self._stopping.wait(fault.delay_ms / 1000.0)
            if fault.then_drop or self._stopping.is_set():  # nobody is waiting any more
                raise _Dropped

    def _call(self, route: Route, method: str, params: dict[str, str]) -> Any:
        try:
            return getattr(self, route.handler)(params)
        except wire.ApiError:
            raise
        except Exception as exc:
            if type(exc).__module__.startswith("ccxt"):
                action = "cancel" if method == "DELETE" else "query"
                raise wire.error_from_core(exc, action) from exc
            log.exception("sim server: %s %s failed", method, route.handler)
            raise wire.ApiError(500, -1000, "An unknown error occurred while processing the "
                                            "request.") from exc

    def _authenticate(self, key: str | None, query: str, body: str,
                      params: dict[str, str]) -> None:
        """Binance's SIGNED checks: API key, HMAC-SHA256 of query+body, timestamp window."""
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
        timestamp = _int(params, "timestamp")
        window = _int(params, "recvWindow", self.recv_window_ms)
        if window > MAX_RECV_WINDOW_MS:
            raise wire.ApiError(400, -1131, "recvWindow must be less than 60000")
        now = self.sim.server_time()
        if timestamp >= now + 1_000:
            raise wire.ApiError(400, -1021, "Timestamp for this request was 1000ms ahead of "
                                            "the server's time.")
        if now - timestamp > window:
            raise wire.ApiError(400, -1021, "Timestamp for this request is outside of the "
                                            "recvWindow.")

    # -- transport ---------------------------------------------------------------------------

    def _log(self, method: str, path: str, status: int | str) -> None:
        self.requests.append((method, path, status))

    def _send(self, request: _Handler, status: int, payload: Any, headers: Mapping[str, str],
              content_type: str = "application/json;charset=UTF-8") -> None:
        body = payload if isinstance(payload, str) else json.dumps(payload,
                                                                   separators=(",", ":"))
        data = body.encode()
        try:
            request.send_response(status)
            request.send_header("Content-Type", content_type)
            request.send_header("Content-Length", str(len(data)))
            for name, value in headers.items():
                request.send_header(name, value)
            request.end_headers()
            request.wfile.write(data)
            request.wfile.flush()
        except OSError:  # the client gave up (e.g. its timeout fired during a delay fault)
            request.close_connection = True

    @staticmethod
    def _drop(request: _Handler) -> None:
        request.close_connection = True
        with contextlib.suppress(OSError):
            request.connection.shutdown(socket.SHUT_RDWR)

    def _register(self, conn: socket.socket, add: bool) -> None:
        with self._lock:
            (self._connections.add if add else self._connections.discard)(conn)

    # -- market data endpoints -------------------------------------------------------------

    def _symbol(self, params: dict[str, str], required: bool = True) -> str | None:
        wire_id = params.get("symbol")
        if not wire_id:
            if required:
                raise wire.missing("symbol")
            return None
        try:
            return self._symbols[wire_id.upper()]
        except KeyError:
            raise wire.invalid_symbol() from None

    def _symbols_param(self, params: dict[str, str]) -> list[str] | None:
        """One symbol (`symbol`), several (`symbols`), or None meaning all."""
        if "symbol" in params:
            return [self._symbol(params)]  # type: ignore[list-item]
        if "symbols" in params:
            names = wire.parse_symbol_list(params["symbols"])
            return [self._symbol({"symbol": n}) for n in names]  # type: ignore[misc]
        return None

    def _each_ticker(self, params: dict[str, str],
                     shape: Callable[[dict[str, Any], dict[str, Any]], dict[str, Any]]) -> Any:
        chosen = self._symbols_param(params)
        rows = [shape(self._markets[s], self.sim.fetch_ticker(s))
                for s in (chosen or list(self._markets))]
        return rows[0] if "symbol" in params else rows

    def _ping(self, params: dict[str, str]) -> Any:
        return {}

    def _time(self, params: dict[str, str]) -> Any:
        return {"serverTime": self.sim.server_time()}

    def _exchange_info(self, params: dict[str, str]) -> Any:
        chosen = self._symbols_param(params) or list(self._markets)
        return wire.exchange_info([self._markets[s] for s in chosen], self.sim.server_time())

    def _ticker_24hr(self, params: dict[str, str]) -> Any:
        return self._each_ticker(params, wire.ticker_24hr)

    def _ticker_price(self, params: dict[str, str]) -> Any:
        return self._each_ticker(params, wire.price_ticker)

    def _book_ticker(self, params: dict[str, str]) -> Any:
        return self._each_ticker(params, wire.book_ticker)

    def _avg_price(self, params: dict[str, str]) -> Any:
        symbol = self._symbol(params)
        rows = self.sim.fetch_ohlcv(symbol, "1m", 5)  # type: ignore[arg-type]
        return {"mins": 5, "price": wire.num(sum(r[4] for r in rows) / len(rows)),
                "closeTime": self.sim.server_time()}

    def _klines(self, params: dict[str, str]) -> Any:
        symbol = self._symbol(params)
        interval = params.get("interval") or ""
        if not interval:
            raise wire.missing("interval")
        if interval not in wire.INTERVAL_MINUTES:
            raise wire.ApiError(400, -1120, "Invalid interval.")
        limit = min(_int(params, "limit", 500), 1_000)
        if limit < 1:
            raise wire.illegal("limit")
        start, end = params.get("startTime"), params.get("endTime")
        if start is None and end is None:
            rows = self.sim.fetch_ohlcv(symbol, interval, limit)  # type: ignore[arg-type]
        else:
            rows = self.sim.fetch_ohlcv(symbol, interval, self.sim.market.history)  # type: ignore[arg-type]
            lo, hi = _int(params, "startTime", 0), _int(params, "endTime", 2**62)
            rows = [r for r in rows if lo <= r[0] <= hi]
            rows = rows[:limit] if start is not None else rows[-limit:]
        return [wire.kline(r, interval) for r in rows]

    def _depth(self, params: dict[str, str]) -> Any:
        symbol = self._symbol(params)
        limit = _int(params, "limit", 100)
        if not 1 <= limit <= 5_000:
            raise wire.illegal("limit")
        ticker = self.sim.fetch_ticker(symbol)  # type: ignore[arg-type]
        return wire.depth(self._markets[symbol], ticker, limit, self.sim.server_time())  # type: ignore[index]

    # -- account and order endpoints -------------------------------------------------------

    def _account(self, params: dict[str, str]) -> Any:
        any_market = next(iter(self._markets.values()))
        omit = params.get("omitZeroBalances", "false").lower() == "true"
        return wire.account(self.sim.fetch_balance(), self.sim.server_time(),
                            any_market["taker"], any_market["maker"], omit)

    def _new_order(self, params: dict[str, str], test: bool = False) -> Any:
        symbol = self._symbol(params)
        assert symbol is not None
        side = (params.get("side") or "").upper()
        wire_type = (params.get("type") or "").upper()
        if not side:
            raise wire.missing("side")
        if side not in ("BUY", "SELL"):
            raise wire.ApiError(400, -1117, "Invalid side.")
        if not wire_type:
            raise wire.missing("type")
        if wire_type not in ("LIMIT", "MARKET", "LIMIT_MAKER"):
            raise wire.ApiError(400, -1116, "Invalid orderType.")
        tif = params.get("timeInForce")
        if wire_type == "LIMIT" and not tif:
            raise wire.missing("timeInForce")
        if wire_type == "LIMIT" and tif != "GTC":
            raise wire.ApiError(400, -1115, "Invalid timeInForce.")  # the core rests GTC only
        if wire_type != "LIMIT" and tif:
            raise wire.not_required("timeInForce")
        price = _float(params, "price") if "price" in params else None
        if wire_type == "MARKET" and price is not None:
            raise wire.not_required("price")
        if wire_type != "MARKET" and price is None:
            raise wire.missing("price")
        amount = self._quantity(symbol, side, wire_type, params)
        resp_type = (params.get("newOrderRespType") or "FULL").upper()
        if resp_type not in ("ACK", "RESULT", "FULL"):
            raise wire.ApiError(400, -1100, "Illegal characters found in parameter "
                                            "'newOrderRespType'.")
        bid, ask, _ = self.sim.market.quote(symbol)
        if wire_type == "LIMIT_MAKER" and (price >= ask if side == "BUY" else price <= bid):  # type: ignore[operator]
            raise wire.ApiError(400, -2010, "Order would immediately match and take.")
        cid = params.get("newClientOrderId") or self._new_client_id()
        order = self.sim.create_order(symbol, side.lower(), "market" if wire_type == "MARKET"
                                      else "limit", amount, price, client_order_id=cid,
                                      test=test)
        if test:
            return {}
        order_id = int(order["id"])
        with self._lock:
            self._orders[order_id] = (symbol, cid)
            self._wire_types[order_id] = wire_type
            if order["status"] == "closed":
                self._taker.add(order_id)
        return wire.new_order(order, order_id, wire_type, resp_type)

    def _test_order(self, params: dict[str, str]) -> Any:
        return self._new_order(params, test=True)

    def _quantity(self, symbol: str, side: str, wire_type: str, params: dict[str, str]) -> float:
        if "quantity" in params:
            return _float(params, "quantity")
        if wire_type == "MARKET" and "quoteOrderQty" in params:
            bid, ask, _ = self.sim.market.quote(symbol)
            step = self._markets[symbol]["precision"]["amount"]
            return wire.step_floor(_float(params, "quoteOrderQty") / (ask if side == "BUY"
                                                                      else bid), step)
        if wire_type == "MARKET":
            raise wire.ApiError(400, -1102, "Param 'quantity' or 'quoteOrderQty' must be sent, "
                                            "but both were empty/null!")
        raise wire.missing("quantity")

    def _find(self, params: dict[str, str]) -> tuple[int, dict[str, Any]]:
        """The order named by orderId or origClientOrderId: (orderId, core order)."""
        symbol = self._symbol(params)
        assert symbol is not None
        cid = params.get("origClientOrderId")
        if "orderId" in params:
            order_id = _int(params, "orderId")
            with self._lock:
                known = self._orders.get(order_id)
            if known is None or known[0] != symbol:
                raise wire.ApiError(400, -2013, "Order does not exist.")
            cid = known[1]
        elif not cid:
            raise wire.ApiError(400, -1102, "Param 'origClientOrderId' or 'orderId' must be "
                                            "sent, but both were empty/null!")
        order = self.sim.fetch_order(symbol, client_order_id=cid)
        if order is None:
            raise wire.ApiError(400, -2013, "Order does not exist.")
        return int(order["id"]), order

    def _wire_type(self, order_id: int, order: Mapping[str, Any]) -> str:
        with self._lock:
            return self._wire_types.get(order_id, str(order["type"]).upper())

    def _query_order(self, params: dict[str, str]) -> Any:
        order_id, order = self._find(params)
        return wire.query_order(order, order_id, self._wire_type(order_id, order))

    def _cancel_order(self, params: dict[str, str]) -> Any:
        try:
            order_id, order = self._find(params)
        except wire.ApiError as err:
            if err.code == -2013:
                raise wire.ApiError(400, -2011, "Unknown order sent.") from None
            raise
        done = self.sim.cancel_order(order["symbol"], client_order_id=order["clientOrderId"])
        cancel_id = params.get("newClientOrderId") or self._new_client_id()
        return wire.cancel_order(done, order_id, self._wire_type(order_id, done), cancel_id,
                                 self.sim.server_time())

    def _orders_of(self, symbols: list[str] | None) -> list[tuple[int, dict[str, Any]]]:
        """Orders placed through this server (the core has no listing call), by orderId."""
        with self._lock:
            known = sorted(self._orders.items())
        rows = []
        for order_id, (symbol, cid) in known:
            if symbols is None or symbol in symbols:
                order = self.sim.fetch_order(symbol, client_order_id=cid)
                if order is not None:
                    rows.append((order_id, order))
        return rows

    def _open_orders(self, params: dict[str, str]) -> Any:
        symbol = self._symbol(params, required=False)
        return [wire.query_order(o, i, self._wire_type(i, o))
                for i, o in self._orders_of([symbol] if symbol else None)
                if o["status"] == "open"]

    def _cancel_all(self, params: dict[str, str]) -> Any:
        symbol = self._symbol(params)
        open_ = [(i, o) for i, o in self._orders_of([symbol]) if o["status"] == "open"]  # type: ignore[list-item]
        if not open_:
            raise wire.ApiError(400, -2011, "Unknown order sent.")
        now = self.sim.server_time()
        return [wire.cancel_order(self.sim.cancel_order(o["symbol"],
                                                        client_order_id=o["clientOrderId"]),
                                  i, self._wire_type(i, o), self._new_client_id(), now)
                for i, o in open_]

    def _selected(self, params: dict[str, str],
                  rows: list[tuple[int, dict[str, Any]]]) -> list[tuple[int, dict[str, Any]]]:
        lo, hi = _int(params, "startTime", 0), _int(params, "endTime", 2**62)
        first_id = _int(params, "orderId", _int(params, "fromId", 0))
        rows = [(i, o) for i, o in rows if i >= first_id and lo <= o["timestamp"] <= hi]
        return rows[:min(_int(params, "limit", 500), 1_000)]

    def _all_orders(self, params: dict[str, str]) -> Any:
        symbol = self._symbol(params)
        rows = self._selected(params, self._orders_of([symbol]))  # type: ignore[list-item]
        return [wire.query_order(o, i, self._wire_type(i, o)) for i, o in rows]

    def _my_trades(self, params: dict[str, str]) -> Any:
        symbol = self._symbol(params)
        filled = [(i, o) for i, o in self._orders_of([symbol])  # type: ignore[list-item]
                  if o["status"] == "closed"]
        with self._lock:
            taker = set(self._taker)
        return [wire.trade(o, i, maker=i not in taker) for i, o in self._selected(params, filled)]

    def _new_client_id(self) -> str:
        alphabet = string.ascii_letters + string.digits
        with self._lock:
            return "".join(self._ids_rng.choice(alphabet) for _ in range(22))


class _FaultAnswer(wire.ApiError):
    """An injected answer: any status, a JSON or plain-text body."""

    def __init__(self, status: int, body: Any, content_type: str | None = None) -> None:
        super().__init__(status, 0, str(body))
        self.payload = body
        self.content_type = content_type or (
            "application/json;charset=UTF-8" if isinstance(body, Mapping) else "text/plain")

    def body(self) -> Any:  # type: ignore[override]
        return self.payload


def _unsigned(raw: str) -> str:
    """A query string or form body without its signature parameter (what was signed)."""
    return "&".join(p for p in raw.split("&") if p and not p.startswith("signature="))


def _int(params: Mapping[str, str], name: str, default: int | None = None) -> int:
    if name not in params:
        if default is None:
            raise wire.missing(name)
        return default
    try:
        return int(params[name])
    except ValueError:
        raise wire.illegal(name) from None


def _float(params: Mapping[str, str], name: str) -> float:
    try:
        value = float(params[name])
    except (KeyError, ValueError):
        raise wire.illegal(name) from None
    if not math.isfinite(value):
        raise wire.illegal(name)
    return value


class _Handler(BaseHTTPRequestHandler):
    """Hands every request to the SimServer; keep-alive like Binance's front end."""

    protocol_version = "HTTP/1.1"
    # Headers and body go out in separate writes; with Nagle on, each answer waited ~40 ms for
    # the client's delayed ACK on keep-alive connections.
    disable_nagle_algorithm = True
    server_version = "sim-binance"
    timeout = 30  # idle keep-alive connections close after this many seconds
    server: _HTTPServer

    def setup(self) -> None:
        super().setup()
        self.server.app._register(self.connection, add=True)

    def finish(self) -> None:
        with contextlib.suppress(OSError):
            super().finish()
        self.server.app._register(self.connection, add=False)

    def version_string(self) -> str:
        return self.server_version

    def do_GET(self) -> None:
        self.server.app.handle(self, "GET")

    def do_POST(self) -> None:
        self.server.app.handle(self, "POST")

    def do_DELETE(self) -> None:
        self.server.app.handle(self, "DELETE")

    def do_PUT(self) -> None:
        self.server.app.handle(self, "PUT")

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("sim server: " + format, *args)


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], app: SimServer) -> None:
        self.app = app
        super().__init__(address, _Handler)


class _HTTPServer6(_HTTPServer):
    address_family = socket.AF_INET6
