"""JSON Schemas (loading, cached validators) and schema errors as one line each.

Messages follow freqtrade's style: the dotted key, what was wrong, what is allowed.  Any package
that ships `<name>.schema.json` files uses this (runner.schemas, slo.schemas).

Numbers must be finite (`non_finite_problems`): every comparison with NaN is false, so NaN passes
`minimum`/`maximum` alike, and keys no schema lists (phase params, adapter keywords) hold numbers
too.  So the data is walked, not the schema: every NaN/±Infinity is refused wherever it sits,
unless the schema of its key says `"x-allow-non-finite": true` (and its description says what
they mean there).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator, Mapping
from functools import cache
from importlib import resources
from typing import Any


@cache
def load_from(package: str, name: str) -> dict[str, Any]:
    """The schema `<name>.schema.json` shipped in `package`."""
    text = resources.files(package).joinpath(f"{name}.schema.json").read_text(encoding="utf-8")
    return json.loads(text)


@cache
def jsonschema_validator(package: str, name: str) -> Any:
    """jsonschema's reusable Draft 2020-12 validator (importing jsonschema: ~25-45 ms)."""
    from jsonschema import Draft202012Validator

    return Draft202012Validator(load_from(package, name))


def quick_valid(data: Any, schema_name: str, package: str) -> bool:
    """Whether the data is surely valid, found without importing jsonschema
    (runner/shared/schema_check.py).  False also when that check cannot tell."""
    from runner.shared.schema_check import is_valid

    try:
        return is_valid(load_from(package, schema_name), data)
    except Exception:  # Unsupported, or anything unexpected: jsonschema decides
        return False


class LazyValidator:
    """A validator of one schema that asks jsonschema only about data the quick check cannot
    call valid, so a start with valid input never imports it; every error comes from jsonschema.
    Anything else is jsonschema's validator's own (`schema`, `evolve`, ...)."""

    def __init__(self, package: str, name: str) -> None:
        self.package, self.name = package, name

    def iter_errors(self, data: Any) -> Iterator[Any]:
        if quick_valid(data, self.name, self.package):
            return iter(())
        return jsonschema_validator(self.package, self.name).iter_errors(data)

    def is_valid(self, data: Any) -> bool:
        return quick_valid(data, self.name, self.package) or \
            jsonschema_validator(self.package, self.name).is_valid(data)

    def validate(self, data: Any) -> None:
        if not quick_valid(data, self.name, self.package):
            jsonschema_validator(self.package, self.name).validate(data)

    def __getattr__(self, attribute: str) -> Any:
        return getattr(jsonschema_validator(self.package, self.name), attribute)


@cache
def validator_from(package: str, name: str) -> LazyValidator:
    """A reusable Draft 2020-12 validator; jsonschema is imported only for data that may be
    invalid."""
    return LazyValidator(package, name)


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
                    prefix: str | None = None, skip_non_finite: bool = False) -> list[str]:
    """Every violation of `<package>/<schema_name>.schema.json` as one line, in a stable order;
    keys are prefixed with `prefix` (e.g. 'slo') when the data is a subtree of the config.
    `skip_non_finite`: leave NaN/±Infinity values to `non_finite_problems` (one line per key)."""
    errors = sorted(validator_from(package, schema_name).iter_errors(data),
                    key=lambda e: [str(p) for p in e.absolute_path])
    lines: list[str] = []
    for error in errors:
        if skip_non_finite and isinstance(error.instance, float) and not math.isfinite(
                error.instance):
            continue
        if prefix:
            error.path.appendleft(prefix)  # top-level errors: absolute_path is this deque
        line = problem_line(error)
        if line not in lines:
            lines.append(line)
    return lines


# -- numbers must be finite ---------------------------------------------------------------------

ALLOW_NON_FINITE = "x-allow-non-finite"
_BOUNDS = {"minimum": ">=", "exclusiveMinimum": ">", "maximum": "<=", "exclusiveMaximum": "<"}


def _expand(schema: Any, root: Mapping[str, Any]) -> list[dict[str, Any]]:
    """`schema` and the subschemas that apply to the same value: local `$ref`s, `allOf`/`anyOf`/
    `oneOf` branches, `then`/`else` (never `not`: what it names is refused, not described)."""
    found: list[dict[str, Any]] = []
    todo = [schema]
    while todo:
        node = todo.pop()
        if not isinstance(node, dict) or any(node is seen for seen in found):
            continue
        found.append(node)
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/"):
            target: Any = root
            for part in ref[2:].split("/"):
                target = target.get(part) if isinstance(target, dict) else None
            todo.append(target)
        for key in ("allOf", "anyOf", "oneOf"):
            todo += node.get(key) or []
        todo += [node.get("then"), node.get("else")]
    return found


def _children(schemas: list[dict[str, Any]], key: str | int,
              root: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The subschemas describing `value[key]` for a value described by `schemas`."""
    found: list[dict[str, Any]] = []
    for schema in schemas:
        if isinstance(key, int):
            prefix = schema.get("prefixItems") or []
            candidates = [prefix[key] if key < len(prefix) else schema.get("items")]
        elif key in (schema.get("properties") or {}):
            candidates = [schema["properties"][key]]
        else:
            candidates = [sub for pattern, sub in (schema.get("patternProperties") or {}).items()
                          if re.search(pattern, key)] or [schema.get("additionalProperties")]
        for candidate in candidates:
            found += _expand(candidate, root)
    return found


def _finite_allowed(schemas: list[dict[str, Any]]) -> str:
    """What a key takes instead, in the schema's words when it has them."""
    for schema in schemas:
        if schema.get("description"):
            return schema["description"]
    types = {t for s in schemas for t in (s["type"] if isinstance(s.get("type"), list)
                                          else [s.get("type")])}
    kind = "a whole number" if "integer" in types and "number" not in types else "a finite number"
    bounds = [f"{word} {schema[key]}" for schema in schemas
              for key, word in _BOUNDS.items() if key in schema]
    return kind + (" " + " and ".join(bounds) if bounds else "")


def non_finite_problems(data: Any, schema: Mapping[str, Any], *,
                        prefix: str | None = None) -> list[str]:
    """One line per NaN/±Infinity anywhere in `data` (a new key is covered without a schema
    change), except where `schema` marks the key with `"x-allow-non-finite": true`.  A value
    interpolated into other keys (`adapter.seed: ${seed}`: the same object) is reported once,
    where it is met first."""
    lines: list[str] = []
    seen: set[int] = set()

    def visit(value: Any, path: list[Any], schemas: list[dict[str, Any]]) -> None:
        if isinstance(value, float) and not math.isfinite(value):
            if id(value) not in seen and not any(s.get(ALLOW_NON_FINITE) is True
                                                 for s in schemas):
                seen.add(id(value))
                lines.append(f"{dotted(path)}: {value!r} is not allowed; "
                             f"allowed: {_finite_allowed(schemas)}")
        elif isinstance(value, Mapping):
            for key, item in value.items():
                visit(item, [*path, key], _children(schemas, str(key), schema))
        elif isinstance(value, (list, tuple)):
            for index, item in enumerate(value):
                visit(item, [*path, index], _children(schemas, index, schema))

    visit(data, [prefix] if prefix else [], _expand(schema, schema))
    return lines
