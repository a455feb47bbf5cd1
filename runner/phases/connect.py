"""connect: reach the exchange, load its markets (-> ctx.data.markets), measure ping and skew.

Its failure line ends with what to do: for a network failure (its root cause is already in the
message, adapters/errors.py) check the network or run offline; for refused keys, which to set.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from adapters.endpoints import IN_PROCESS
from adapters.errors import AuthFailed, NetworkFailure
from runner.health import clock_skew_ms
from runner.phases.preflight import key_variables
from runner.shared.errors import PhaseError

if TYPE_CHECKING:
    from runner.context import RunContext


NETWORK_HINT = "check the network / proxy settings, or run offline with env=local"


def run(ctx: RunContext) -> dict[str, Any]:
    try:
        return _connect(ctx)
    except NetworkFailure as exc:
        if (ctx.exchange.endpoint_kind == IN_PROCESS
                or ctx.config["adapter"].get("simulator") is not None):  # offline already
            raise
        raise type(exc)(f"{exc} — {NETWORK_HINT}", origin=exc.origin,
                        retry_after_s=exc.retry_after_s) from exc
    except AuthFailed as exc:
        raise type(exc)(f"{exc} — check the API keys: {key_variables(ctx.env)}",
                        origin=exc.origin, retry_after_s=exc.retry_after_s) from exc


def _connect(ctx: RunContext) -> dict[str, Any]:
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
