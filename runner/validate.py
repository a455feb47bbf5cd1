"""Validate the composed config: its schema (config.schema.json), the rules a schema cannot say,
the adapter's own check and the SLO spec; every problem becomes one line (exit 2).

Numbers are checked for NaN/±Infinity first and everywhere (runner/shared/schemas.py): NaN
passes every range check, and a run with `heartbeat_s=nan` spins.  A check that fails on a shape
nobody foresaw is still one line naming the node, never a traceback.
"""

from __future__ import annotations

from typing import Any

from runner.shared.errors import ConfigError
from runner.shared.schemas import schema_problems


def unexpected(node: str, exc: BaseException, allowed: str) -> str:
    """A check that raised instead of answering: one line naming the node and the first line of
    what it raised."""
    text = str(exc).strip().splitlines()
    what = f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__
    return f"{node}: these settings could not be checked ({what}); allowed: {allowed}"


def slo_problems(slo: dict[str, Any]) -> list[str]:
    """The objectives are checked by their own schema (slo/schemas/spec.schema.json)."""
    from slo.spec import load_objectives

    try:
        load_objectives(slo)
    except ConfigError as error:
        return error.problems
    except Exception as exc:
        return [unexpected("slo", exc, "an SLO spec as docs/SLO.md describes")]
    return []


def adapter_config_problems(adapter: dict[str, Any]) -> list[str]:
    """The adapter class's own check (adapters.adapter_problems), which builds the adapter."""
    from adapters import adapter_problems

    try:
        return adapter_problems(adapter)
    except Exception as exc:
        return [unexpected("adapter", exc, "the settings docs/ADAPTERS.md lists for "
                           f"{adapter.get('_target_', 'the adapter')}")]


def finite_problems(config: dict[str, Any]) -> list[str]:
    """Every NaN/±Infinity in the config, by key; `slo` is described by its own schema."""
    from runner.shared.schemas import load, load_from, non_finite_problems

    rest = {key: value for key, value in config.items() if key != "slo"}
    return (non_finite_problems(rest, load("config"))
            + non_finite_problems(config.get("slo"), load_from("slo.schemas", "spec"),
                                  prefix="slo"))


def validate_config(config: dict[str, Any]) -> None:
    """Raise ConfigError listing every problem, or return quietly."""
    problems = finite_problems(config) + schema_problems(config, skip_non_finite=True)
    strategy = config.get("strategy") or {}
    if not problems and strategy.get("fast", 0) >= strategy.get("slow", 1):
        problems.append(f"strategy.fast: {strategy['fast']} is not allowed; "
                        f"allowed: a period shorter than strategy.slow ({strategy['slow']})")
    if not problems:
        problems += adapter_config_problems(config["adapter"])
        problems += slo_problems(config["slo"])
    if problems:
        raise ConfigError(problems)
