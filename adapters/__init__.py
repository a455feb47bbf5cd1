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


def build_exchange(adapter: dict[str, Any], sink: Any) -> Any:
    from adapters.base import InstrumentedExchange, RetryPolicy

    params = {k: v for k, v in adapter.items() if k not in WRAPPER_KEYS}
    inner = adapter_factory(adapter["factory"])(**params)
    policy = RetryPolicy(**(adapter.get("retry") or {}))
    return InstrumentedExchange(inner, sink, policy, seed=adapter.get("seed"))
