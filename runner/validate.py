"""Validate the composed config against config.schema.json; every problem becomes one line.

Messages follow freqtrade's style: the dotted key, what was wrong, what is allowed.
"""

from __future__ import annotations

from typing import Any

from runner.errors import ConfigError


def dotted(path: Any) -> str:
    """('phases', 'connect', 'needs', 0) -> 'phases.connect.needs[0]'."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "<config>"


def _allowed(error: Any) -> str:
    schema = error.schema
    if isinstance(schema, dict) and schema.get("description"):
        return schema["description"]
    validator, value = error.validator, error.validator_value
    if validator == "enum":
        return "one of " + ", ".join(str(v) for v in value)
    if validator == "type":
        return f"a value of type {' or '.join(value) if isinstance(value, list) else value}"
    if validator in ("minimum", "exclusiveMinimum", "maximum", "exclusiveMaximum"):
        bounds = {k: schema[k] for k in
                  ("minimum", "exclusiveMinimum", "maximum", "exclusiveMaximum") if k in schema}
        words = {"minimum": ">=", "exclusiveMinimum": ">", "maximum": "<=",
                 "exclusiveMaximum": "<"}
        return "a number " + " and ".join(f"{words[k]} {v}" for k, v in bounds.items())
    if validator == "minItems":
        return f"at least {value} item(s)"
    if validator == "pattern":
        return f"text matching {value}"
    return ""


def _line(error: Any) -> str:
    path = list(error.absolute_path)
    if error.validator in ("additionalProperties", "unevaluatedProperties"):
        known = sorted(error.schema.get("properties", {}))
        extra = sorted(set(error.instance) - set(known))
        key = dotted([*path, extra[0]]) if extra else dotted(path)
        return f"{key}: unknown key; allowed keys: {', '.join(known)}"
    if error.validator == "required":
        return f"{dotted(path)}: {error.message}"
    allowed = _allowed(error)
    shown = repr(error.instance)
    if len(shown) > 60:
        shown = shown[:57] + "..."
    return f"{dotted(path)}: {shown} is not allowed" + (f"; allowed: {allowed}" if allowed else "")


def schema_problems(config: dict[str, Any], schema_name: str = "config") -> list[str]:
    """Every schema violation as one line, in a stable order."""
    from runner.schemas import validator

    errors = sorted(validator(schema_name).iter_errors(config),
                    key=lambda e: [str(p) for p in e.absolute_path])
    lines: list[str] = []
    for error in errors:
        line = _line(error)
        if line not in lines:
            lines.append(line)
    return lines


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
