"""Error-budget reports: one JSON shape (schema-validated) for a run, a sweep and the nightly.

JSON is the source; Markdown (and, for the nightly, HTML) are renderings of it.  A report's
files are all rendered first, then each is written to a temporary sibling, and only when every
one is written are they renamed into place: a failure (a read-only folder, a full disk) leaves
no half-written file and no mix of old and new, and names the path and the OS's reason.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import secrets
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
               env: str, data_quality: dict[str, Any] | None = None) -> dict[str, Any]:
    report = {**_base("run", spec, objectives, as_of), "run_id": run_id, "env": env}
    if data_quality is not None:  # `python -m slo run_dir=`: what could not be read, and why
        report["data_quality"] = data_quality
    return report


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


class WriteError(OSError):
    """A file could not be written: `filename` is the file meant (never a temporary sibling),
    `strerror` the OS's reason."""

    def __init__(self, path: Path, error: OSError | ValueError) -> None:
        number = getattr(error, "errno", None) or errno.EIO
        reason = getattr(error, "strerror", None) or str(error)
        failed = getattr(error, "filename", None)
        blocker = _file_in_the_way(Path(failed or path))
        if isinstance(error, (FileExistsError, NotADirectoryError)) and blocker:
            reason, failed = "a file is in the way of a folder", blocker
        elif failed and Path(failed).name.startswith(".") and str(failed).endswith(".tmp"):
            failed = None  # our temporary sibling or probe: name what it stands for
        super().__init__(number, reason, str(failed or path))


def _file_in_the_way(path: Path) -> Path | None:
    """The first of `path` and its parents, from the top, that exists but is no folder."""
    for candidate in (*reversed(path.parents), path):
        if candidate.exists() and not candidate.is_dir():
            return candidate
    return None


def render_report(report: dict[str, Any], base: Path, *, html: bool = False) -> dict[Path, str]:
    """Validate, then `<base>.json`, `<base>.md` (and `<base>.html`) -> their text."""
    from slo.markdown import render_markdown

    validate_report(report)
    texts = {base.with_suffix(".json"): json.dumps(report, indent=2) + "\n",
             base.with_suffix(".md"): render_markdown(report)}
    if html:
        from slo.html import render_html

        texts[base.with_suffix(".html")] = render_html(report)
    return texts


def check_writable(folder: Path) -> None:
    """Prove, before long work whose result goes there, that `folder` can be created and
    written, leaving no trace (a stopped command writes nothing): the first missing level is
    created and removed again, or a temporary file is made in the existing folder.
    WriteError otherwise."""
    missing = [p for p in (folder, *folder.parents) if not p.exists()]
    try:
        if missing:
            missing[-1].mkdir()
            missing[-1].rmdir()
        else:
            probe = folder / f".write-test.{os.getpid()}.{secrets.token_hex(4)}.tmp"
            probe.touch()
            probe.unlink()
    except (OSError, ValueError) as error:  # ValueError: a NUL byte in the path
        raise WriteError(folder, error) from None


def write_files(texts: dict[Path, str]) -> list[Path]:
    """Write every file or none (see the module's docstring); WriteError names what failed."""
    for folder in dict.fromkeys(path.parent for path in texts):
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except (OSError, ValueError) as error:
            raise WriteError(folder, error) from None
    for path in texts:  # a folder in the way would fail a rename after others were done
        if path.is_dir():
            raise WriteError(path, IsADirectoryError(errno.EISDIR, "Is a directory", str(path)))
    temporary: dict[Path, Path] = {}
    try:
        for path, text in texts.items():
            tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
            temporary[path] = tmp
            try:
                tmp.write_text(text, encoding="utf-8")
            except (OSError, ValueError) as error:
                raise WriteError(path, error) from None
        for path, tmp in temporary.items():
            try:
                os.replace(tmp, path)
            except OSError as error:
                raise WriteError(path, error) from None
    finally:
        for tmp in temporary.values():
            with contextlib.suppress(OSError):
                tmp.unlink()
    return list(texts)


def write_report(report: dict[str, Any], base: Path, *, html: bool = False) -> list[Path]:
    """Validate, then write `<base>.json`, `<base>.md` (and `<base>.html`), all or none."""
    return write_files(render_report(report, base, html=html))
