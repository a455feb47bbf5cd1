"""execution: check every intended order against market limits and submit it (dry-run: validate).

Reads ctx.data: intended_orders (from strategy; unset counts as none), tickers (market_data)
and markets (connect).  When the strategy intends no order, one minimum-size probe is sent so
that every run exercises and measures the order path — always as a test order (validated by the
exchange, never placed), whatever the mode: no run places an order its strategy did not ask for.
Each order carries a client order id derived from the run id, so it can be looked up and is
never placed twice.

Orders go through the exchange boundary's order desk (adapters/order_desk.py): it asks the
order gate, keeps the ledger that becomes orders.parquet, and reconciles unknown outcomes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from adapters.errors import OrderOutcomeUnknown
from adapters.ledger import OrderRecord
from runner.order_ids import client_order_id
from runner.phases.preflight import key_variables
from runner.run_data import IntendedOrder
from runner.shared.errors import PhaseError, PhaseSkipped
from runner.shared.secrets import mask
from runner.sizing import minimum_size, size_from_quote

if TYPE_CHECKING:
    from runner.context import RunContext

PROBE_REASON = "probe: no intended order, exercising the order path (test order, never placed)"


def _price(ticker: dict[str, Any], side: str) -> float:
    return float(ticker["ask"] if side == "buy" else ticker["bid"])


def _plan_orders(ctx: RunContext, probe_when_idle: bool) -> list[IntendedOrder]:
    if ctx.data.intended_orders is None:  # e.g. a strategy of the user's that sets nothing
        ctx.log.info("no strategy set ctx.data.intended_orders: no order is intended")
    intended = list(ctx.data.intended_orders or [])
    if intended or not probe_when_idle:
        return intended
    symbol = ctx.symbols[0]
    price = _price(ctx.data.require_tickers()[symbol], "buy")
    probe = minimum_size(ctx.data.require_markets()[symbol], price)
    return [IntendedOrder(symbol=symbol, side="buy", type="market", amount=probe.amount,
                          reason=PROBE_REASON, probe=True)]


def no_keys(env: str) -> str:
    """Why the phase is skipped, naming the variables this env reads its keys from."""
    return (f"needs API keys: adapter.api_key and adapter.secret are empty "
            f"(set {key_variables(env)})")


def _submit(ctx: RunContext, number: int, order: IntendedOrder) -> str | None:
    """Size and send one intended order; returns what went wrong, or None."""
    symbol, side = order.symbol, order.side
    price = _price(ctx.data.require_tickers()[symbol], side)
    if order.amount is not None:
        amount, problem = order.amount, None
    else:
        assert order.quote is not None  # IntendedOrder holds exactly one of the two
        sized = size_from_quote(ctx.data.require_markets()[symbol], order.quote, price)
        amount, problem = sized.amount, sized.problem
    cid = client_order_id(ctx.run_id, number)
    test = ctx.dry_run or order.probe
    if problem:  # never sent; still an order of this run's, in the ledger and orders.parquet
        ctx.exchange.orders.ledger.begin(OrderRecord(
            cid, symbol, side, order.type, float(amount), None, test,
            ctx.exchange.endpoint_kind, phase="execution", reason=order.reason,
            reference_price=price, status="rejected_locally", error=problem))
        return f"{cid} {symbol} {side}: {problem}"
    try:
        ctx.exchange.create_order(symbol, side, order.type, amount, client_order_id=cid,
                                  test=test, reason=order.reason, reference_price=price)
    except OrderOutcomeUnknown as exc:  # a state, reconciled before the run ends
        return mask(f"{cid} {symbol} {side}: outcome unknown, reconciled in cleanup ({exc})")
    except Exception as exc:  # the order's fate is the finding; recorded by the wrapper
        return mask(f"{cid} {symbol} {side}: {type(exc).__name__}: {exc}")
    return None


def run(ctx: RunContext, *, probe_when_idle: bool = True) -> dict[str, Any]:
    from runner import live_guard  # here: building a plan imports this module, not the guard

    refused = live_guard.problems(ctx.config)  # checked before the run too; the gate at each call
    if refused:
        raise PhaseError(refused[0])
    if not ctx.exchange.has_keys:  # order validation and placement are signed requests
        raise PhaseSkipped(no_keys(ctx.env))
    planned = _plan_orders(ctx, probe_when_idle)
    failures = [f for f in (_submit(ctx, n, o) for n, o in enumerate(planned, 1)) if f]
    if failures:
        raise PhaseError(f"{len(failures)} of {len(planned)} order(s) failed: "
                         + "; ".join(failures))
    return {"orders": len(planned), "test": ctx.dry_run,
            "probe": any(o.probe for o in planned)}
