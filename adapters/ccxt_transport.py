"""The transport guard: every HTTP request of a ccxt client is judged before it leaves.

It sits on the client's `fetch` (the one method ccxt's sync client sends every request through,
including the implicit API methods and ccxt's own retry loop), so a caller that reaches past the
instrumented wrapper to `exchange.inner.client` meets it too.  For each request:

- the URL is parsed the way requests/urllib3 will parse it; an ambiguous URL is refused, and a
  simulator run refuses any host that is not loopback;
- a state-changing request (anything but GET/HEAD/OPTIONS, except validate-only test orders and
  user-data-stream keep-alives) asks the order gate, with the endpoint kind of that very URL;
- an order's client order id is sent at most once, unless a look-up proved the order absent
  (`allow_resend`), so neither ccxt nor a caller can re-send an order blindly.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qs, urlsplit

from adapters.endpoints import LOOPBACK, UnsafeUrl, classify, worst
from adapters.errors import OrderRefused, ResendRefused

# ccxt options for a spot-only client: load_markets stays on /api/v3 (no sapi, no futures
# hosts), for the ccxt adapter and for any ccxt client pointed at the simulator alike.
SPOT_OPTIONS: dict[str, Any] = {
    "defaultType": "spot",
    "fetchMarkets": {"types": ["spot"]},
    "fetchCurrencies": False,
    "fetchMargins": False,
}
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# Request parameters that carry a client order id (Binance, and common spellings elsewhere).
CLIENT_ID_PARAMS = ("newClientOrderId", "clientOrderId", "origClientOrderId", "clientOid",
                    "client_order_id", "text")
# Paths of non-GET requests that change no order and move no money.
HARMLESS_PATH_PARTS = ("userdatastream", "listenkey")


def unsafe_base_url(url: Any) -> str | None:
    """Why `url` cannot serve as an API base URL, or None."""
    try:
        classify(str(url))
    except UnsafeUrl as exc:
        return str(exc)
    if urlsplit(str(url)).query or "#" in str(url):
        return f"{str(url)!r}: a base URL takes no query or fragment"
    return None


def point_urls(client: Any, url: str) -> Any:
    """Rewrite every API base URL of a ccxt client onto `url`, keeping each path (nested maps
    too): 'https://api.binance.com/api/v3' becomes f'{url}/api/v3'.  sapi/fapi/... bases move
    as well, so a stray call gets the target's 404 instead of leaving the machine."""

    def moved(value: Any) -> Any:
        if isinstance(value, str):
            return url.rstrip("/") + (urlsplit(value).path or "")
        if isinstance(value, dict):
            return {key: moved(inner) for key, inner in value.items()}
        return value

    client.urls["api"] = moved(client.urls["api"])
    return client


def judge_urls(urls: Iterable[str], sandbox_hosts: Iterable[str]) -> str:
    """The endpoint kind of a set of URLs: the most dangerous of them (ambiguous: ValueError)."""
    hosts = set(sandbox_hosts)
    return worst(classify(url, hosts) for url in urls)


def is_test_order(path: str) -> bool:
    """Binance's validate-only endpoints: POST /api/v3/order/test, /api/v3/sor/order/test."""
    return "order" in path and path.rstrip("/").endswith("/test")


def _params(url: str, body: Any) -> dict[str, list[str]]:
    params = parse_qs(urlsplit(url).query)
    if isinstance(body, (str, bytes)):
        text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
        for key, values in parse_qs(text).items():
            params.setdefault(key, []).extend(values)
    return params


class TransportGuard:
    """Installed on one ccxt client by CcxtExchange; asks `owner.order_gate` (read per request,
    so the gate the runner attaches after construction is the one that counts)."""

    def __init__(self, owner: Any, sandbox_hosts: Iterable[str], *, loopback_only: bool) -> None:
        self.owner = owner
        self.sandbox_hosts = set(sandbox_hosts)
        self.loopback_only = loopback_only
        self._sent: set[str] = set()
        self._lock = threading.Lock()

    def install(self, client: Any) -> None:
        send: Callable[..., Any] = client.fetch

        def guarded_fetch(url: str, method: str = "GET", headers: Any = None,
                          body: Any = None) -> Any:
            self.judge(url, method, body)
            return send(url, method, headers, body)

        client.fetch = guarded_fetch

    def allow_resend(self, client_order_id: str) -> None:
        with self._lock:
            self._sent.discard(client_order_id)

    def judge(self, url: str, method: str, body: Any) -> None:
        """Raise OrderRefused when this request may not leave the process."""
        try:
            kind = classify(url, self.sandbox_hosts)
        except UnsafeUrl as exc:
            raise OrderRefused(f"transport guard: request refused: {exc}") from None
        if self.loopback_only and kind != LOOPBACK:
            raise OrderRefused(f"transport guard: {method} {url.split('?')[0]} refused: this "
                               "adapter talks to the local simulator only (loopback)")
        verb = str(method).upper()
        path = urlsplit(url).path.lower()
        if verb in SAFE_METHODS or is_test_order(path) or any(
                part in path for part in HARMLESS_PATH_PARTS):
            return
        self.owner.order_gate.check(f"{verb} {path}", kind)
        if verb == "POST":
            self._once(_params(url, body))

    def _once(self, params: dict[str, list[str]]) -> None:
        ids = [v for name in CLIENT_ID_PARAMS[:2] for v in params.get(name, [])]
        with self._lock:
            for client_order_id in ids:
                if client_order_id in self._sent:
                    raise ResendRefused(
                        f"transport guard: order {client_order_id} was already sent once; "
                        "refusing to send it again before a look-up proves it absent")
            self._sent.update(ids)
