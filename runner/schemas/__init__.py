"""JSON Schemas of the config, the plan, metric events and result.json (data only; loaded by
runner/shared/schemas.py)."""
