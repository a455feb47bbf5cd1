"""Validate the composed config: its schema (config.schema.json), the rules a schema cannot say,
the adapter's own check and the SLO spec; every problem becomes one line (exit 2)."""

from __future__ import annotations

from typing import Any

from runner.shared.errors import ConfigError
from runner.shared.schemas import schema_problems


def slo_problems(slo: dict[str, Any]) -> list[str]:
    """The objectives are checked by their own schema (slo/schemas/spec.schema.json)."""
    from slo.spec import load_objectives

    try:
        load_objectives(slo)
    except ConfigError as error:
        return error.problems
    return []


def validate_config(config: dict[str, Any]) -> None:
    """Raise ConfigError listing every problem, or return quietly."""
    problems = schema_problems(config)
    strategy = config.get("strategy") or {}
    if not problems and strategy.get("fast", 0) >= strategy.get("slow", 1):
        problems.append(f"strategy.fast: {strategy['fast']} is not allowed; "
                        f"allowed: a period shorter than strategy.slow ({strategy['slow']})")
    if not problems:
        from adapters import adapter_problems

        problems += adapter_problems(config["adapter"])
        problems += slo_problems(config["slo"])
    if problems:
        raise ConfigError(problems)
