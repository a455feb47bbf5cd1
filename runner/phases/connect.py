"""connect: reach the exchange, load its markets (-> ctx.data.markets), measure ping and skew."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from runner.health import clock_skew_ms
from runner.shared.errors import PhaseError

if TYPE_CHECKING:
    from runner.context import RunContext


def run(ctx: RunContext) -> dict[str, Any]:
    exchange = ctx.exchange
    exchange.connect()
    markets = exchange.load_markets()
    missing = [s for s in ctx.symbols if s not in markets]
    if missing:
        listed = ", ".join(sorted(markets)[:10])
        raise PhaseError(f"symbols not listed by {exchange.name}: {', '.join(missing)}; "
                         f"listed: {listed}{', ...' if len(markets) > 10 else ''}")
    ctx.data.markets = {s: markets[s] for s in ctx.symbols}
    exchange.ping()
    ping_ms = exchange.last_latency_ms
    skew_ms = clock_skew_ms(exchange)
    ctx.log.info(f"connected to {exchange.name}: {len(markets)} markets, ping {ping_ms:.1f} ms, "
                 f"clock skew {skew_ms:+.0f} ms")
    return {"exchange": exchange.name, "markets": len(markets), "ping_ms": round(ping_ms, 3),
            "clock_skew_ms": round(skew_ms, 1)}
