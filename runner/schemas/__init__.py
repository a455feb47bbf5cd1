"""JSON Schemas for the config, the plan, metric events and result.json, and cached validators.

`load_from` / `validator_from` serve any package that ships `<name>.schema.json` files (slo's
report and spec schemas too).
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
    return load_from(__name__, name)


def validator(name: str) -> Any:
    return validator_from(__name__, name)
