"""The live guard: real-money orders need env=live AND dry_run=false AND a confirmation that only
the shell's environment can give (DESIGN.md section 8).

    PXR_LIVE_CONFIRM=I_UNDERSTAND_REAL_MONEY python -m runner env=live dry_run=false

The confirmation is read from `os.environ` directly, never through the config, so no config file
can give it: a `.env` file cannot either (runner.secrets skips it there), and a value that Hydra
itself put into the environment from the config (`hydra.job.env_set`) is not accepted.

Two rules, checked before anything runs (app.prepare: exit 2, one line) and again by the
execution phase right before it would place an order:

1. env=live with dry_run=false needs the confirmation, whatever the adapter.
2. dry_run=false against an endpoint that may be a real-money one needs env=live (so rule 1
   applies): every adapter except the in-process simulator (`paper`) and nodes that point at a
   sandbox (`sandbox: true`), the built-in simulator (`simulator: ...`) or a loopback `base_url`.
   This closes `env=dev adapter=binance dry_run=false` reaching the real exchange unconfirmed.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

CONFIRM_VAR = "PXR_LIVE_CONFIRM"
CONFIRM_VALUE = "I_UNDERSTAND_REAL_MONEY"
LIVE_ENV = "live"
SAFE_FACTORIES = ("adapters.paper",)  # modules whose adapters never leave the process
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")

HOW = (f"set it in the shell for this one command: {CONFIRM_VAR}={CONFIRM_VALUE} "
       "python -m runner env=live dry_run=false ... (or use dry_run=true to validate orders "
       "only)")


def _set_by_hydra_config() -> bool:
    """True when Hydra put the variable into the environment from the config (job.env_set)."""
    try:
        from hydra.core.hydra_config import HydraConfig

        return HydraConfig.initialized() and CONFIRM_VAR in (HydraConfig.get().job.env_set or {})
    except Exception:  # no Hydra run around us (a test, a library user): nothing set by config
        return False


def confirmation_problem(environ: Mapping[str, str] | None = None) -> str | None:
    """None when the confirmation is given; else what is wrong with it, in words."""
    value = (os.environ if environ is None else environ).get(CONFIRM_VAR)
    if environ is None and value is not None and _set_by_hydra_config():
        return "is set by the config (hydra.job.env_set), which does not count"
    if value is None:
        return "is not set"
    if value != CONFIRM_VALUE:
        return f"is set, but not to exactly {CONFIRM_VALUE}"
    return None


def real_money_endpoint(adapter: Mapping[str, Any]) -> bool:
    """Whether this adapter node may reach an exchange with real money (conservative)."""
    module = str(adapter.get("factory", "")).partition(":")[0]
    if module in SAFE_FACTORIES:
        return False
    if adapter.get("sandbox") is True or adapter.get("simulator") is not None:
        return False
    base_url = adapter.get("base_url")
    return not (base_url and urlsplit(str(base_url)).hostname in LOOPBACK_HOSTS)


def problems(config: Mapping[str, Any], environ: Mapping[str, str] | None = None) -> list[str]:
    """Why this run may not place orders: empty when it may (or when it only validates them)."""
    if config["dry_run"]:
        return []
    env = config["env"]["name"]
    if env == LIVE_ENV:
        missing = confirmation_problem(environ)
        if missing is None:
            return []
        return [f"live guard: env=live with dry_run=false places REAL-MONEY orders and needs the "
                f"environment variable {CONFIRM_VAR}={CONFIRM_VALUE}, which {missing}; {HOW}"]
    adapter = config["adapter"]
    if real_money_endpoint(adapter):
        return [f"live guard: dry_run=false with adapter '{adapter.get('name')}' on a real-money "
                f"endpoint (no sandbox, simulator or loopback base_url) needs env=live and "
                f"{CONFIRM_VAR}={CONFIRM_VALUE}; use env=testnet for the sandbox, or dry_run=true"]
    return []


def real_money(config: Mapping[str, Any]) -> bool:
    """True when this run places real-money orders (all three switches given)."""
    return (not config["dry_run"] and config["env"]["name"] == LIVE_ENV
            and confirmation_problem() is None)
