"""JSON Schemas of the SLO spec (spec.schema.json) and the reports (report.schema.json)."""

from __future__ import annotations

from typing import Any

from runner.shared.schemas import load_from, validator_from


def load(name: str) -> dict[str, Any]:
    return load_from(__name__, name)


def validator(name: str) -> Any:
    return validator_from(__name__, name)
