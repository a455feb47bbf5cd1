"""The small kernel that both `runner` and `slo` stand on, so neither imports the other's
orchestration: the event contract and journal reader (events), errors and exit codes, atomic
writes (files), text tables, schema loading, a quick validity check that spares valid data the
jsonschema import (schema_check) and one-line schema errors, Hydra command helpers (run_mode:
one composition per start), process-wide signal handling, logging and secret masking.

Nothing here imports the rest of `runner`, nor `slo` or `adapters` (tests/test_imports.py).
"""
