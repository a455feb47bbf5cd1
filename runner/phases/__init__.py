"""The built-in phases. A phase is one function `run(ctx, *, <params>) -> dict | None`.

Its keyword-only parameters are the phase's `params` in YAML (checked when the plan is built);
what it returns is stored as the phase's summary in result.json.  Phases hand data to later phases
through the typed fields of `ctx.data` (runner/run_data.py: who produces and reads each), never
through globals or files they re-read; a user's own phase keeps its own data in `ctx.scratch`.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

BUILTIN: dict[str, str] = {
    name: f"runner.phases.{name}:run"
    for name in ("preflight", "connect", "market_data", "strategy", "execution", "load", "cleanup",
                 "report")
}


def resolve_callable(reference: str) -> Callable[..., Any]:
    """A built-in name ('connect') or 'package.module:function' -> the function.

    Raises LookupError with a message that says what is allowed.
    """
    target = BUILTIN.get(reference, reference)
    module_name, _, attribute = target.partition(":")
    if not attribute:
        raise LookupError(f"unknown phase '{reference}'; allowed: a built-in phase "
                          f"({', '.join(BUILTIN)}) or module:function")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise LookupError(f"cannot import module '{module_name}' ({exc}); "
                          "allowed: an importable module:function") from None
    except (Exception, SystemExit) as exc:  # SyntaxError, or whatever its top level raises
        raise LookupError(f"importing module '{module_name}' failed ({_first_line(exc)}); "
                          "allowed: a module:function whose module imports cleanly") from None
    try:
        function = getattr(module, attribute, None)
    except Exception as exc:  # a module __getattr__ that raises something else
        raise LookupError(f"module '{module_name}' cannot give '{attribute}' "
                          f"({_first_line(exc)}); allowed: an existing module:function") from None
    if not callable(function):
        raise LookupError(f"module '{module_name}' has no function '{attribute}'; "
                          "allowed: an existing module:function")
    return function


def _first_line(exc: BaseException) -> str:
    """`Type: first line of the message`: enough to find the problem, short enough for one line."""
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__
