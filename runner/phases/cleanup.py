"""cleanup (always runs): settle every order of this run, cancel what it left open, close the
exchange connection.

Orders whose outcome is unknown (a lost answer, a phase that timed out mid-request) are looked
up by client order id here (adapters/order_desk.py), so the run records the truth — placed and
open or filled, or never placed — before it ends.  One that stays unknown fails the run
(runner/verdict.py) with its client order id, so the operator can check it on the exchange.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from runner.shared.tables import number

if TYPE_CHECKING:
    from runner.context import RunContext



def run(ctx: RunContext) -> dict[str, Any]:
    if not ctx.exchange_built:
        return {"cancelled_orders": 0, "cancel_failures": 0, "unresolved_orders": 0,
                "exchange_closed": False}
    desk = ctx.exchange.orders
    unresolved = desk.reconcile()
    cancelled, problems = desk.cancel_open()
    for problem in problems:
        ctx.log.error(f"cleanup could not cancel {problem}")
    for record in unresolved:
        ctx.log.error(f"order {record.client_order_id} ({record.side} {number(record.amount, 8)} "
                      f"{record.symbol}): outcome still unknown after reconciliation "
                      f"({record.error}); check it on the exchange by this client order id")
    ctx.exchange.close()
    return {"cancelled_orders": cancelled, "cancel_failures": len(problems),
            "unresolved_orders": len(unresolved), "exchange_closed": True}
