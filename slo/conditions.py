"""Structured conditions {field, op, value} -> polars expressions.  Nothing is ever evaluated.

A list of conditions means AND (an empty list matches every event).  Null handling is the
intuitive one, not SQL's: a comparison with a null field is false (`eq`, `lt`, `in`, ...), and
the negations are their exact complement (`ne`, `not_in` are true for a null field), so every
event is either matched or not — never "unknown".
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from runner.shared.events import COLUMNS, KINDS

if TYPE_CHECKING:
    import polars as pl

OPS = ("eq", "ne", "lt", "le", "gt", "ge", "in", "not_in", "is_null", "not_null")
LIST_OPS = ("in", "not_in")
NO_VALUE_OPS = ("is_null", "not_null")
ORDER_OPS = ("lt", "le", "gt", "ge")
# The recorded kinds, and `run`: one event per run folder, derived by slo/runs.py (completion).
JUDGED_KINDS = (*KINDS, "run")
# The kind of value each event column holds (schema v1, runner/shared/events.py).
FIELD_TYPES = {name: "string" for name in COLUMNS} | {
    "ts": "time", "ok": "bool", "latency_ms": "number", "attempt": "integer", "final": "bool"}
_DESCRIBE = {"string": "text", "bool": "true or false", "number": "a number",
             "integer": "a whole number", "time": "an ISO 8601 time such as 2026-11-24T02:00:00Z"}


@dataclass(frozen=True)
class Condition:
    field: str
    op: str
    value: Any = None  # a tuple for in / not_in, None for is_null / not_null

    def describe(self) -> str:
        """'latency_ms lt 500', 'kind in ["api_call", "order"]' — for OpenSLO annotations."""
        if self.op in NO_VALUE_OPS:
            return f"{self.field} {self.op}"
        value = list(self.value) if isinstance(self.value, tuple) else self.value
        return f"{self.field} {self.op} {json.dumps(value)}"

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"field": self.field, "op": self.op}
        if self.op not in NO_VALUE_OPS:
            out["value"] = list(self.value) if isinstance(self.value, tuple) else self.value
        return out


def _time(value: Any) -> datetime:
    moment = datetime.fromisoformat(str(value).strip().replace("Z", "+00:00"))
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment


def _value_ok(kind: str, value: Any) -> bool:
    if kind == "string":
        return isinstance(value, str)
    if kind == "bool":
        return isinstance(value, bool)
    if kind == "number":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if kind == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    try:
        _time(value)
    except (TypeError, ValueError):
        return False
    return isinstance(value, str)


def condition_problems(raw: Any, key: str) -> list[str]:
    """Every problem of one raw condition, one line each, named by `key` (its dotted path)."""
    if not isinstance(raw, dict):
        return [f"{key}: {raw!r} is not allowed; allowed: a mapping {{field, op, value}}"]
    problems: list[str] = []
    field, op = raw.get("field"), raw.get("op")
    if field not in FIELD_TYPES:
        problems.append(f"{key}.field: {field!r} is not allowed; allowed: one of "
                        + ", ".join(COLUMNS))
    if op not in OPS:
        problems.append(f"{key}.op: {op!r} is not allowed; allowed: one of " + ", ".join(OPS))
    if problems:
        return problems
    kind = FIELD_TYPES[field]
    value = raw.get("value")
    if op in NO_VALUE_OPS:
        if "value" in raw:
            problems.append(f"{key}.value: {value!r} is not allowed; allowed: no value "
                            f"({op} takes none)")
        return problems
    if "value" not in raw or value is None:
        hint = "; use op is_null / not_null to test for null" if op in ("eq", "ne") else ""
        return [f"{key}.value: missing; allowed: {_expected(kind, op)}{hint}"]
    if op in LIST_OPS:
        if not isinstance(value, (list, tuple)) or not value:
            return [f"{key}.value: {value!r} is not allowed; allowed: a non-empty list "
                    f"({op} needs one)"]
        items = list(value)
    else:
        if isinstance(value, (list, tuple, dict)):
            return [f"{key}.value: {value!r} is not allowed; allowed: {_expected(kind, op)}"
                    + (" (use op in / not_in for a list)" if isinstance(value, list) else "")]
        items = [value]
    if op in ORDER_OPS and kind == "bool":
        return [f"{key}.op: {op!r} is not allowed; allowed: eq, ne, in, not_in, is_null, "
                f"not_null (field {field} is true or false)"]
    wrong = [v for v in items if not _value_ok(kind, v)]
    if wrong:
        problems.append(f"{key}.value: {value!r} is not allowed; allowed: {_expected(kind, op)} "
                        f"(field {field})")
    elif field == "kind" and op not in ORDER_OPS:
        unknown = [v for v in items if v not in JUDGED_KINDS]
        if unknown:
            problems.append(f"{key}.value: {value!r} is not allowed; allowed: event kinds "
                            + ", ".join(JUDGED_KINDS))
    return problems


def _expected(kind: str, op: str) -> str:
    one = _DESCRIBE[kind]
    return f"a list of {one} values" if op in LIST_OPS else one


def parse_condition(raw: Any, key: str = "condition") -> Condition:
    """A checked Condition; a bad one raises ValueError with every problem."""
    problems = condition_problems(raw, key)
    if problems:
        raise ValueError("; ".join(problems))
    value = raw.get("value")
    if raw["op"] in LIST_OPS:
        value = tuple(value)
    return Condition(field=raw["field"], op=raw["op"], value=value)


def parse_conditions(raws: Any, key: str = "conditions") -> tuple[Condition, ...]:
    return tuple(parse_condition(raw, f"{key}[{i}]") for i, raw in enumerate(raws or []))


# -- polars --------------------------------------------------------------------------


def to_expr(condition: Condition) -> pl.Expr:
    """One condition as a boolean expression that is never null."""
    import polars as pl

    from runner.shared.events import polars_schema

    col = pl.col(condition.field)
    op, value = condition.op, condition.value
    if op == "is_null":
        return col.is_null()
    if op == "not_null":
        return col.is_not_null()
    dtype = polars_schema()[condition.field]
    convert = _time if FIELD_TYPES[condition.field] == "time" else (lambda v: v)
    if op in LIST_OPS:
        values = pl.Series([convert(v) for v in value], dtype=dtype).implode()
        found = col.is_in(values).fill_null(False)
        return found if op == "in" else ~found
    literal = pl.lit(convert(value), dtype=dtype)
    if op == "ne":
        return col.ne_missing(literal)
    compare = {"eq": col.eq, "lt": col.lt, "le": col.le, "gt": col.gt, "ge": col.ge}[op]
    return compare(literal).fill_null(False)


def all_of(conditions: tuple[Condition, ...] | list[Condition]) -> pl.Expr:
    """AND of the conditions; True (every event) for an empty list."""
    import polars as pl

    if not conditions:
        return pl.repeat(True, pl.len())
    expr = to_expr(conditions[0])
    for condition in conditions[1:]:
        expr = expr & to_expr(condition)
    return expr
