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
            return target(str(exc), origin=type(exc).__name__,
                          retry_after_s=float(wait) if wait is not None else None)
    return exc


def error_name(exc: BaseException) -> str:
    """The name recorded in the event journal: the client's own class where known."""
    return getattr(exc, "origin", None) or type(exc).__name__


def is_retryable(exc: BaseException) -> bool:
    return isinstance(exc, RetryableError)


def retry_after_s(exc: BaseException) -> float | None:
    """A server-requested wait (Retry-After), when the adapter attached one to the error."""
    value = getattr(exc, "retry_after_s", None)
    return float(value) if value is not None else None
