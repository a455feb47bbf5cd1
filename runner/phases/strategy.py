"""strategy: signals from ctx.data.ohlcv (signals.parquet) and the orders they intend
(-> ctx.data.intended_orders).

Only a signal on the newest candle becomes an intended order: older crosses are history the bot
would already have acted on.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from runner.run_data import IntendedOrder
from runner.strategies import STRATEGIES

if TYPE_CHECKING:
    from runner.context import RunContext


def run(ctx: RunContext) -> dict[str, Any]:
    import polars as pl

    settings = ctx.config["strategy"]
    signals = STRATEGIES[settings["name"]](ctx.data.require_ohlcv(), **settings)
    ctx.write_artifact("signals", signals)
    newest = signals.group_by("symbol", maintain_order=True).last()
    intended = [
        IntendedOrder(symbol=row["symbol"], side="buy" if row["signal"] > 0 else "sell",
                      type="market", quote=float(settings.get("order_quote", 25.0)),
                      reason=f"{settings['name']} signal at {row['ts']}")
        for row in newest.filter(pl.col("signal") != 0).iter_rows(named=True)
    ]
    ctx.data.intended_orders = intended
    crosses = signals.filter(pl.col("signal") != 0).height
    ctx.log.info(f"strategy {settings['name']}: {crosses} crosses in history, "
                 f"{len(intended)} intended order(s) now")
    return {"strategy": settings["name"], "crosses": crosses, "intended_orders": len(intended)}
