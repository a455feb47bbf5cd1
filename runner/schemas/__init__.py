"""JSON Schemas for the config, the plan, metric events and result.json, and cached validators."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any


@cache
def load(name: str) -> dict[str, Any]:
    """The schema `<name>.schema.json` shipped in this package."""
    text = resources.files(__name__).joinpath(f"{name}.schema.json").read_text(encoding="utf-8")
    return json.loads(text)


@cache
def validator(name: str) -> Any:
    """A reusable Draft 2020-12 validator (jsonschema is imported only when one is needed)."""
    from jsonschema import Draft202012Validator

    return Draft202012Validator(load(name))
