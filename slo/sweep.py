"""The sweep report: one row per multirun job (its overrides as columns, run status, SLIs and
budgets), written to the sweep root as sweep_report.json / .md.

It is built from the job folders on disk after the sweep, not from Hydra's `on_multirun_end`
callback, which Hydra skips when a job failed: a sweep with failed jobs still gets its report.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from slo.readiness import job_readiness
from slo.report import SCHEMA_VERSION, now_iso, worst_status


def _overrides(job_dir: Path) -> dict[str, str]:
    """{'adapter.faults.error_rate': '0.05'} from Hydra's .hydra/overrides.yaml."""
    import yaml

    path = job_dir / ".hydra" / "overrides.yaml"
    if not path.is_file():
        return {}
    pairs = yaml.safe_load(path.read_text(encoding="utf-8")) or []
    split = (str(p).lstrip("+~").split("=", 1) for p in pairs if "=" in str(p))
    return {key: value.strip("'\"") for key, value in split}


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _status(job_dir: Path, result: dict[str, Any]) -> tuple[str, int | None]:
    """The job's status and exit code, also for jobs that never wrote a result.json."""
    if "status" in result:
        return result["status"], result.get("exit_code")
    error = job_dir / "error.txt"
    if error.is_file():
        return "invalid config: " + error.read_text(encoding="utf-8").splitlines()[0], 2
    interrupted = job_dir / "interrupted.txt"  # runner.pipeline.not_started: a signal came first
    if interrupted.is_file():
        line = (interrupted.read_text(encoding="utf-8").splitlines() or ["SIGINT"])[0]
        return "not started: " + line, 143 if line.startswith("SIGTERM") else 130
    ran = any((job_dir / name).exists() for name in ("events.jsonl", "events.jsonl.gz",
                                                      "metrics.parquet"))
    if (job_dir / "plan.json").is_file() and not ran:  # plan_only=true: planned, by design
        return "planned (plan_only)", 0
    return "no result (crashed or killed)", None


def _retries(job_dir: Path) -> dict[str, Any] | None:
    """The job's exchange calls and retries (its slo_report.json's Retries table, summed): the
    figure a fault sweep moves, since retried calls that succeed are not errors."""
    report = _read_json(job_dir / "slo_report.json") or {}
    table = report.get("retries")
    if not isinstance(table, list):
        return None
    calls = sum(int(r.get("calls") or 0) for r in table if isinstance(r, dict))
    retries = sum(int(r.get("retries") or 0) for r in table if isinstance(r, dict))
    return {"calls": calls, "retries": retries,
            "retry_ratio": round(retries / calls, 6) if calls else None}


def job_row(job_dir: Path) -> dict[str, Any]:
    result = _read_json(job_dir / "result.json") or {}
    status, exit_code = _status(job_dir, result)
    slo = result.get("slo") or {}
    objectives = slo.get("objectives")
    return {
        "job": int(job_dir.name) if job_dir.name.isdigit() else job_dir.name,
        "path": str(job_dir),
        "overrides": _overrides(job_dir),
        "status": status,
        "exit_code": exit_code,
        "slo_status": slo.get("worst_status"),
        "objectives": objectives,
        "readiness": job_readiness(result),
        "retries": _retries(job_dir),
    }


def sweep_report(sweep_dir: Path) -> dict[str, Any]:
    jobs = sorted((job_row(d) for d in sweep_dir.iterdir() if d.is_dir() and (
        (d / ".hydra").is_dir() or (d / "result.json").is_file())),
        key=lambda j: (isinstance(j["job"], str), j["job"]))
    keys = sorted({k for j in jobs for k in j["overrides"]})
    names = sorted({n for j in jobs for n in (j["objectives"] or {})})
    service = next((str(j["overrides"].get("slo.service")) for j in jobs
                    if "slo.service" in j["overrides"]), "trading-bot")
    return {
        "schema_version": SCHEMA_VERSION,
        "kind": "sweep",
        "generated_at": now_iso(),
        "as_of": now_iso(),
        "service": service,
        "status": worst_status([j["slo_status"] for j in jobs if j["slo_status"]]),
        "objectives": [],
        "sweep_dir": str(sweep_dir),
        "override_keys": keys,
        "objective_names": names,
        "jobs": jobs,
    }

