"""The one instrumented wrapper every exchange call goes through.

Phases never time or record exchange calls themselves: `InstrumentedExchange` records each
attempt exactly once (latency, ok, error class, attempt number) and retries idempotent reads on
retryable errors.  It is also the exchange boundary's order desk (adapters/order_desk.py): every
order request passes the order gate, lands in the order ledger, and is never re-sent blindly.

Each attempt's event also says whether it is the last of its logical call (`final`, see
runner/shared/events.py): the error-rate SLI counts a call once, by its final outcome.  Whether a
failed attempt is retried is decided once, before its event is recorded, and the loop acts on
that decision only; if the wait before the retry is cut short, the call's end is recorded as an
abandoned attempt (see `_wait_to_retry`), so a call never ends on an attempt marked final=false.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from adapters.base import EventSink, Exchange, Market, Order
from adapters.errors import error_name, is_retryable, retry_after_s
from adapters.order_gate import OrderGate
from adapters.retry import RetryPolicy

log = logging.getLogger(__name__)

# The calls recorded as kind="order": those that create or change an order.
ORDER_CALLS = frozenset({"create_order", "cancel_order"})


def _kind(name: str) -> str:
    return "order" if name in ORDER_CALLS else "api_call"


@dataclass(frozen=True)
class Attempt:
    """One recorded attempt: its value, or its error and whether another attempt follows (the
    decision its event recorded as final = not retry)."""

    value: Any = None
    error: Exception | None = None
    retry: bool = False


class InstrumentedExchange:
    """Wraps an Exchange: records one event per attempt, retries idempotent calls, and sends
    every order request through the order desk (gate, ledger, look-up before any re-send)."""

    def __init__(
        self,
        inner: Exchange,
        sink: EventSink,
        policy: RetryPolicy | None = None,
        sleep: Callable[[float], Any] = time.sleep,
        seed: int | None = None,
        gate: OrderGate | None = None,
    ) -> None:
        from adapters.order_desk import OrderDesk

        self.inner = inner
        self.sink = sink
        self.policy = policy or RetryPolicy()
        self._sleep = sleep
        self._rng = random.Random(seed)
        self._last = threading.local()
        self.connected = False
        if gate is not None:
            inner.order_gate = gate  # the transport asks the same gate as the desk
        self.orders = OrderDesk(self, inner.order_gate)

    @property
    def last_latency_ms(self) -> float | None:
        """Latency of this thread's most recent attempt (what was recorded for it)."""
        return getattr(self._last, "latency_ms", None)

    @property
    def name(self) -> str:
        return self.inner.name

    @property
    def has_keys(self) -> bool:
        return self.inner.has_keys

    @property
    def endpoint_kind(self) -> str:
        return self.inner.endpoint_kind

    # -- the one recording/retrying path -------------------------------------------------

    def _run_attempt(self, name: str, call: Callable[[], Any], attempt: int,
                     symbol: str | None, retries: Callable[[Exception, int], bool]) -> Attempt:
        """One attempt, recorded exactly once.

        On failure `retries(error, attempt)` decides whether another attempt of this call
        follows, before the event is recorded: the event carries the decision (final = not
        retry), and the caller acts on `Attempt.retry` and nothing else, so the two can never
        disagree.  Only Exceptions are caught; a BaseException (KeyboardInterrupt) propagates
        unrecorded.
        """
        kind = _kind(name)
        started = time.perf_counter()
        try:
            value = call()
        except Exception as exc:
            retry = retries(exc, attempt)
            self.sink.record(kind, name, False, self._latency(started), error_name(exc),
                             attempt, symbol, final=not retry)
            return Attempt(error=exc, retry=retry)
        self.sink.record(kind, name, True, self._latency(started), None, attempt, symbol,
                         final=True)
        return Attempt(value=value)

    def _latency(self, started: float) -> float:
        simulated = self.inner.simulated_latency_ms
        if simulated is not None:
            self.inner._set_simulated_latency(None)
        else:
            simulated = (time.perf_counter() - started) * 1000.0
        self._last.latency_ms = simulated
        return simulated

    def _with_retries(self, name: str, call: Callable[[], Any], symbol: str | None = None,
                      policy: RetryPolicy | None = None) -> Any:
        policy = policy or self.policy

        def retries(exc: Exception, attempt: int) -> bool:
            """The one retry decision (any further reason to stop retrying belongs here)."""
            return attempt < policy.max_attempts and is_retryable(exc)

        attempt = 1
        while True:
            tried = self._run_attempt(name, call, attempt, symbol, retries)
            if tried.error is None:
                return tried.value
            if not tried.retry:
                raise tried.error
            self._wait_to_retry(name, tried.error, attempt, symbol, policy)
            attempt += 1

    def _wait_to_retry(self, name: str, exc: BaseException, attempt: int, symbol: str | None,
                       policy: RetryPolicy | None = None) -> None:
        """Back off before attempt `attempt + 1`, whose predecessor was recorded final=false.

        Should the wait be cut short (KeyboardInterrupt in the main thread, a sleep that raises
        on a stop request), the call ends here without the retry its last event announced.  Its
        end is then recorded as attempt `attempt + 1`, abandoned before it was sent (ok false,
        no latency, the interruption's class as error, final true; like a refused order, an
        attempt that never reached the exchange), and the interruption propagates.
        """
        try:
            self._backoff(name, exc, attempt, policy)
        except BaseException as stop:
            self.sink.record(_kind(name), name, False, None, error_name(stop), attempt + 1,
                             symbol, final=True)
            raise

    def _backoff(self, name: str, exc: BaseException, attempt: int,
                 policy: RetryPolicy | None = None) -> None:
        policy = policy or self.policy
        wait = retry_after_s(exc)
        delay = wait if wait is not None else policy.delay(attempt, self._rng)
        log.debug("%s attempt %d/%d failed (%s: %s); retrying in %.3fs%s", name, attempt,
                  policy.max_attempts, error_name(exc), exc, delay,
                  " (Retry-After)" if wait is not None else "")
        self._sleep(delay)

    # -- idempotent calls ----------------------------------------------------------------

    def connect(self) -> None:
        self._with_retries("connect", self.inner.connect)
        self.connected = True

    def ping(self) -> None:
        self._with_retries("ping", self.inner.ping)

    def server_time(self) -> int:
        return self._with_retries("server_time", self.inner.server_time)

    def load_markets(self) -> dict[str, Market]:
        return self._with_retries("load_markets", self.inner.load_markets)

    def fetch_ticker(self, symbol: str) -> dict[str, Any]:
        return self._with_retries("fetch_ticker", lambda: self.inner.fetch_ticker(symbol), symbol)

    def fetch_ohlcv(
        self, symbol: str, timeframe: str = "1m", limit: int = 100
    ) -> list[list[float]]:
        return self._with_retries(
            "fetch_ohlcv", lambda: self.inner.fetch_ohlcv(symbol, timeframe, limit), symbol
        )

    def fetch_balance(self) -> dict[str, dict[str, float]]:
        return self._with_retries("fetch_balance", self.inner.fetch_balance)

    def fetch_order(self, symbol: str, *, client_order_id: str) -> Order | None:
        return self._with_retries(
            "fetch_order",
            lambda: self.inner.fetch_order(symbol, client_order_id=client_order_id),
            symbol,
        )

    # -- orders: the order desk (gate, ledger, look-up before any re-send) ---------------------

    def create_order(
        self,
        symbol: str,
        side: str,
        type: str,
        amount: float,
        price: float | None = None,
        *,
        client_order_id: str,
        test: bool = True,
        reason: str | None = None,
        reference_price: float | None = None,
    ) -> Order:
        """Validate (test=True) or place an order; see adapters/order_desk.py for the rules.

        `reason` and `reference_price` (the expected price of a market order) are for the
        ledger and the console line only; they are not sent.
        """
        return self.orders.create(symbol, side, type, amount, price,
                                  client_order_id=client_order_id, test=test, reason=reason,
                                  reference_price=reference_price)

    def cancel_order(self, symbol: str, *, client_order_id: str) -> Order:
        return self.orders.cancel(symbol, client_order_id=client_order_id)

    def close(self) -> None:
        self.inner.close()
        self.connected = False
