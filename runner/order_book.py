"""The run's orders at its end: a last reconciliation, orders.parquet, and the verdict's input.

The cleanup phase reconciles and cancels; this runs after every phase (also when cleanup was
disabled, interrupted or failed), so an order still unresolved gets one more look-up, and the
ledger of the exchange boundary — every order of the run, from any phase — becomes
orders.parquet.  An order whose outcome stays unknown fails the run (runner/verdict.py).
"""

from __future__ import annotations

from typing import Any

from runner.context import RunContext

ORDERS_ARTIFACT = "orders"
ORDER_COLUMNS = {"client_order_id": "String", "symbol": "String", "side": "String",
                 "type": "String", "amount": "Float64", "price": "Float64", "test": "Boolean",
                 "endpoint": "String", "phase": "String", "reason": "String",
                 "reference_price": "Float64", "status": "String",
                 "exchange_id": "String", "filled": "Float64", "average": "Float64",
                 "error": "String",
                 "reconciled": "Boolean"}


def settle_orders(ctx: RunContext) -> dict[str, Any] | None:
    """Reconcile what is still unresolved, write orders.parquet; the ledger's summary (None when
    the run never built an exchange)."""
    if not ctx.exchange_built:
        return None
    import polars as pl

    from runner.shared.secrets import mask

    desk = ctx.exchange.orders
    if desk.ledger.unresolved():
        ctx.log.warning(f"{len(desk.ledger.unresolved())} order(s) still unresolved after the "
                        "phases; looking them up once more")
        desk.reconcile()
    rows = desk.ledger.rows()
    for row in rows:
        row["error"] = mask(row["error"]) if row["error"] else None
    if rows:
        schema = {name: getattr(pl, dtype) for name, dtype in ORDER_COLUMNS.items()}
        ctx.write_artifact(ORDERS_ARTIFACT, pl.DataFrame(rows, schema=schema))
    return desk.ledger.summary()


def unresolved_line(summary: dict[str, Any] | None) -> str | None:
    """The run's failure reason when an order's outcome stayed unknown."""
    if not summary or not summary["unresolved"]:
        return None
    ids = ", ".join(summary["unresolved"])
    return (f"{len(summary['unresolved'])} order(s) with an unknown outcome after "
            f"reconciliation ({ids}): check them on the exchange by client order id")
