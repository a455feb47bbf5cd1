"""The live guard: real-money orders need env=live AND dry_run=false AND a confirmation that only
the shell's environment can give.

    PXR_LIVE_CONFIRM=I_UNDERSTAND_REAL_MONEY python -m runner env=live dry_run=false

The confirmation is read from `os.environ` directly, never through the config, so no config file
can give it: a `.env` file cannot either (runner.shared.secrets skips it there), and a value that
Hydra
itself put into the environment from the config (`hydra.job.env_set`) is not accepted.

It is enforced twice:

- before anything runs (pipeline.prepare: exit 2, one line), from the config: env=live with
  dry_run=false needs the confirmation whatever the adapter, and dry_run=false against an
  endpoint that may hold real money needs env=live.  The endpoint kind comes from the adapter's
  class (`Exchange.endpoint_kind_of`, via `adapters.endpoint_kind_of`; real money unless the
  class says otherwise), judged from the URLs its client will really call after
  sandbox mode and `base_url` are applied — a `base_url` off the exchange's sandbox host is not
  a sandbox, whatever `sandbox` says.
- at the exchange boundary, at every order request, by the order gate built here
  (`order_gate`, adapters/order_gate.py): whichever phase asks, built-in or `module:function`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from adapters.order_gate import OrderGate
from runner.shared.secrets import CONFIRM_VAR

CONFIRM_VALUE = "I_UNDERSTAND_REAL_MONEY"
LIVE_ENV = "live"

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


def endpoint_problem(adapter: Mapping[str, Any]) -> tuple[str | None, str | None]:
    """(endpoint kind, None), or (None, why the adapter's URLs cannot be judged)."""
    from adapters import endpoint_kind_of

    try:
        return endpoint_kind_of(dict(adapter)), None
    except ValueError as exc:
        return None, str(exc)


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
    from adapters.endpoints import REAL_MONEY

    adapter = config["adapter"]
    kind, unjudged = endpoint_problem(adapter)
    if unjudged is not None:
        return [unjudged]
    if kind == REAL_MONEY:
        where = (f"adapter.base_url {adapter['base_url']!r}, which may hold real money (not "
                 "loopback, not the exchange's own sandbox host, whatever adapter.sandbox says)"
                 if adapter.get("base_url")
                 else "an endpoint that may hold real money (not loopback, not the exchange's "
                      "own sandbox host)")
        fix = ("remove adapter.base_url to use the sandbox, or dry_run=true"
               if adapter.get("base_url") else "use env=testnet for the sandbox, or dry_run=true")
        return [f"live guard: dry_run=false with adapter '{adapter.get('name')}' on {where} "
                f"needs env=live and {CONFIRM_VAR}={CONFIRM_VALUE}; {fix}"]
    return []


def order_gate(config: Mapping[str, Any]) -> OrderGate:
    """The gate the exchange boundary asks at every order request of this run."""
    return OrderGate(dry_run=bool(config["dry_run"]), env_name=config["env"]["name"],
                     confirmation=confirmation_problem,
                     hint=f"real-money orders need env=live, dry_run=false and {HOW}")


def real_money(config: Mapping[str, Any]) -> bool:
    """True when this run places real-money orders (all three switches given)."""
    return (not config["dry_run"] and config["env"]["name"] == LIVE_ENV
            and confirmation_problem() is None)
