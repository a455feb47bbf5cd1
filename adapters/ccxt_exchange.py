"""Any ccxt exchange behind the Exchange interface: sandbox, keys, timeout, rate limiting, spot.

ccxt is imported when the adapter is built, never at module import (it costs ~0.35 s).  Its
exceptions are translated into the project's (adapters/errors.py) at this boundary; a
Retry-After header the exchange sent travels with the error for the wrapper to honour, and a
network failure's message names its root cause (DNS, refused, proxy, TLS, timeout), its whole
exception chain going to run.log at DEBUG.
With `simulator` set, the project's exchange simulator is started on 127.0.0.1 and the client's
API base URLs are pointed at it (env=local): the real client, no internet.

Safety (ccxt_transport.py): the endpoint kind is judged from the URLs the client really calls
after sandbox mode, `base_url` and the simulator have been applied; every request passes the
transport guard, which asks the order gate before any state-changing request leaves and never
lets one client order id be sent twice unless a look-up proved it absent.  ccxt's own
`maxRetriesOnFailure` is forced to 0: it would re-send an order blindly.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from adapters.base import Exchange, Market, Order
from adapters.ccxt_transport import (
    SPOT_OPTIONS,
    TransportGuard,
    judge_urls,
    point_urls,
    unsafe_base_url,
)
from adapters.endpoints import LOOPBACK
from adapters.errors import NetworkFailure, OrderNotFound, translate

log = logging.getLogger(__name__)
T = TypeVar("T")
# ccxt options that would make the client re-send a request (an order!) on its own.
CLIENT_RETRY_OPTIONS = ("maxRetriesOnFailure", "maxRetriesOnFailureDelay")


class CcxtExchange(Exchange):
    def __init__(
        self,
        *,
        exchange_id: str = "binance",
        sandbox: bool = False,
        api_key: str | None = None,
        secret: str | None = None,
        timeout_ms: int = 10_000,
        rate_limit: bool = True,
        options: Mapping[str, Any] | None = None,
        base_url: str | None = None,
        simulator: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__()
        import ccxt

        if exchange_id not in ccxt.exchanges:
            raise ValueError(f"exchange_id '{exchange_id}' is not a ccxt exchange; "
                             "allowed: one of ccxt.exchanges, e.g. binance")
        self.name = exchange_id
        self.server = None
        self._chains_logged: set[str] = set()
        if simulator is not None:
            from adapters.sim.server import DEFAULT_API_KEY, DEFAULT_API_SECRET, SimServer

            served = {"api_key": DEFAULT_API_KEY, "api_secret": DEFAULT_API_SECRET,
                      **dict(simulator)}
            self.server = SimServer.from_config(**served).start()
            api_key = api_key or served["api_key"]
            secret = secret or served["api_secret"]
        self.has_keys = bool(api_key and secret)
        self.request_timeout_s = int(timeout_ms) / 1000.0
        self.client = getattr(ccxt, exchange_id)({
            "apiKey": api_key or None,
            "secret": secret or None,
            "timeout": int(timeout_ms),
            "enableRateLimit": bool(rate_limit) and self.server is None,
            "options": {**SPOT_OPTIONS, **dict(options or {}), "maxRetriesOnFailure": 0},
        })
        try:
            self.endpoint_kind, sandbox_hosts = configure_urls(
                self.client, sandbox=sandbox, base_url=base_url,
                simulator_url=self.server.url if self.server is not None else None)
        except ValueError:
            self.close()
            raise
        window_ms = self.client.options.get("recvWindow") if isinstance(
            self.client.options, dict) else None
        self.order_expiry_s = (float(window_ms) / 1000.0 if isinstance(window_ms, (int, float))
                               else self.request_timeout_s)
        self.transport = TransportGuard(self, sandbox_hosts,
                                        loopback_only=self.server is not None)
        self.transport.install(self.client)

    @classmethod
    def check_config(cls, node: Mapping[str, Any]) -> list[str]:
        """Unknown keys and unsafe settings, without importing ccxt (that waits for the run)."""
        problems = cls.unknown_keys(node)
        if node.get("base_url") is not None:
            problem = unsafe_base_url(node["base_url"])
            if problem:
                problems.append(f"adapter.base_url: {problem}")
        options = node.get("options") or {}
        for name in CLIENT_RETRY_OPTIONS:
            if isinstance(options, Mapping) and options.get(name) not in (None, 0):
                problems.append(f"adapter.options.{name}: ccxt would re-send failed requests "
                                "(orders included) blindly; remove it: the runner retries reads "
                                "itself (adapter.retry) and looks orders up before any re-send")
        return problems

    @classmethod
    def endpoint_kind_of(cls, node: Mapping[str, Any]) -> str:
        """Judged from the URLs a client for this node would call, built without connecting."""
        if node.get("simulator") is not None:
            return LOOPBACK
        import ccxt

        client = getattr(ccxt, str(node.get("exchange_id") or "binance"))(
            {"options": {**SPOT_OPTIONS, **dict(node.get("options") or {})}})
        kind, _ = configure_urls(client, sandbox=bool(node.get("sandbox")),
                                 base_url=node.get("base_url"), simulator_url=None)
        return kind

    def _call(self, operation: Callable[[], T]) -> T:
        """Run one client call; its error translated, with the Retry-After the exchange sent."""
        from ccxt.base.errors import BaseError

        try:
            return operation()
        except BaseError as exc:
            headers = getattr(self.client, "last_response_headers", None) or {}
            wait = next((v for k, v in headers.items() if k.lower() == "retry-after"), None)
            if wait is not None:
                with contextlib.suppress(ValueError):  # an HTTP-date: let backoff decide
                    exc.retry_after_s = float(wait)
            translated = translate(exc)
            if isinstance(translated, NetworkFailure):  # for run.log: each chain's first time
                first = str(translated) not in self._chains_logged
                self._chains_logged.add(str(translated))
                log.debug("%s: network failure (%s)%s", self.name, translated,
                          "; exception chain:" if first else " (chain logged above)",
                          exc_info=exc if first else None)
            raise translated from exc

    def allow_resend(self, client_order_id: str) -> None:
        self.transport.allow_resend(client_order_id)

    def connect(self) -> None:
        """Nothing to open: ccxt's sync client connects per request; checks time sync instead."""
        self._call(self.client.fetch_time)

    def ping(self) -> None:
        self._call(self.client.fetch_time)

    def server_time(self) -> int:
        return int(self._call(self.client.fetch_time))

    def load_markets(self) -> dict[str, Market]:
        return self._call(lambda: self.client.load_markets(reload=True))

    def fetch_ticker(self, symbol: str) -> dict[str, Any]:
        return self._call(lambda: self.client.fetch_ticker(symbol))

    def fetch_ohlcv(self, symbol: str, timeframe: str = "1m", limit: int = 100
                    ) -> list[list[float]]:
        return self._call(lambda: self.client.fetch_ohlcv(symbol, timeframe, limit=limit))

    def fetch_balance(self) -> dict[str, dict[str, float]]:
        balance = self._call(self.client.fetch_balance)
        return {currency: {k: balance[currency].get(k) for k in ("free", "used", "total")}
                for currency in balance.get("total", {})}

    def create_order(self, symbol: str, side: str, type: str, amount: float,
                     price: float | None = None, *, client_order_id: str,
                     test: bool = True) -> Order:
        params: dict[str, Any] = {"clientOrderId": client_order_id}
        if test:
            params["test"] = True  # Binance: POST /api/v3/order/test, validated, never placed
        order = self._call(lambda: self.client.create_order(symbol, type, side, amount, price,
                                                            params))
        if test:
            return {**order, "status": "test", "clientOrderId": client_order_id, "id": None}
        return order

    def fetch_order(self, symbol: str, *, client_order_id: str) -> Order | None:
        try:
            return self._call(lambda: self.client.fetch_order(
                None, symbol, {"clientOrderId": client_order_id}))
        except OrderNotFound:
            return None

    def cancel_order(self, symbol: str, *, client_order_id: str) -> Order:
        return self._call(lambda: self.client.cancel_order(
            None, symbol, {"clientOrderId": client_order_id}))

    def close(self) -> None:
        session = getattr(self.client, "session", None)
        if session is not None:
            session.close()
        if self.server is not None:
            self.server.stop()
            self.server = None


def configure_urls(client: Any, *, sandbox: bool, base_url: str | None,
                   simulator_url: str | None) -> tuple[str, set[str]]:
    """Apply sandbox mode, then base_url / the simulator's URL, to a ccxt client; returns the
    endpoint kind of the URLs it will really call, and its exchange's sandbox hosts.

    The sandbox hosts are read before anything is redirected, so a `base_url` can never make
    itself a "sandbox".  ValueError when a URL is ambiguous, or when a simulator run would leave
    any URL of the client off loopback.
    """
    import copy

    from adapters.endpoints import flatten_urls, hosts_of

    sandbox_hosts = hosts_of(copy.deepcopy(client.urls.get("test")))
    if sandbox:
        client.set_sandbox_mode(True)
    url = simulator_url or base_url
    if url:
        problem = unsafe_base_url(url)
        if problem:
            raise ValueError(f"adapter.base_url: {problem}")
        point_urls(client, url)
    kind = judge_urls(flatten_urls(client.urls.get("api")), sandbox_hosts)
    if simulator_url and kind != LOOPBACK:
        raise ValueError("adapter.simulator: some of the client's URLs would still leave "
                         "127.0.0.1; refusing to start (every URL must point at the simulator)")
    return kind, sandbox_hosts

