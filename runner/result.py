"""result.json: the one-file summary of a run (schema: runner/schemas/result.schema.json).

No secret value reaches it: the result is redacted (runner.shared.secrets.redact: phase errors and
summaries may quote one), and the config hash is taken over the config with secrets masked, so
it stays the same when keys are rotated and holds nothing derived from them.
"""

from __future__ import annotations

import hashlib
import json
import platform
import subprocess
from importlib import metadata
from pathlib import Path
from typing import Any

import runner
from runner.executor import PhaseResult
from runner.run_data import SloSummary
from runner.verdict import Verdict


def _version(distribution: str) -> str | None:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return None


def versions() -> dict[str, str | None]:
    """Loaded modules answer for themselves; ccxt (0.35 s to import) is asked via its metadata."""
    import hydra
    import polars

    return {
        "python": platform.python_version(),
        "runner": runner.__version__,
        "hydra": hydra.__version__,
        "ccxt": _version("ccxt"),
        "polars": polars.__version__,
    }


def git_sha() -> str | None:
    """The commit of the runner's source tree, when it is a git checkout."""
    source = Path(runner.__file__).resolve().parents[1]
    if not (source / ".git").exists():
        return None
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=source, capture_output=True,
                             text=True, timeout=5, check=True)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None


def config_hash(config: dict[str, Any]) -> str:
    """Stable across key order and API keys, so two runs of the same config share a hash."""
    from runner.shared.secrets import redact

    canonical = json.dumps(redact(config), sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def build_result(*, run_id: str, config: dict[str, Any], phases: list[PhaseResult],
                 verdict: Verdict, started_at: str, ended_at: str, duration_s: float,
                 kinds: dict[str, int], slo: SloSummary | None = None,
                 orders: dict[str, Any] | None = None) -> dict[str, Any]:
    """Status, signal and exit code come from the verdict (runner/verdict.py), never from here."""
    from runner.shared.secrets import redact

    rows = []
    for r in phases:
        rows.append({
            "name": r.name, "status": r.status, "attempts": r.attempts,
            "duration_s": r.duration_s, "error": r.error, "reason": r.reason,
            "started_at": r.started_at, "summary": r.summary, "health": r.health,
        })
    return redact({
        "schema_version": 1,
        "run_id": run_id,
        "env": config["env"]["name"],
        "adapter": config["adapter"]["name"],
        "dry_run": bool(config["dry_run"]),
        "status": verdict.status,
        "signal": verdict.signal,
        "started_at": started_at,
        "ended_at": ended_at,
        "duration_s": round(duration_s, 6),
        "exit_code": verdict.exit_code,
        "phases": rows,
        "versions": versions(),
        "git_sha": git_sha(),
        "config_hash": config_hash(config),
        "slo": slo.to_dict() if slo is not None else None,
        "orders": orders,
        "events": {"total": sum(kinds.values()), "by_kind": dict(sorted(kinds.items()))},
    })


def write_json_atomic(data: dict[str, Any], path: Path) -> Path:
    from runner.shared.files import write_text_atomic

    return write_text_atomic(json.dumps(data, indent=2, default=str) + "\n", path)
