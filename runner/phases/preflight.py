"""preflight: state the safety facts loudly and prove the run folder is writable."""

from __future__ import annotations

import os
import shutil
from typing import TYPE_CHECKING, Any

from adapters.endpoints import SANDBOX
from runner.shared.errors import PhaseError

if TYPE_CHECKING:
    from runner.context import RunContext

LIVE_MODE = "LIVE — REAL MONEY"
MEANING = {
    "DRY-RUN": "orders are only validated, none is placed",
    "TESTNET DRY-RUN": "orders are validated by the testnet's test endpoint, none is placed",
    "TESTNET": "orders are PLACED on the exchange's testnet (no real money)",
    "ORDERS ENABLED (non-live)": "orders are PLACED, on a simulated or sandbox exchange",
    LIVE_MODE: "orders are PLACED WITH REAL MONEY",
}
# Where each env's config (conf/env/*.yaml) reads the ccxt adapter's keys from.
KEY_VARIABLES = {
    "testnet": ("BINANCE_TESTNET_API_KEY", "BINANCE_TESTNET_API_SECRET"),
    "live": ("BINANCE_API_KEY", "BINANCE_API_SECRET"),
}
CCXT_TARGET = "adapters.ccxt_exchange.CcxtExchange"


def key_variables(env: str) -> str:
    """What to set for this env's API keys, in words."""
    names = KEY_VARIABLES.get(env)
    if names is None:
        return "adapter.api_key and adapter.secret"
    return f"{names[0]} and {names[1]} (environment or .env)"


def mode(ctx: RunContext, endpoint: str | None = None) -> str:
    """DRY-RUN unless orders are enabled; TESTNET only when the exchange really is the sandbox
    (`endpoint`, judged from the client's URLs; the env name when unknown); LIVE — REAL MONEY
    only for env=live with dry_run=false (the live guard has checked the confirmation by then)."""
    testnet = endpoint == SANDBOX if endpoint is not None else ctx.env == "testnet"
    if ctx.dry_run:
        return "TESTNET DRY-RUN" if testnet else "DRY-RUN"
    if ctx.env == "live":
        return LIVE_MODE
    return "TESTNET" if testnet else "ORDERS ENABLED (non-live)"


def run(ctx: RunContext) -> dict[str, Any]:
    endpoint = ctx.exchange.endpoint_kind  # builds the adapter: a bad one fails here, early
    current = mode(ctx, endpoint)
    banner = (f"mode: {current} — {MEANING[current]} | env={ctx.env} | "
              f"adapter={ctx.config['adapter']['name']} | endpoint: {endpoint}")
    if current == LIVE_MODE:
        ctx.log.warning("!" * 72)
        ctx.log.warning(banner)
        ctx.log.warning("!" * 72)
    else:
        (ctx.log.info if current.endswith("DRY-RUN") else ctx.log.warning)(banner)
    if ctx.config["adapter"].get("_target_") == CCXT_TARGET and not ctx.exchange.has_keys:
        ctx.log.warning(f"no API keys: signed calls (balances, orders) will be skipped; set "
                        f"{key_variables(ctx.env)} for env={ctx.env} (docs/ADAPTERS.md)")
    probe = ctx.run_dir / ".write_probe"
    try:
        probe.write_bytes(b"ok")
        probe.unlink()
    except OSError as exc:
        raise PhaseError(f"run folder {ctx.run_dir} is not writable: {exc}") from None
    return {
        "mode": current,
        "endpoint": endpoint,
        "env": ctx.env,
        "adapter": ctx.config["adapter"]["name"],
        "dry_run": ctx.dry_run,
        "symbols": ctx.symbols,
        "phases": list(ctx.config["phases"]),
        "free_disk_mb": round(shutil.disk_usage(ctx.run_dir).free / 2**20, 1),
        "pid": os.getpid(),
    }
