"""cleanup (always runs): cancel what this run left open, close the exchange connection."""

from __future__ import annotations

from typing import Any

from runner.context import RunContext


def run(ctx: RunContext) -> dict[str, Any]:
    cancelled, problems = 0, []
    if ctx.exchange_built:
        for order in ctx.artifacts.get("open_orders", []):
            try:
                ctx.exchange.cancel_order(order["symbol"],
                                          client_order_id=order["client_order_id"])
                cancelled += 1
            except Exception as exc:  # keep going: every open order deserves its attempt
                problems.append(f"{order['client_order_id']}: {type(exc).__name__}: {exc}")
        ctx.exchange.close()
    for problem in problems:
        ctx.log.error(f"cleanup could not cancel {problem}")
    return {"cancelled_orders": cancelled, "cancel_failures": len(problems),
            "exchange_closed": ctx.exchange_built}
