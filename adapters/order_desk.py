"""The order desk: how the exchange boundary sends, tracks and reconciles orders.

Rules, for every caller (built-in phases and a user's `module:function` phase alike):

1. The order gate (order_gate.py) is asked before any order request leaves.  With dry_run=true a
   placement is turned into a test order (validated by the exchange, never placed) and said so.
2. Every order lands in the ledger (ledger.py) before its request is sent, so an attempt that is
   still in flight when its phase times out is not forgotten.
3. An order is never re-sent blindly.  An answer that is no answer (timeout, 5xx, dropped or
   unreadable response, or an answer without an exchange order id) makes the outcome unknown:
   the order is looked up by its client order id (own bounded retries with backoff).  Found: that
   is the outcome.  Absent: it was never placed, and only then may it be sent again.  The look-up
   failing too: the order stays `unknown` and `OrderOutcomeUnknown` is raised.
4. `reconcile` (cleanup, and the run's end) waits for requests still in flight, looks every
   unresolved order up again, and `cancel_open` cancels what the run left open.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, Any

from adapters.endpoints import IN_PROCESS, LOOPBACK, REAL_MONEY, SANDBOX
from adapters.errors import (
    ExchangeError,
    NetworkFailure,
    OrderOutcomeUnknown,
    OrderRefused,
    RequestRejected,
    ResendRefused,
    error_name,
    is_retryable,
)
from adapters.ledger import NOT_PLACED, OPEN, OrderLedger, OrderRecord, order_status
from adapters.retry import RetryPolicy

if TYPE_CHECKING:
    from adapters.base import Order
    from adapters.instrumented import InstrumentedExchange
    from adapters.order_gate import OrderGate

log = logging.getLogger("adapters.orders")

def _number(value: float) -> str:
    """An amount or price for the console: thousands separators, up to 8 decimals, no `1e-05`."""
    text = f"{value:,.8f}".rstrip("0").rstrip(".")
    return text if text not in ("", "-0") else "0"


MODE_LABELS = {IN_PROCESS: "SIMULATED", LOOPBACK: "LOOPBACK", SANDBOX: "SANDBOX",
               REAL_MONEY: "LIVE, REAL MONEY"}


def _phase_of(sink: Any) -> str | None:
    """The phase the calling thread works for, when the sink knows it (the run's recorder)."""
    current = getattr(sink, "current_phase", None)
    return current() if callable(current) else None


class OrderDesk:
    def __init__(self, exchange: InstrumentedExchange, gate: OrderGate) -> None:
        self.exchange = exchange
        self.gate = gate
        self.ledger = OrderLedger()

    @property
    def lookup_policy(self) -> RetryPolicy:
        """Look-ups get more patience than ordinary reads: an unknown order is worth waiting for."""
        policy = self.exchange.policy
        return RetryPolicy(max_attempts=max(policy.max_attempts, 4),
                           base_delay_s=policy.base_delay_s, max_delay_s=policy.max_delay_s)

    # -- placing -------------------------------------------------------------------------

    def create(self, symbol: str, side: str, type: str, amount: float, price: float | None, *,
               client_order_id: str, test: bool, reason: str | None,
               reference_price: float | None = None) -> Order:
        endpoint = self.exchange.endpoint_kind
        if not test and self.gate.dry_run:
            log.warning("dry_run=true: order %s asked to be placed; sent as a test order "
                        "(validated, never placed)", client_order_id)
            test = True
        previous = self.ledger.get(client_order_id)
        if previous is not None and not previous.test and previous.status not in NOT_PLACED:
            raise OrderRefused(f"order guard: client order id {client_order_id} was already sent "
                               f"(status {previous.status}); use a new id for a new order")
        record = self.ledger.begin(OrderRecord(
            client_order_id, symbol, side, type, float(amount), price, test, endpoint,
            phase=_phase_of(self.exchange.sink), reason=reason,
            reference_price=reference_price))
        try:
            if test:
                order = self._validate(record)
            else:
                self._check_gate(record)
                order = self._place(record)
        finally:
            record.settled.set()
            self._announce(record)
        return order

    def _check_gate(self, record: OrderRecord) -> None:
        try:
            self.gate.check(f"create_order {record.client_order_id} ({record.side} "
                            f"{_number(record.amount)} {record.symbol})", record.endpoint)
        except OrderRefused as exc:
            record.settle("refused", error=str(exc))
            self.exchange.sink.record("order", "create_order", False, None, "OrderRefused", 1,
                                      record.symbol, final=True)
            raise

    def _send(self, record: OrderRecord, test: bool) -> Order:
        """One order request; an answer without an exchange order id is no answer."""
        order = self.exchange.inner.create_order(
            record.symbol, record.side, record.type, record.amount, record.price,
            client_order_id=record.client_order_id, test=test)
        if not test and not (order or {}).get("id"):
            raise NetworkFailure("the order's answer carries no exchange order id",
                                 origin="BadResponse")
        return order

    def _validate(self, record: OrderRecord) -> Order:
        """A test order places nothing, so it is retried like a read."""
        try:
            order = self.exchange._with_retries("create_order", lambda: self._send(record, True),
                                                record.symbol)
        except Exception as exc:
            record.settle("rejected" if isinstance(exc, RequestRejected) else "failed",
                          error=f"{error_name(exc)}: {exc}")
            raise
        record.settle("test")
        return order

    def _place(self, record: OrderRecord) -> Order:
        """Send an order for real.  Only a request refused before processing (rate limit) is
        retried blindly; one whose outcome may be unknown is looked up first, and resent (the
        next attempt number) only once the look-up proves the exchange never had it.

        An attempt whose outcome may be unknown is recorded final=true: its event is recorded
        before the look-up that decides whether anything follows, and most often nothing does
        (the order is found, or the look-up fails).  A resend after "not found" therefore
        counts as a call of its own (conservative: the lost request counts as a failed call).
        """
        exchange, policy = self.exchange, self.exchange.policy

        def retries(exc: Exception, attempt: int) -> bool:
            """Retried without a look-up: a retryable refusal before processing, never a
            request that may have been processed."""
            return (not _outcome_unknown(exc) and attempt < policy.max_attempts
                    and is_retryable(exc))

        attempt = 1
        while True:
            record.sent_at = time.monotonic()
            tried = exchange._run_attempt("create_order", lambda: self._send(record, False),
                                          attempt, record.symbol, retries)
            exc = tried.error
            if exc is None:
                record.settle(order_status(tried.value), order=tried.value)
                return tried.value
            if isinstance(exc, RequestRejected):  # a definite no: nothing was placed
                record.settle("rejected", error=f"{error_name(exc)}: {exc}")
                raise exc
            if not _outcome_unknown(exc):  # refused before processing (rate limit, guard)
                if tried.retry:
                    exchange._wait_to_retry("create_order", exc, attempt, record.symbol)
                    attempt += 1
                    continue
                refused = isinstance(exc, OrderRefused)
                record.settle("refused" if refused else "failed",
                              error=f"{error_name(exc)}: {exc}")
                raise exc
            found = self.look_up(record, cause=exc)  # raises OrderOutcomeUnknown
            if found is not None:
                return found
            if attempt < policy.max_attempts and (is_retryable(exc)
                                                  or isinstance(exc, ResendRefused)):
                exchange.inner.allow_resend(record.client_order_id)
                record.status = "sending"
                exchange._backoff("create_order", exc, attempt)
                attempt += 1
                continue
            raise exc

    # -- looking up and reconciling -------------------------------------------------------

    def look_up(self, record: OrderRecord, cause: BaseException | None = None) -> Order | None:
        """The order as the exchange knows it (ledger updated), None when it provably has none.

        "No such order" is proof only once the request can no longer be processed (the
        adapter's `order_expiry_s` after it was sent, Binance's recvWindow): before that the
        desk waits out the rest and asks again.  Raises OrderOutcomeUnknown (ledger: unknown)
        when the look-up itself keeps failing.
        """
        found = self._fetch(record, cause)
        if found is None and record.sent_at is not None:
            remaining = record.sent_at + self.exchange.inner.order_expiry_s - time.monotonic()
            if remaining > 0:
                log.info("order %s not found yet; asking again once its request has expired "
                         "(%.1fs)", record.client_order_id, remaining)
                self.exchange._sleep(remaining)
                found = self._fetch(record, cause)
        if found is None:
            record.settle("not_found", reconciled=True,
                          error=f"{error_name(cause)}: {cause}" if cause is not None else None)
            return None
        record.settle(order_status(found), order=found, reconciled=True)
        return found

    def _fetch(self, record: OrderRecord, cause: BaseException | None) -> Order | None:
        try:
            return self.exchange._with_retries(
                "fetch_order", lambda: self.exchange.inner.fetch_order(
                    record.symbol, client_order_id=record.client_order_id),
                record.symbol, policy=self.lookup_policy)
        except Exception as exc:
            why = f"look-up failed ({error_name(exc)}: {exc})"
            if cause is not None:
                why = f"{error_name(cause)}: {cause}; then {why}"
            record.settle("unknown", error=why)
            raise OrderOutcomeUnknown(
                f"order {record.client_order_id} ({record.side} {_number(record.amount)} "
                f"{record.symbol}): outcome unknown: {why}",
                client_order_id=record.client_order_id) from exc

    def reconcile(self, wait_s: float | None = None) -> list[OrderRecord]:
        """Settle every unresolved order by looking it up; returns those still unknown."""
        timeout = self.exchange.inner.request_timeout_s + 1.0 if wait_s is None else wait_s
        for record in self.ledger.unresolved():
            if not record.settled.wait(timeout):
                record.status = "unknown"
                record.error = f"its request was still in flight after {_number(timeout)} s"
            try:
                self.look_up(record)
            except OrderOutcomeUnknown:
                continue
            log.warning("order %s reconciled by client order id: %s", record.client_order_id,
                        record.status)
        return self.ledger.unresolved()

    # -- cancelling ----------------------------------------------------------------------

    def cancel(self, symbol: str, *, client_order_id: str) -> Order:
        """Cancel an order (a state change, so the gate is asked first); retried like a read:
        cancelling twice is harmless."""
        self.gate.check(f"cancel_order {client_order_id} ({symbol})",
                        self.exchange.endpoint_kind)
        order = self.exchange._with_retries(
            "cancel_order", lambda: self.exchange.inner.cancel_order(
                symbol, client_order_id=client_order_id), symbol)
        record = self.ledger.get(client_order_id)
        if record is not None:
            record.settle(order_status(order or {"status": "canceled"}), order=order)
        return order

    def cancel_open(self) -> tuple[int, list[str]]:
        """Cancel every order this run left open; (cancelled, problems)."""
        cancelled, problems = 0, []
        for record in self.ledger.open_orders():
            try:
                self.cancel(record.symbol, client_order_id=record.client_order_id)
                cancelled += 1
            except Exception as exc:  # keep going: every open order deserves its attempt
                problems.append(f"{record.client_order_id}: {error_name(exc)}: {exc}")
        return cancelled, problems

    # -- telling the operator ------------------------------------------------------------

    def _announce(self, record: OrderRecord) -> None:
        """One console line per order: what, where (test/sandbox/live), and what became of it."""
        mode = "TEST ORDER, not placed" if record.test else MODE_LABELS[record.endpoint]
        reference = record.reference_price
        price = (f" @ {_number(record.price)}" if record.price is not None else
                 f" ~{_number(reference)}" if reference is not None else "")
        ident = f", exchange id {record.exchange_id}" if record.exchange_id else ""
        line = (f"order {record.client_order_id}: {record.side.upper()} {_number(record.amount)} "
                f"{record.symbol} {record.type}{price} [{mode}] -> {record.status}{ident}")
        live = not record.test and record.endpoint == REAL_MONEY
        if live or record.status in ("unknown", "refused"):
            log.warning(line)
        elif record.test and record.reason is None:  # e.g. the load phase's many test orders
            log.debug(line)
        else:
            log.info(line)


def _outcome_unknown(exc: BaseException) -> bool:
    """Could the request have taken effect?  Yes for network failures and for anything the
    adapter did not translate (an unexpected exception proves nothing)."""
    return isinstance(exc, (NetworkFailure, ResendRefused)) or not isinstance(exc, ExchangeError)


__all__ = ["OPEN", "OrderDesk"]
