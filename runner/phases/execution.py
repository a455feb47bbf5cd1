"""execution: check every intended order against market limits and submit it (dry-run: validate).

When the strategy intends no order, one minimum-size probe order is sent, so every run exercises
and measures the order path.  Each order carries a client order id derived from the run id, so a
retry after a network error can never place it twice.
"""

from __future__ import annotations

from typing import Any

from runner import live_guard
from runner.context import RunContext
from runner.errors import PhaseError, PhaseSkipped
from runner.order_ids import client_order_id
from runner.secrets import mask
from runner.sizing import minimum_size, size_from_quote


def _price(ticker: dict[str, Any], side: str) -> float:
    return float(ticker["ask"] if side == "buy" else ticker["bid"])


def _plan_orders(ctx: RunContext, probe_when_idle: bool) -> list[dict[str, Any]]:
    intended = list(ctx.artifacts.get("intended_orders", []))
    if intended or not probe_when_idle:
        return intended
    symbol = ctx.symbols[0]
    price = _price(ctx.artifacts["tickers"][symbol], "buy")
    probe = minimum_size(ctx.artifacts["markets"][symbol], price)
    return [{"symbol": symbol, "side": "buy", "type": "market", "amount": probe.amount,
             "reason": "probe: no intended order, exercising the order path"}]


NO_KEYS = ("needs API keys: adapter.api_key and adapter.secret are empty (testnet: set "
           "BINANCE_TESTNET_API_KEY and BINANCE_TESTNET_API_SECRET in the environment or .env)")


def run(ctx: RunContext, *, probe_when_idle: bool = True) -> dict[str, Any]:
    import polars as pl

    refused = live_guard.problems(ctx.config)  # checked before the run too; no order without it
    if refused:
        raise PhaseError(refused[0])
    if not ctx.exchange.has_keys:  # order validation and placement are signed requests
        raise PhaseSkipped(NO_KEYS)
    rows, failures = [], []
    for number, order in enumerate(_plan_orders(ctx, probe_when_idle), 1):
        symbol, side = order["symbol"], order["side"]
        price = _price(ctx.artifacts["tickers"][symbol], side)
        market = ctx.artifacts["markets"][symbol]
        if "amount" in order:
            amount, problem = order["amount"], None
        else:
            sized = size_from_quote(market, order["quote"], price)
            amount, problem = sized.amount, sized.problem
        row = {"client_order_id": client_order_id(ctx.run_id, number), "symbol": symbol,
               "side": side, "type": order["type"], "amount": amount, "price": price,
               "test": ctx.dry_run,
               "reason": order["reason"], "status": None, "exchange_id": None, "error": None}
        if problem:
            row.update(status="rejected_locally", error=problem)
        else:
            try:
                placed = ctx.exchange.create_order(
                    symbol, side, order["type"], amount, client_order_id=row["client_order_id"],
                    test=ctx.dry_run)
                row.update(status=placed.get("status") or "accepted",
                           exchange_id=placed.get("id"))
                if placed.get("status") == "open":
                    ctx.artifacts.setdefault("open_orders", []).append(row)
            except Exception as exc:  # the order's fate is the finding; recorded by the wrapper
                row.update(status="error", error=mask(f"{type(exc).__name__}: {exc}"))
        if row["error"]:
            failures.append(f"{row['client_order_id']} {symbol} {side}: {row['error']}")
        rows.append(row)
    ctx.write_artifact("orders", pl.DataFrame(rows, infer_schema_length=None))
    ctx.artifacts["orders"] = rows
    if failures:
        raise PhaseError(f"{len(failures)} of {len(rows)} order(s) failed: " + "; ".join(failures))
    return {"orders": len(rows), "test": ctx.dry_run,
            "probe": any(r["reason"].startswith("probe") for r in rows)}
