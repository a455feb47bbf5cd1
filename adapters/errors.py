"""The project's own exchange errors: what a failure means for the caller, not who raised it.

Adapters translate their client's exceptions at the boundary (`translate`), so the retry and
order-safety logic above them never depends on ccxt.  The question every caller asks is answered
by the class:

- `RateLimited`, `RequestRefused`: the exchange did not process the request; retrying is safe.
- `NetworkFailure`: no trustworthy answer (timeout, 5xx, dropped connection, unreadable body).
  A read may be retried; for an order the outcome is unknown until it is looked up.
- `RequestRejected` (and its `OrderRejected`, `AuthFailed`, `OrderNotFound`): a definite answer.
- `OrderRefused`: the local order guard stopped the request; it never left the process.
- `OrderOutcomeUnknown`: an order was sent, and neither its answer nor a look-up said what became
  of it.  It is tracked in the order ledger and reconciled before the run ends.

`origin` keeps the client's own class name (e.g. ccxt's `RequestTimeout`) for the event journal.
"""

from __future__ import annotations

import contextlib
import re
from urllib.parse import urlsplit


class ExchangeError(Exception):
    """Base of every translated exchange failure."""

    def __init__(self, message: str, *, origin: str | None = None,
                 retry_after_s: float | None = None) -> None:
        super().__init__(message)
        self.origin = origin or type(self).__name__
        self.retry_after_s = retry_after_s


class RetryableError(ExchangeError):
    """Transient: an idempotent call may simply be tried again."""


class RateLimited(RetryableError):
    """Refused for load (HTTP 429/418): not processed; honour `retry_after_s`."""


class RequestRefused(RetryableError):
    """Refused before processing for a transient reason (e.g. a timestamp outside recvWindow)."""


class NetworkFailure(RetryableError):
    """No trustworthy answer: the request may or may not have taken effect."""


class RequestRejected(ExchangeError):
    """The exchange answered and said no; retrying the same request cannot help."""


class AuthFailed(RequestRejected):
    """Keys missing, wrong or without the permission the call needs."""


class OrderRejected(RequestRejected):
    """The order was refused as given (size, price, funds, symbol, duplicate id)."""


class OrderNotFound(RequestRejected):
    """The exchange has no such order."""


class OrderRefused(ExchangeError):
    """The local order guard refused to send an order request (it never left the process)."""


class ResendRefused(OrderRefused):
    """A transport refused to send an order's client id a second time: the first request's
    outcome is unknown, so the order must be looked up (not counted as refused)."""


class OrderOutcomeUnknown(ExchangeError):
    """An order request was sent and its outcome could not be established (yet)."""

    def __init__(self, message: str, *, client_order_id: str, origin: str | None = None) -> None:
        super().__init__(message, origin=origin or "OrderOutcomeUnknown")
        self.client_order_id = client_order_id


# Client exception class names (ccxt's, matched along the class's MRO, most specific first) ->
# the project's class.  Matching by name needs no import of the client library.
_BY_NAME: dict[str, type[ExchangeError]] = {
    "RateLimitExceeded": RateLimited,
    "DDoSProtection": RateLimited,
    "InvalidNonce": RequestRefused,
    "OrderNotFound": OrderNotFound,
    "AuthenticationError": AuthFailed,
    "AccountSuspended": AuthFailed,
    "InvalidOrder": OrderRejected,
    "InsufficientFunds": OrderRejected,
    "BadSymbol": OrderRejected,
    "RequestTimeout": NetworkFailure,
    "ExchangeNotAvailable": NetworkFailure,
    "NetworkError": NetworkFailure,
    "BadResponse": NetworkFailure,
    "OperationFailed": NetworkFailure,
    "ExchangeError": RequestRejected,
}


def translate(exc: BaseException) -> BaseException:
    """The project's error for a client exception; other exceptions are returned unchanged."""
    if isinstance(exc, ExchangeError):
        return exc
    for klass in type(exc).__mro__:
        target = _BY_NAME.get(klass.__name__)
        if target is not None and klass.__module__.startswith(("ccxt", "adapters")):
            wait = getattr(exc, "retry_after_s", None)
            message = str(exc)
            if issubclass(target, NetworkFailure):
                cause = network_cause(exc)
                if cause and cause not in message:
                    message = f"{message}: {cause}" if message else cause
            return target(message, origin=type(exc).__name__,
                          retry_after_s=float(wait) if wait is not None else None)
    return exc


def exception_chain(exc: BaseException, limit: int = 20) -> list[BaseException]:
    """`exc` and what it came from: `__cause__` / `__context__`, else urllib3's `.reason`
    (MaxRetryError) or `.original_error` (ProxyError), outermost first, no repeats."""
    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and len(chain) < limit and all(current is not c for c in chain):
        chain.append(current)
        linked = [current.__cause__, current.__context__, getattr(current, "reason", None),
                  getattr(current, "original_error", None)]
        current = next((e for e in linked if isinstance(e, BaseException)), None)
    return chain


_HOST_PORT = re.compile(r"host='([^']+)', port=(\d+)")
_URL = re.compile(r"https?://[^\s'\"),]+")


def _names(exc: BaseException) -> set[str]:
    return {klass.__name__ for klass in type(exc).__mro__}


def _endpoint(chain: list[BaseException]) -> tuple[str | None, int | None]:
    """The host and port the client tried to reach, as its messages name them."""
    for item in reversed(chain):  # the innermost message that names one is the most precise
        match = _HOST_PORT.search(str(item))
        if match:
            return match.group(1), int(match.group(2))
    for item in chain:
        url = _URL.search(str(item))
        if url:
            with contextlib.suppress(ValueError):
                parts = urlsplit(url.group(0))
                default = 443 if parts.scheme == "https" else 80
                return parts.hostname, parts.port or default
    return None, None


def _short(text: str, limit: int = 120) -> str:
    line = " ".join(str(text).split())
    return line if len(line) <= limit else line[: limit - 3] + "..."


def network_cause(exc: BaseException) -> str | None:
    """The root cause of a network failure in a few words, one line (e.g. "DNS lookup failed for
    api.binance.com"), read from the exception chain; None when it names nothing specific.

    Matched by class name (requests, urllib3, socket, ssl), so nothing needs importing."""
    chain = exception_chain(exc)
    host, port = _endpoint(chain)
    where = host or "the exchange"
    where_port = f"{host}:{port}" if host and port else where
    names: set[str] = set()
    for item in chain:
        names |= _names(item)
    proxy = "ProxyError" in names
    prefix = "proxy failed: " if proxy else ""
    if proxy:  # the host and port in the messages are the exchange's, not the proxy's
        where = where_port = "the proxy"
    for item in reversed(chain):  # innermost first: the most specific cause
        kinds = _names(item)
        if kinds & {"gaierror", "NameResolutionError"}:
            return f"{prefix}DNS lookup failed for {where}"
        if isinstance(item, ConnectionRefusedError):
            return f"{prefix}connection refused by {where_port}"
        if isinstance(item, ConnectionResetError):
            return f"{prefix}connection reset by {where_port}"
        if "SSLError" in kinds:
            reason = getattr(item, "reason", None)
            detail = reason if isinstance(reason, str) else (getattr(item, "verify_message", None)
                                                             or str(item))
            return f"TLS error with {where}: {_short(detail, 80)}"
        if "ConnectTimeoutError" in kinds or "ConnectTimeout" in kinds:
            return f"{prefix}connection to {where_port} timed out"
        if "ReadTimeoutError" in kinds or "ReadTimeout" in kinds:
            return f"no answer from {where} in time (read timeout)"
        if isinstance(item, TimeoutError):
            return f"{prefix}timed out talking to {where_port}"
    if proxy:
        inner = next((i for i in reversed(chain) if "ProxyError" in _names(i)), None)
        return "proxy failed" + (f": {_short(str(inner), 100)}" if inner is not None else "")
    for item in reversed(chain):
        if isinstance(item, OSError) and item.strerror:
            return f"{_short(item.strerror, 80)} ({where_port})"
    return None


def error_name(exc: BaseException) -> str:
    """The name recorded in the event journal: the client's own class where known."""
    return getattr(exc, "origin", None) or type(exc).__name__


def is_retryable(exc: BaseException) -> bool:
    return isinstance(exc, RetryableError)


def retry_after_s(exc: BaseException) -> float | None:
    """A server-requested wait (Retry-After), when the adapter attached one to the error."""
    value = getattr(exc, "retry_after_s", None)
    return float(value) if value is not None else None
