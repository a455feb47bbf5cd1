"""The simulator core served over HTTP in Binance's spot REST format, for any Binance client.

`SimServer` wraps one `Simulator` (the very object the paper adapter uses, so the same seed
gives the same prices) in a stdlib ThreadingHTTPServer on 127.0.0.1.  It checks API keys,
HMAC signatures and recvWindow like Binance, counts request weight per rolling minute and pool
(X-MBX-USED-WEIGHT-1M for /api, X-SAPI-USED-IP-WEIGHT-1M for /sapi; 429 over the limit) and
injects transport faults per endpoint: 429/418 with Retry-After, 503/500, delays past the client
timeout, malformed JSON, dropped connections and, on requests that change state, the unknown
outcomes (accepted, then the answer is dropped, a 503 or a -1007 timeout; or accepted late).

This module is the facade and the request pipeline that wires the parts together: admission
(auth.py), fault rules (http_faults.py, which documents the `faults=` format), the route table
and endpoints (routes.py, market_routes.py, account_routes.py, discovery_routes.py), the JSON
shapes (binance_wire.py, order_wire.py) and sockets (transport.py).
"""

from __future__ import annotations

import logging
import math
import threading
from collections import deque
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple
from urllib.parse import urlsplit

from adapters.endpoints import is_loopback
from adapters.sim import binance_wire as wire
from adapters.sim.auth import (
    DEFAULT_API_KEY,
    DEFAULT_API_SECRET,
    DEFAULT_RECV_WINDOW_MS,
    DEFAULT_WEIGHT_LIMIT,
    ORDER_PLACING,
    BanList,
    OrderCounter,
    Signer,
    WeightWindow,
    banned,
    weight_exceeded,
)
from adapters.sim.engine import Simulator
from adapters.sim.faults import FaultInjector
from adapters.sim.http_faults import Dropped, FaultPlan, HttpFault
from adapters.sim.latency import LatencyModel
from adapters.sim.order_wire import STATUS_TO_WIRE
from adapters.sim.params import merge
from adapters.sim.routes import ROUTES, Endpoints, Route, route_path
from adapters.sim.transport import JSON, Handler, Transport

__all__ = [
    "DEFAULT_API_KEY",
    "DEFAULT_API_SECRET",
    "ROUTES",
    "FaultPlan",
    "HttpFault",
    "SimOrder",
    "SimServer",
    "is_loopback",
]

log = logging.getLogger(__name__)
POOL_LIMITS = {"sapi": 12_000, "fapi": 2_400, "dapi": 2_400}  # /api: the server's weight_limit


class SimOrder(NamedTuple):
    """One order the simulator holds, as a test or an operator sees it (wire status: NEW,
    FILLED, CANCELED)."""

    symbol: str
    client_order_id: str
    status: str
    order_id: int


def weight_headers(pool: str, used: int) -> dict[str, str]:
    if pool == "sapi":
        return {"X-SAPI-USED-IP-WEIGHT-1M": str(used)}
    if pool == "api":
        return {"X-MBX-USED-WEIGHT-1M": str(used), "X-MBX-USED-WEIGHT": str(used)}
    return {"X-MBX-USED-WEIGHT-1M": str(used)}


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
        recv_window_ms: int = DEFAULT_RECV_WINDOW_MS,
        latency: LatencyModel | None = None,
        injector: FaultInjector | None = None,
        weight_limit: int = DEFAULT_WEIGHT_LIMIT,
        seed: int | None = None,
        allow_remote: bool = False,
        order_limits: Mapping[str, int] | None = None,
        ban_after_429s: int = 10,
    ) -> None:
        if not allow_remote and not is_loopback(host):
            raise ValueError(f"refusing to bind {host!r}: the simulator serves loopback only "
                             "unless allow_remote=True")
        self.sim, self.host, self.port = simulator, host, int(port)
        self.signer = Signer(api_key, api_secret, recv_window_ms, simulator.server_time)
        self.latency, self.injector, self.weight_limit = latency, injector, int(weight_limit)
        seed = simulator.market.seed if seed is None else seed
        self.faults = FaultPlan(faults, seed)
        self.weights = WeightWindow()  # spot /api; /sapi, /fapi and /dapi count apart
        # X-MBX-ORDER-COUNT-10S/-1D and -1015 (order_limits: {"10S": n, "1D": n}); 429 -> 418
        self.order_counts = OrderCounter(dict(order_limits or {}), simulator.server_time,
                                         self._unfilled_since)
        self.bans = BanList(ban_after_429s)
        self._pools = {"api": self.weights, **{p: WeightWindow() for p in POOL_LIMITS}}
        self.requests: deque[tuple[str, str, int | str]] = deque(maxlen=10_000)
        self.endpoints = Endpoints(simulator, seed)
        self._transport = Transport(self.handle)
        self._late: set[threading.Timer] = set()  # accepted_after_delay requests to carry out
        self._late_lock = threading.Lock()

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
        recv_window_ms: int = DEFAULT_RECV_WINDOW_MS,
        weight_limit: int = DEFAULT_WEIGHT_LIMIT,
        allow_remote: bool = False,
        clock: Callable[[], float] | None = None,
        order_limits: Mapping[str, int] | None = None,
        ban_after_429s: int = 10,
        fill_model: str = "book",
        **market_config: Any,
    ) -> SimServer:
        """Build core and server from a paper-style adapter node.

        `faults` are the core's rates (error_rate → 503, timeout_rate → delay of timeout_ms then
        drop, rate_limit_rate → 429), `http_faults` the per-endpoint rules of http_faults.py.
        The HTTP simulator stands in for Binance, so it fills from the book by default
        (`fill_model="book"`, engine.py); the in-process paper adapter keeps "simple".
        """
        sim = Simulator.create(seed=seed, clock=clock, fill_model=fill_model, **market_config)
        return cls(sim, host=host, port=port, api_key=api_key, api_secret=api_secret,
                   faults=http_faults, recv_window_ms=recv_window_ms,
                   latency=LatencyModel.from_config(seed, latency),
                   injector=FaultInjector.from_config(seed, faults) if faults else None,
                   weight_limit=weight_limit, seed=seed, allow_remote=allow_remote,
                   order_limits=order_limits, ban_after_429s=ban_after_429s)

    @property
    def api_key(self) -> str:
        return self.signer.api_key

    @property
    def recv_window_ms(self) -> int:
        return self.signer.recv_window_ms

    def orders(self, symbol: str | None = None) -> list[SimOrder]:
        """Every order the simulator holds (of `symbol`, e.g. 'BTC/USDT'), oldest first."""
        return [SimOrder(o["symbol"], o["clientOrderId"], STATUS_TO_WIRE.get(o["status"], "NEW"),
                         int(o["id"])) for o in self.sim.orders(symbol)]

    def _unfilled_since(self, since_ms: int) -> int:
        """The unfilled order count: orders placed since `since_ms` that have not traded."""
        return sum(1 for o in self.sim.orders() if o["timestamp"] >= since_ms
                   and not o.get("filled"))

    # -- lifecycle -------------------------------------------------------------------------

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def start(self) -> SimServer:
        if not self._transport.running:
            self.port = self._transport.start(self.host, self.port)
        return self

    def stop(self) -> None:
        with self._late_lock:
            late, self._late = self._late, set()
        for timer in late:  # nobody is waiting for them any more
            timer.cancel()
        self._transport.stop()

    def __enter__(self) -> SimServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- request pipeline ------------------------------------------------------------------

    def handle(self, request: Handler, method: str) -> None:
        """One request, in Binance's order: weight, faults, latency, signature, handler."""
        split = urlsplit(request.path)
        raw_body = request.body()
        path = split.path
        sub = route_path(path)
        route = ROUTES.get((method, sub)) if sub else None
        params = merge(split.query, raw_body)
        pool = route.pool if route else "api"
        used, oldest_expires = self._pools[pool].add(route.weight_of(params) if route else 1)
        headers = weight_headers(pool, used)
        try:
            if route is None and path.startswith(wire.API_PREFIX):
                # Binance's JSON error, as any client's error handling expects from /api/v3
                raise wire.ApiError(404, -1020, "This operation is not supported.")
            if route is None:
                self._log(method, path, 404)
                text = (f"sim serves Binance spot /api/v3 (and discovery stubs under /sapi, "
                        f"/fapi, /dapi); no {method} {path}")
                return request.send(404, text, headers, "text/plain")
            ban = self.bans.banned_for()
            if ban:
                headers["Retry-After"] = str(max(1, math.ceil(ban)))
                raise banned(self.sim.server_time(), ban)
            limit = POOL_LIMITS.get(pool, self.weight_limit)
            if used > limit:
                ban = self.bans.strike()  # a client that does not back off gets banned
                if ban:
                    headers["Retry-After"] = str(max(1, math.ceil(ban)))
                    raise banned(self.sim.server_time(), ban)
                raise weight_exceeded(limit)
            self.bans.forgive()
            fault = self.faults.pick(method, sub) or HttpFault.from_core(self.injector,
                                                                          route.name)
            accepted = fault is not None and fault.accepted
            if fault is not None and not accepted:
                fault.apply(headers, self.sim.server_time, self._transport.stopping)
            if self.latency is not None and self.latency.mode == "sleep":
                self.latency.spend(route.name)
            if route.signed:
                self.signer.check(request.headers.get("X-MBX-APIKEY"), split.query, raw_body,
                                  params)
            if fault is not None and fault.kind == "accepted_after_delay":
                self._carry_out_later(fault.delay_ms, route, method, params)
                raise fault.lost_answer()
            try:
                if (method, sub) in ORDER_PLACING:
                    with self.order_counts.lock:
                        counts = self.order_counts.check(ORDER_PLACING[method, sub])
                        payload = self.endpoints.call(route, method, params)
                    headers.update(counts)
                else:
                    payload = self.endpoints.call(route, method, params)
            except wire.ApiError:
                if not accepted:
                    raise
            if fault is not None and accepted:  # it took effect; its answer (any) is lost
                raise fault.lost_answer()
        except wire.ApiError as err:
            if err.status in (418, 429):
                headers.setdefault("Retry-After", str(getattr(err, "retry_after", None)
                                                      or max(1, math.ceil(oldest_expires))))
            self._log(method, path, err.status)
            return request.send(err.status, err.body(), headers,
                                getattr(err, "content_type", JSON))
        except Dropped:
            self._log(method, path, "dropped")
            return request.drop()
        self._log(method, path, 200)
        return request.send(200, payload, headers)

    def _carry_out_later(self, delay_ms: float, route: Route, method: str,
                         params: dict[str, str]) -> None:
        """accepted_after_delay: run the request `delay_ms` from now, if it is still within its
        recvWindow then (Binance's engine refuses a stale request: -1021, never placed)."""

        def run() -> None:
            with self._late_lock:
                self._late.discard(timer)
            try:
                self.signer.check_time(params)
                self.endpoints.call(route, method, params)
                log.debug("sim server: %s %s carried out late", method, route.handler)
            except wire.ApiError as err:
                log.debug("sim server: late %s %s refused: %s", method, route.handler, err)

        timer = threading.Timer(delay_ms / 1000.0, run)
        timer.daemon = True
        with self._late_lock:
            self._late.add(timer)
        timer.start()

    def _log(self, method: str, path: str, status: int | str) -> None:
        self.requests.append((method, path, status))
