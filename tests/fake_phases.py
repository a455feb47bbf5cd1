"""Phase functions for tests: each misbehaves in one way a real phase might."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from adapters.errors import RetryableError


def ok(ctx: Any, *, value: int = 1) -> dict[str, Any]:
    return {"value": value}


def fail(ctx: Any, *, message: str = "boom") -> None:
    raise ValueError(message)


def sleepy(ctx: Any, *, seconds: float = 5.0) -> dict[str, Any]:
    """Sleeps cooperatively: returns early once the attempt is cancelled (timeout or signal)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if ctx.cancelled:
            return {"stopped_early": True}
        time.sleep(0.01)
    return {"stopped_early": False}


def stubborn(ctx: Any, *, seconds: float = 5.0) -> None:
    """Ignores cancellation entirely, like a phase stuck in a blocking call."""
    time.sleep(seconds)


def flaky(ctx: Any, *, failures: int = 2) -> dict[str, Any]:
    """Fails with a retryable error `failures` times, then succeeds (counting in ctx.scratch,
    where a user's own phase keeps its data across attempts)."""
    count = ctx.scratch.get("flaky_calls", 0) + 1
    ctx.scratch["flaky_calls"] = count
    if count <= failures:
        raise RetryableError(f"transient failure {count}")
    return {"calls": count}


def marker(ctx: Any, *, name: str = "marker") -> None:
    """Leaves a file behind, so a test can tell the phase ran (even across processes)."""
    Path(ctx.run_dir, f"{name}.ran").write_text("yes")


def record_many(ctx: Any, *, events: int = 1000, then_sleep_s: float = 0.0) -> None:
    for _ in range(events):
        ctx.recorder.record("api_call", "fetch_ticker", True, 1.0, None, 1, "BTC/USDT")
    time.sleep(then_sleep_s)


def log_stdlib(ctx: Any, *, message: str = "hello from stdlib") -> None:
    """Logs through the standard library, as ccxt and urllib3 do."""
    import logging

    logging.getLogger("ccxt.fake").info(message)
    logging.getLogger("ccxt.fake").debug(message + " (debug)")


def record_then_wait(ctx: Any, *, events: int = 10_000, wait_s: float = 60.0) -> None:
    """Records `events`, leaves a marker, then waits (to be killed)."""
    record_many(ctx, events=events)
    Path(ctx.run_dir, "recorded.marker").write_text("yes")
    sleepy(ctx, seconds=wait_s)


def needs_keys(ctx: Any) -> None:
    """Stands for a phase that cannot run here."""
    from runner.shared.errors import PhaseSkipped

    raise PhaseSkipped("needs API keys: set BINANCE_TESTNET_API_KEY and _SECRET")


def leak_secrets(ctx: Any, *, token: str | None = None,
                 env_vars: list[str] | None = None) -> dict[str, Any]:
    """Does its worst with every secret it can reach: logs it the way ccxt logs request headers
    (stdlib, DEBUG), through loguru, with a traceback, returns it, then fails quoting it."""
    import logging
    import os

    values = [v for v in [token, *(os.environ.get(n) for n in env_vars or [])] if v]
    Path(ctx.run_dir, "secrets.found").write_text(str(len(values)))  # a count, no value
    ccxt_log = logging.getLogger("ccxt.base.exchange")
    for value in values:
        ccxt_log.debug(f"GET /api/v3/account, Request: {{'X-MBX-APIKEY': '{value}'}}")
        ccxt_log.warning(f"key {value} rejected")
        ctx.log.debug(f"loguru sees {value}")
        try:
            raise PermissionError(f"invalid signature for {value}")
        except PermissionError:
            ccxt_log.exception(f"request with {value} failed")
    if values:
        raise RuntimeError(f"API-key format invalid: {values}")
    return {"found": len(values)}


def intend_buy(ctx: Any, *, quote: float = 25.0) -> dict[str, Any]:
    """A strategy that wants one market buy now (the built-in one rarely does)."""
    from runner.run_data import IntendedOrder

    ctx.data.intended_orders = [IntendedOrder(symbol=ctx.symbols[0], side="buy", type="market",
                                              quote=quote, reason="test strategy: buy")]
    return {"intended_orders": 1}


def place_order(ctx: Any, *, test: bool = False, via: str = "wrapper",
                amount: float = 0.001) -> dict[str, Any]:
    """A user's own phase placing an order itself: through ctx.exchange (`wrapper`), past it to
    the adapter (`adapter`), or to the raw ccxt client (`client`)."""
    symbol, cid = ctx.symbols[0], f"user-{ctx.run_id[-6:]}"
    if via == "wrapper":
        order = ctx.exchange.create_order(symbol, "buy", "market", amount, client_order_id=cid,
                                          test=test)
    elif via == "adapter":
        order = ctx.exchange.inner.create_order(symbol, "buy", "market", amount,
                                                client_order_id=cid, test=test)
    else:
        order = ctx.exchange.inner.client.create_order(symbol, "market", "buy", amount, None,
                                                       {"newClientOrderId": cid})
    return {"status": order.get("status")}
