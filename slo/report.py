"""Error-budget reports: one JSON shape (schema-validated) for a run, a sweep and the nightly.

JSON is the source; Markdown (and, for the nightly, HTML) are renderings of it.  Every file is
written through a temporary sibling and a rename, so a reader never sees half a report.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

SCHEMA_VERSION = 1
# Worst first: the order in which a report's overall status is decided.
STATUS_ORDER = ("breached", "at_risk", "insufficient_data", "no_data", "met")


def worst_status(statuses: list[str]) -> str:
    """The worst of some statuses; an empty list has no data, which never reads as met."""
    present = set(statuses)
    return next((s for s in STATUS_ORDER if s in present), "no_data")


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def summarize(objectives: list[dict[str, Any]], *, fail_on_breach: bool) -> dict[str, Any]:
    """The few facts result.json and the console need; the report holds the rest."""
    return {
        "worst_status": worst_status([o["status"] for o in objectives]),
        "breached": [o["name"] for o in objectives if o["status"] == "breached"],
        "fail_on_breach": fail_on_breach,
        "report": "slo_report.json",
        "objectives": {o["name"]: {"status": o["status"], "sli": o["sli"],
                                   "budget_remaining": o["budget_remaining"]}
                       for o in objectives},
    }


def _base(kind: str, spec: Any, objectives: list[dict[str, Any]], as_of: datetime
          ) -> dict[str, Any]:
    return {
        "schema_version": SCHEMA_VERSION,
        "kind": kind,
        "generated_at": now_iso(),
        "as_of": as_of.isoformat(timespec="seconds"),
        "service": spec.service,
        "status": worst_status([o["status"] for o in objectives]),
        "objectives": objectives,
    }


def run_report(spec: Any, objectives: list[dict[str, Any]], as_of: datetime, *, run_id: str,
               env: str) -> dict[str, Any]:
    return {**_base("run", spec, objectives, as_of), "run_id": run_id, "env": env}


def nightly_report(spec: Any, objectives: list[dict[str, Any]], as_of: datetime, *,
                   data_quality: dict[str, Any], runs: int) -> dict[str, Any]:
    return {**_base("nightly", spec, objectives, as_of), "runs": runs,
            "data_quality": data_quality}


# -- writing ---------------------------------------------------------------------------


def validate_report(report: dict[str, Any]) -> None:
    """Our own output must match its schema; a mismatch is a bug, so it raises."""
    from slo.schemas import validator

    error = next(iter(validator("report").iter_errors(report)), None)
    if error is not None:
        where = ".".join(str(p) for p in error.absolute_path) or "report"
        raise ValueError(f"report does not match report.schema.json at {where}: {error.message}")


def write_report(report: dict[str, Any], base: Path, *, html: bool = False) -> list[Path]:
    """Validate, then write `<base>.json`, `<base>.md` (and `<base>.html`)."""
    from runner.files import write_text_atomic
    from slo.markdown import render_markdown

    validate_report(report)
    written = [
        write_text_atomic(json.dumps(report, indent=2) + "\n", base.with_suffix(".json")),
        write_text_atomic(render_markdown(report), base.with_suffix(".md")),
    ]
    if html:
        from slo.html import render_html

        written.append(write_text_atomic(render_html(report), base.with_suffix(".html")))
    return written
