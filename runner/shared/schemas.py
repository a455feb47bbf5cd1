"""JSON Schemas (loading, cached validators) and schema errors as one line each.

Messages follow freqtrade's style: the dotted key, what was wrong, what is allowed.  Any package
that ships `<name>.schema.json` files uses this (runner.schemas, slo.schemas).
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any


@cache
def load_from(package: str, name: str) -> dict[str, Any]:
    """The schema `<name>.schema.json` shipped in `package`."""
    text = resources.files(package).joinpath(f"{name}.schema.json").read_text(encoding="utf-8")
    return json.loads(text)


@cache
def validator_from(package: str, name: str) -> Any:
    """A reusable Draft 2020-12 validator (jsonschema is imported only when one is needed)."""
    from jsonschema import Draft202012Validator

    return Draft202012Validator(load_from(package, name))


def load(name: str) -> dict[str, Any]:
    """One of the runner's schemas (config, plan, event, result)."""
    return load_from("runner.schemas", name)


def validator(name: str) -> Any:
    return validator_from("runner.schemas", name)


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


def problem_line(error: Any) -> str:
    """One jsonschema error as freqtrade-style text: the dotted key, what was wrong, what is
    allowed."""
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


def schema_problems(data: Any, schema_name: str = "config", *, package: str = "runner.schemas",
                    prefix: str | None = None) -> list[str]:
    """Every violation of `<package>/<schema_name>.schema.json` as one line, in a stable order;
    keys are prefixed with `prefix` (e.g. 'slo') when the data is a subtree of the config."""
    errors = sorted(validator_from(package, schema_name).iter_errors(data),
                    key=lambda e: [str(p) for p in e.absolute_path])
    lines: list[str] = []
    for error in errors:
        if prefix:
            error.path.appendleft(prefix)  # top-level errors: absolute_path is this deque
        line = problem_line(error)
        if line not in lines:
            lines.append(line)
    return lines
