"""Exchange adapters behind one interface (adapters.base.Exchange).

`build_exchange` turns an `adapter` config node into an instrumented exchange: `factory` names the
module:function that builds the adapter, `retry` configures the wrapper, every other key is passed
to the factory.  Nothing here imports an adapter until it is asked for.
"""

from __future__ import annotations

import importlib
from typing import Any

WRAPPER_KEYS = ("name", "factory", "retry")


def adapter_factory(reference: str) -> Any:
    module_name, _, attribute = reference.partition(":")
    return getattr(importlib.import_module(module_name), attribute)


def adapter_problems(adapter: dict[str, Any]) -> list[str]:
    """Ask the adapter's module whether it accepts this node (its optional `check_config`).

    Called before anything runs, so a bad adapter setting is an exit-2 config error rather than a
    failed connect phase.  An adapter without `check_config` is trusted until it is built.
    """
    try:
        module_name = adapter["factory"].partition(":")[0]
        module = importlib.import_module(module_name)
    except ImportError as exc:
        return [f"adapter.factory: cannot import '{adapter['factory']}' ({exc}); "
                "allowed: an importable module:function"]
    if not hasattr(module, adapter["factory"].partition(":")[2]):
        return [f"adapter.factory: module '{module_name}' has no "
                f"'{adapter['factory'].partition(':')[2]}'; allowed: an existing module:function"]
    check = getattr(module, "check_config", None)
    return list(check(**adapter)) if check is not None else []


def endpoint_kind_of(adapter: dict[str, Any]) -> str:
    """What an adapter node would reach (adapters/endpoints.py kinds), without building it.

    The adapter's module answers through its optional `endpoint_kind(**node)`; a module that
    cannot say is assumed to reach real money.
    """
    from adapters.endpoints import REAL_MONEY

    module = importlib.import_module(adapter["factory"].partition(":")[0])
    judge = getattr(module, "endpoint_kind", None)
    return judge(**adapter) if judge is not None else REAL_MONEY


def build_exchange(adapter: dict[str, Any], sink: Any, gate: Any = None) -> Any:
    """The instrumented exchange for an adapter node; `gate` (adapters.order_gate.OrderGate)
    judges every order request of the wrapper and of the adapter's own transport."""
    from adapters.base import InstrumentedExchange, RetryPolicy

    params = {k: v for k, v in adapter.items() if k not in WRAPPER_KEYS}
    inner = adapter_factory(adapter["factory"])(**params)
    policy = RetryPolicy(**(adapter.get("retry") or {}))
    return InstrumentedExchange(inner, sink, policy, seed=adapter.get("seed"), gate=gate)
