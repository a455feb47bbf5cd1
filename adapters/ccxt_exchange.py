"""Any ccxt exchange behind the Exchange interface: sandbox, keys, timeout, rate limiting, spot.

ccxt is imported when the adapter is built, never at module import (it costs ~0.35 s).  Errors
stay ccxt's own classes, so adapters.base retries the NetworkError family and nothing else; a
Retry-After header the exchange sent is attached to the exception for the wrapper to honour.
With `simulator` set, the project's exchange simulator is started on 127.0.0.1 and the client's
API base URLs are pointed at it (env=local): the real client, no internet.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from adapters.base import Exchange, Market, Order

T = TypeVar("T")
# Keys of the Hydra adapter node that are for the runner, not for this adapter.
_NODE_KEYS = ("name", "factory", "retry")
# Spot only, and no currency/margin endpoints (sapi) during load_markets.
SPOT_OPTIONS: dict[str, Any] = {
    "defaultType": "spot",
    "fetchMarkets": {"types": ["spot"]},
    "fetchCurrencies": False,
    "fetchMargins": False,
}


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
        if simulator is not None:
            from adapters.sim.server import DEFAULT_API_KEY, DEFAULT_API_SECRET, SimServer

            served = {"api_key": DEFAULT_API_KEY, "api_secret": DEFAULT_API_SECRET,
                      **dict(simulator)}
            self.server = SimServer.from_config(**served).start()
            api_key = api_key or served["api_key"]
            secret = secret or served["api_secret"]
        self.has_keys = bool(api_key and secret)
        self.client = getattr(ccxt, exchange_id)({
            "apiKey": api_key or None,
            "secret": secret or None,
            "timeout": int(timeout_ms),
            "enableRateLimit": bool(rate_limit) and self.server is None,
            "options": {**SPOT_OPTIONS, **dict(options or {})},
        })
        if sandbox:
            self.client.set_sandbox_mode(True)
        url = self.server.url if self.server is not None else base_url
        if url:
            from adapters.sim.server import point_ccxt

            point_ccxt(self.client, url)

    def _call(self, operation: Callable[[], T]) -> T:
        """Run one client call; attach a Retry-After the exchange sent to the ccxt error."""
        from ccxt.base.errors import BaseError

        try:
            return operation()
        except BaseError as exc:
            headers = getattr(self.client, "last_response_headers", None) or {}
            wait = next((v for k, v in headers.items() if k.lower() == "retry-after"), None)
            if wait is not None:
                with contextlib.suppress(ValueError):  # an HTTP-date: let backoff decide
                    exc.retry_after_s = float(wait)
            raise

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
        from ccxt.base.errors import OrderNotFound

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


def build(**config: Any) -> CcxtExchange:
    """Factory for a Hydra adapter node: runner-only keys (name, factory, retry) are dropped."""
    return CcxtExchange(**{k: v for k, v in config.items() if k not in _NODE_KEYS})


def check_config(**config: Any) -> list[str]:
    """Unknown keys of this adapter, without importing ccxt (that waits for the run)."""
    import inspect

    allowed = sorted({*inspect.signature(CcxtExchange.__init__).parameters, *_NODE_KEYS}
                     - {"self"})
    return [f"adapter.{k}: unknown key of the ccxt adapter; allowed keys: {', '.join(allowed)}"
            for k in config if k not in allowed]
