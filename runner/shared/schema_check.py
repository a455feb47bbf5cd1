"""Whether data is valid under one of our JSON Schemas, without importing jsonschema.

Why: importing jsonschema (referencing, rpds, its format checkers) is the whole cost of
validating a config, ~25-45 ms of every start, while a valid config needs no error lines at all.
`is_valid` answers yes/no for the keywords our schemas use, with jsonschema's own semantics
(Draft 2020-12 as `Draft202012Validator` applies it: its type checker, `equal` for enum/const, its
`unevaluatedProperties` bookkeeping); runner/shared/schemas.py asks jsonschema for the error
lines whenever the answer is no.  Anything it does not know (a keyword, a remote `$ref`, a
Python type JSON does not have) raises `Unsupported`, and jsonschema decides.
tests/test_schema_check.py compares both on the shipped configs and on many broken ones.
"""

from __future__ import annotations

import re
from typing import Any

# Keywords that only annotate: jsonschema (without a format checker) asserts nothing for them,
# nor for `x-...` ones (ours, e.g. x-allow-non-finite).
ANNOTATIONS = frozenset({"$schema", "$id", "$comment", "$defs", "title", "description",
                         "default", "examples", "format", "deprecated", "readOnly", "writeOnly"})
NUMBER_BOUNDS = ("minimum", "exclusiveMinimum", "maximum", "exclusiveMaximum")
SCALARS = (str, int, float, bool, type(None))


class Unsupported(Exception):
    """This schema or data is beyond the quick check; jsonschema must answer."""


TYPES = frozenset({"object", "array", "string", "boolean", "null", "number", "integer"})


def _is_type(instance: Any, name: str) -> bool:
    if name not in TYPES:
        raise Unsupported(f"type {name!r}")
    if name == "object":
        return isinstance(instance, dict)
    if name == "array":
        return isinstance(instance, list)
    if name == "string":
        return isinstance(instance, str)
    if name == "boolean":
        return isinstance(instance, bool)
    if name == "null":
        return instance is None
    if isinstance(instance, bool) or not isinstance(instance, (int, float)):
        return False
    return name == "number" or isinstance(instance, int) or instance.is_integer()


def _equal(one: Any, two: Any) -> bool:
    """jsonschema's `equal` for scalars: strings compare as such, True/False never equal 1/0."""
    if one is two:
        return True
    if not isinstance(one, SCALARS) or not isinstance(two, SCALARS):
        raise Unsupported("enum/const of a container")
    if isinstance(one, str) or isinstance(two, str):
        return one == two
    if isinstance(one, bool) or isinstance(two, bool):
        return one is two
    return one == two


class QuickCheck:
    """One schema (its `$defs` resolvable by local `$ref`), checked against plain data."""

    def __init__(self, schema: dict[str, Any]) -> None:
        self.root = schema

    def _resolve(self, ref: str) -> Any:
        if ref == "#":
            return self.root
        if not ref.startswith("#/$defs/") or "/" in ref[8:] or "~" in ref or "%" in ref:
            raise Unsupported(f"$ref {ref!r}")
        return self.root["$defs"][ref[8:]]

    def is_valid(self, instance: Any, schema: Any = None) -> bool:
        schema = self.root if schema is None else schema
        if isinstance(schema, bool):
            return schema
        if not isinstance(schema, dict):
            raise Unsupported("schema is not an object")
        if schema is not self.root and "$id" in schema:
            raise Unsupported("nested $id")
        return all(self._keyword(key, value, instance, schema) for key, value in schema.items())

    def _keyword(self, key: str, value: Any, instance: Any, schema: dict[str, Any]) -> bool:
        if key in ANNOTATIONS or key in ("then", "else") or key.startswith("x-"):
            return True
        if key == "type":
            return any(_is_type(instance, name) for name in
                       (value if isinstance(value, list) else [value]))
        if key == "$ref":
            return self.is_valid(instance, self._resolve(value))
        if key == "enum":
            return any(_equal(each, instance) for each in value)
        if key == "const":
            return _equal(value, instance)
        if key == "not":
            return not self.is_valid(instance, value)
        if key == "anyOf":
            return any(self.is_valid(instance, each) for each in value)
        if key == "allOf":
            return all(self.is_valid(instance, each) for each in value)
        if key == "oneOf":
            return sum(self.is_valid(instance, each) for each in value) == 1
        if key == "if":
            branch = "then" if self.is_valid(instance, value) else "else"
            return branch not in schema or self.is_valid(instance, schema[branch])
        if key in NUMBER_BOUNDS:
            return not _is_type(instance, "number") or _within(key, value, instance)
        if key in ("pattern", "minLength", "maxLength"):
            if not isinstance(instance, str):
                return True
            if key == "pattern":
                return re.search(value, instance) is not None
            return len(instance) >= value if key == "minLength" else len(instance) <= value
        if key in ("items", "minItems", "maxItems", "uniqueItems"):
            return not isinstance(instance, list) or self._array(key, value, instance, schema)
        if key in ("properties", "required", "additionalProperties", "propertyNames",
                   "minProperties", "maxProperties", "unevaluatedProperties"):
            return not isinstance(instance, dict) or self._object(key, value, instance, schema)
        raise Unsupported(f"keyword {key!r}")

    def _array(self, key: str, value: Any, instance: list[Any], schema: dict[str, Any]) -> bool:
        if key == "minItems":
            return len(instance) >= value
        if key == "maxItems":
            return len(instance) <= value
        if key == "uniqueItems":
            if not value:
                return True
            if not all(isinstance(item, str) for item in instance):
                raise Unsupported("uniqueItems over non-strings")
            return len(set(instance)) == len(instance)
        if "prefixItems" in schema or not isinstance(value, dict):
            raise Unsupported("items other than one schema")
        return all(self.is_valid(item, value) for item in instance)

    def _object(self, key: str, value: Any, instance: dict[str, Any],
                schema: dict[str, Any]) -> bool:
        if "patternProperties" in schema or "dependentSchemas" in schema:
            raise Unsupported("patternProperties / dependentSchemas")
        if key == "properties":
            return all(self.is_valid(instance[name], sub) for name, sub in value.items()
                       if name in instance)
        if key == "required":
            return all(name in instance for name in value)
        if key == "minProperties":
            return len(instance) >= value
        if key == "maxProperties":
            return len(instance) <= value
        if key == "propertyNames":
            return all(self.is_valid(name, value) for name in instance)
        if key == "additionalProperties":
            known = schema.get("properties", {})
            return all(self.is_valid(instance[name], value) for name in instance
                       if name not in known)
        evaluated = self._evaluated(instance, schema)
        return all(self.is_valid(instance[name], value) for name in instance
                   if name not in evaluated)

    def _evaluated(self, instance: dict[str, Any], schema: Any) -> set[str]:
        """jsonschema's `find_evaluated_property_keys_by_schema`, for the keywords above."""
        if isinstance(schema, bool):
            return set()
        if {"patternProperties", "dependentSchemas", "$dynamicRef"} & schema.keys():
            raise Unsupported("patternProperties / dependentSchemas / $dynamicRef")
        keys: set[str] = set()
        if "$ref" in schema:
            keys |= self._evaluated(instance, self._resolve(schema["$ref"]))
        if isinstance(schema.get("properties"), dict):
            keys |= schema["properties"].keys() & instance.keys()
        for keyword in ("additionalProperties", "unevaluatedProperties"):
            if keyword in schema:
                keys |= {name for name, item in instance.items()
                         if self.is_valid(item, schema[keyword])}
        for keyword in ("allOf", "oneOf", "anyOf"):
            for sub in schema.get(keyword, []):
                if self.is_valid(instance, sub):
                    keys |= self._evaluated(instance, sub)
        if "if" in schema:
            if self.is_valid(instance, schema["if"]):
                keys |= self._evaluated(instance, schema["if"])
                if "then" in schema:
                    keys |= self._evaluated(instance, schema["then"])
            elif "else" in schema:
                keys |= self._evaluated(instance, schema["else"])
        return keys


def _within(key: str, bound: Any, number: float) -> bool:
    """jsonschema's comparisons exactly (so NaN passes every bound, as there)."""
    if key == "minimum":
        return not number < bound
    if key == "exclusiveMinimum":
        return not number <= bound
    if key == "maximum":
        return not number > bound
    return not number >= bound


def _plain(data: Any) -> None:
    """Raise Unsupported unless `data` is JSON-shaped: dicts with str keys, lists, scalars."""
    stack = [data]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            if not all(isinstance(key, str) for key in item):
                raise Unsupported("a non-string key")
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
        elif type(item) not in (str, int, float, bool, type(None)):
            raise Unsupported(f"a value of type {type(item).__name__}")


def is_valid(schema: dict[str, Any], data: Any) -> bool:
    """True/False as jsonschema's Draft202012Validator(schema).is_valid(data) would answer;
    raises Unsupported when this check cannot tell."""
    _plain(data)
    return QuickCheck(schema).is_valid(data)
