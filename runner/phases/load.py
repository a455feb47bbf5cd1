"""load: drive N read calls and M validate-only orders to measure latency distributions.

Orders sent here are always test orders (validated, never placed), whatever dry_run says: a load
test must never trade.  The phase stops early when the run is interrupted or the attempt timed out.

A soak's 100,000 calls take seconds, so the phase shows its progress (runner/shared/progress.py):
a bar on a terminal, else a status line every 1.5 s
(`load: 40,000/101,000 (40%), 9,950 calls/s, 4.0 s elapsed, 0 errors`; an order counts as one
call), and one last line when it ends.  The percentiles it returns are in the run's closing
summary (runner/summary.py) and in result.json.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from runner.order_ids import client_order_id
from runner.shared.progress import Progress
from runner.sizing import minimum_size

if TYPE_CHECKING:
    from runner.context import RunContext


def _percentiles(latencies: list[float]) -> dict[str, float | None]:
    if not latencies:
        return {"p50_ms": None, "p95_ms": None, "p99_ms": None, "max_ms": None}
    import polars as pl

    series = pl.Series(latencies)
    return {f"p{q}_ms": round(float(series.quantile(q / 100, "nearest")), 3)
            for q in (50, 95, 99)} | {"max_ms": round(float(series.max()), 3)}


def run(ctx: RunContext, *, calls: int = 1000, orders: int = 100) -> dict[str, Any]:
    exchange, symbols = ctx.exchange, ctx.symbols
    markets = ctx.data.markets or exchange.load_markets()  # connect is optional here
    call_ms: list[float] = []
    order_ms: list[float] = []
    errors = 0
    with Progress("load", calls + orders, unit="calls",
                  extra=lambda: f"{errors:,} error{'' if errors == 1 else 's'}") as progress:
        for i in range(calls):
            if ctx.cancelled:
                break
            try:
                exchange.fetch_ticker(symbols[i % len(symbols)])
                call_ms.append(exchange.last_latency_ms)
            except Exception:  # counted here, recorded (with its class) by the wrapper
                errors += 1
            progress.update()
        for i in range(orders):
            if ctx.cancelled:
                break
            symbol = symbols[i % len(symbols)]
            try:
                price = float(exchange.fetch_ticker(symbol)["ask"])
                amount = minimum_size(markets[symbol], price).amount
                exchange.create_order(symbol, "buy", "market", amount,
                                      client_order_id=client_order_id(ctx.run_id, f"L{i}"),
                                      test=True)
                order_ms.append(exchange.last_latency_ms)
            except Exception:
                errors += 1
            progress.update()
    return {"calls": len(call_ms), "orders": len(order_ms), "errors": errors,
            "stopped_early": ctx.cancelled,
            "fetch_ticker": _percentiles(call_ms), "create_order": _percentiles(order_ms)}
