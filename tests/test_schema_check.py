"""The quick schema check (runner/shared/schema_check.py) answers as jsonschema does, or not at all.

A wrong "valid" would let a bad config through, so it is compared with jsonschema on the shipped
configs and on many broken variants of them: every key removed, every value replaced by values
of other types and edge values, unknown keys added.  The error lines themselves always come from
jsonschema (tests/test_validation.py checks them).
"""

from __future__ import annotations

import copy
import json
import math
from collections.abc import Iterator
from typing import Any

import pytest

from runner.shared.events import open_journal
from runner.shared.schema_check import Unsupported, is_valid
from runner.shared.schemas import jsonschema_validator, load_from, validator_from

CONFIGS = [(), ("env=ci", "phases=smoke"), ("env=live",), ("experiment=soak", "slo=strict"),
           ("env=testnet",), ("experiment=fault_drill", "debug=default")]
REPLACEMENTS = [None, True, False, 0, -1, 1, 0.5, 2.5, 1e400, -1e400, math.nan, "", "x",
                "BTC/USDT", "7d", [], ["a"], [1], {}, {"k": 1}]


def agree(schema: dict[str, Any], schema_name: str, package: str, data: Any) -> bool | None:
    """The quick answer, asserted equal to jsonschema's; None when it cannot tell."""
    try:
        quick = is_valid(schema, data)
    except Unsupported:
        return None
    assert quick == jsonschema_validator(package, schema_name).is_valid(data), data
    return quick


def places(data: Any, path: tuple = ()) -> Iterator[tuple]:
    """The path of every value inside `data` (mappings and lists, any depth)."""
    items = data.items() if isinstance(data, dict) else \
        enumerate(data) if isinstance(data, list) else ()
    for key, value in items:
        yield (*path, key)
        yield from places(value, (*path, key))


def with_value(data: Any, path: tuple, value: Any, *, delete: bool = False) -> Any:
    copied = copy.deepcopy(data)
    node = copied
    for key in path[:-1]:
        node = node[key]
    if delete:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    return copied


def variants(data: Any, every: int = 1) -> Iterator[Any]:
    """`data` with one thing broken; `every`: each key gets only every n-th replacement, a
    different one per key, so all of them are still used."""
    for number, path in enumerate(places(data)):
        yield with_value(data, path, None, delete=True)
        for index, value in enumerate(REPLACEMENTS):
            if (number + index) % every == 0:
                yield with_value(data, path, value)
    for path in [(), *places(data)]:
        node = data
        for key in path:
            node = node[key]
        if isinstance(node, dict):
            yield with_value(data, (*path, "unknown_key"), 1) if path else {**data, "zz": 1}


@pytest.mark.parametrize("overrides", CONFIGS, ids=" ".join)
def test_shipped_configs_are_valid_without_jsonschema(compose, overrides):
    config = compose(*overrides)
    assert agree(load_from("runner.schemas", "config"), "config", "runner.schemas", config)
    assert agree(load_from("slo.schemas", "spec"), "spec", "slo.schemas", config["slo"])


@pytest.mark.parametrize("every", [8, pytest.param(1, marks=pytest.mark.slow)])
@pytest.mark.parametrize(("part", "schema_name", "package"), [
    (None, "config", "runner.schemas"), ("slo", "spec", "slo.schemas")])
def test_broken_variants_get_jsonschemas_answer(compose, part, schema_name, package, every):
    config = compose()
    data = config[part] if part else config
    schema = load_from(package, schema_name)
    answers = [agree(schema, schema_name, package, variant) for variant in variants(data, every)]
    assert answers.count(False) > 100  # the comparison really covered invalid data
    assert answers.count(True) > 10


def test_reports_and_events_get_jsonschemas_answer(default_run):
    _, run_dir = default_run
    report = json.loads((run_dir / "slo_report.json").read_text(encoding="utf-8"))
    assert agree(load_from("slo.schemas", "report"), "report", "slo.schemas", report)
    with open_journal(run_dir / "events.jsonl.gz") as journal:  # compressed after the run
        events = [json.loads(line) for line in journal.read().splitlines()[:20]]
    schema = load_from("runner.schemas", "event")
    for event in events:
        assert agree(schema, "event", "runner.schemas", event)
        for variant in variants(event, every=4):
            agree(schema, "event", "runner.schemas", variant)


@pytest.mark.parametrize(("schema", "data"), [
    ({"type": "object", "patternProperties": {"^a": {}}}, {}),
    ({"$ref": "other.json#/x"}, 1),
    ({"type": "array", "prefixItems": [{}], "items": {}}, [1]),
    ({"dependentRequired": {"a": ["b"]}}, {}),
    ({"type": "array", "uniqueItems": True}, [1, 2]),
    ({"type": "array"}, (1, 2)),  # a tuple: not JSON data
    ({"not": {"type": "foo"}}, "x"),  # jsonschema raises UnknownType: never "valid" here
    ({"$ref": "#/$defs/a", "unevaluatedProperties": False,
      "$defs": {"a": {"patternProperties": {"^x": {}}}}}, {"x": 1}),
])
def test_what_it_does_not_know_is_left_to_jsonschema(schema, data):
    with pytest.raises(Unsupported):
        is_valid(schema, data)


def test_the_validator_gives_jsonschemas_errors_for_invalid_data():
    validator = validator_from("runner.schemas", "event")
    assert list(validator.iter_errors({"kind": "nope"}))  # from jsonschema
    assert not validator.is_valid({"kind": "nope"})
    assert validator.schema == load_from("runner.schemas", "event")  # jsonschema's attribute

