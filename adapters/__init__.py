"""Exchange adapters behind one interface (adapters.base.Exchange).

An `adapter` config node names its class with Hydra's `_target_` (e.g.
adapters.paper.PaperExchange); `name` and `retry` are the wrapper's (`base.WRAPPER_KEYS`), every
other key is a keyword of the class's constructor.  The class answers for its node before anything
is built (`check_config`, `endpoint_kind_of`), and `build_exchange` builds and wraps it.  Nothing
here imports an adapter until it is asked for, and a `_target_` that cannot be used is one line
(`AdapterConfigError`), never a traceback.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from adapters.base import Exchange

ALLOWED_TARGET = ("an adapters.base.Exchange subclass as module.Class, "
                  "e.g. adapters.paper.PaperExchange")


class AdapterConfigError(ValueError):
    """An adapter node whose class cannot be found or used; the message is one config line."""


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__


def _locate(target: str) -> Any:
    """`module.Class` (or `package.module.Outer.Inner`) -> the object, importing the longest
    module prefix; whatever goes wrong is an AdapterConfigError naming what."""
    parts = target.split(".")
    if len(parts) < 2 or not all(part.isidentifier() for part in parts):
        raise AdapterConfigError(f"adapter._target_: {target!r} is not allowed; "
                                 f"allowed: {ALLOWED_TARGET}")
    missing: str | None = None  # the longest module path that does not exist
    for cut in range(len(parts) - 1, 0, -1):
        module_name = ".".join(parts[:cut])
        try:
            found: Any = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name == module_name or module_name.startswith(f"{exc.name}."):
                missing = missing or module_name
                continue  # not a module: perhaps a class inside a shorter module path
            problem = f"importing module '{module_name}' failed ({_first_line(exc)})"
        except (Exception, SystemExit) as exc:  # SyntaxError, or whatever the module raises
            problem = f"importing module '{module_name}' failed ({_first_line(exc)})"
        else:
            for depth, attribute in enumerate(parts[cut:], cut):
                if not hasattr(found, attribute):
                    owner, path = ".".join(parts[:depth]), ".".join(parts[:depth + 1])
                    problem = (f"no module named '{path}'" if path == missing
                               else f"'{owner}' has no '{attribute}'")
                    break
                found = getattr(found, attribute)
            else:
                return found
        raise AdapterConfigError(f"adapter._target_: cannot use '{target}': {problem}; "
                                 f"allowed: {ALLOWED_TARGET}")
    raise AdapterConfigError(f"adapter._target_: cannot use '{target}': no module named "
                             f"'{parts[0]}'; allowed: {ALLOWED_TARGET}")


def adapter_class(adapter: Mapping[str, Any]) -> type[Exchange]:
    """The Exchange subclass an adapter node names with `_target_`."""
    from adapters.base import TARGET_KEY, Exchange

    if "factory" in adapter:
        raise AdapterConfigError(
            "adapter.factory: no longer supported; name the adapter's class with "
            "adapter._target_ instead (e.g. _target_: adapters.paper.PaperExchange or "
            "adapters.ccxt_exchange.CcxtExchange; see docs/ADAPTERS.md)")
    target = adapter.get(TARGET_KEY)
    if not isinstance(target, str):
        raise AdapterConfigError(f"adapter._target_: missing; allowed: {ALLOWED_TARGET}")
    found = _locate(target)
    if not (isinstance(found, type) and issubclass(found, Exchange)):
        raise AdapterConfigError(f"adapter._target_: '{target}' is not an Exchange subclass; "
                                 f"allowed: {ALLOWED_TARGET}")
    return found


def adapter_problems(adapter: Mapping[str, Any]) -> list[str]:
    """Whether the node's class exists and accepts the node (its `check_config`), one line per
    problem.  Called before anything runs, so a bad adapter setting is exit 2."""
    try:
        cls = adapter_class(adapter)
    except AdapterConfigError as exc:
        return [str(exc)]
    return list(cls.check_config(adapter))


def endpoint_kind_of(adapter: Mapping[str, Any]) -> str:
    """What an adapter node would reach (adapters/endpoints.py kinds), without building it; its
    class answers (`Exchange.endpoint_kind_of`: real money unless the class says otherwise)."""
    return adapter_class(adapter).endpoint_kind_of(adapter)


def instantiate_adapter(adapter: Mapping[str, Any]) -> Exchange:
    """The adapter itself: `_target_` called with the node's other non-wrapper keys.

    This is what `hydra.utils.instantiate(node, _convert_="all")` does with a node without the
    wrapper's keys, called directly because the node is already resolved plain data: instantiate
    would parse every string again as OmegaConf (a secret containing `${` would be interpolated,
    or fail with part of it in the message) and wrap the adapter's own errors, which the connect
    phase records by class, in InstantiationException.
    """
    from adapters.base import node_kwargs

    return adapter_class(adapter)(**node_kwargs(adapter))


def build_exchange(adapter: Mapping[str, Any], sink: Any, gate: Any = None) -> Any:
    """The instrumented exchange for an adapter node; `gate` (adapters.order_gate.OrderGate)
    judges every order request of the wrapper and of the adapter's own transport."""
    from adapters.instrumented import InstrumentedExchange
    from adapters.retry import RetryPolicy

    inner = instantiate_adapter(adapter)
    policy = RetryPolicy(**(adapter.get("retry") or {}))
    return InstrumentedExchange(inner, sink, policy, seed=adapter.get("seed"), gate=gate)
