"""The report tables, defined once: headers and rows of cells (text, `Badge`, `Link`) that
slo/markdown.py and slo/html.py both render, so the Markdown and the HTML cannot drift.
Statuses are text badges (`BREACHED`, `MET`): no emoji, which shows as an empty box without an
emoji font.  Keys added to reports later (contributors, runs_table, crashed, retries,
readiness, sli_per_day) are rendered when present; older reports simply lack them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any
from urllib.parse import quote

from runner.shared.tables import number

STATUS_TEXT = {"met": "MET", "at_risk": "AT RISK", "breached": "BREACHED",
               "insufficient_data": "INSUFFICIENT DATA", "no_data": "NO DATA",
               "READY": "READY", "NOT READY": "NOT READY", "quiet": "quiet"}
STRONG = {"breached", "at_risk", "failed", "crashed", "firing", "not_ready"}
MAX_ROWS = 200  # runs listed in Markdown/HTML; the JSON has them all
NONE = "–"


@dataclass(frozen=True)
class Badge:
    """A status as text: `**BREACHED**` in Markdown, a coloured label in HTML."""

    text: str
    css: str
    note: str = ""  # plain text after the badge


@dataclass(frozen=True)
class Link:
    text: str
    href: str


Cell = str | Badge | Link
Table = tuple[list[str], list[list[Cell]]]


def fmt(value: Any, digits: int = 3, suffix: str = "") -> str:
    """Thousands separators and fixed decimals, never `1e+04` (runner/shared/tables.py)."""
    return number(value, digits, suffix, none=NONE)


def pct(value: float | None) -> str:
    return NONE if value is None else f"{value * 100:,.3f} %"


def _times_100(value: float | None) -> float | None:
    return None if value is None else value * 100


def short(value: Any, width: int) -> str:
    """One line of at most `width` characters (ASCII dots when cut); None reads as a dash."""
    if value is None or value == "":
        return NONE
    text = " ".join(str(value).split())
    return text if len(text) <= width else text[: width - 3].rstrip() + "..."


def status_text(status: str) -> str:
    return STATUS_TEXT.get(status, status.replace("_", " ").upper())


def badge(status: str | None, note: str = "") -> Cell:
    if not status:
        return NONE
    css = "".join(c if c.isalnum() else "_" for c in status.lower())
    return Badge(status_text(status), css, note)


def run_link(run_id: Any, folder: Any) -> Cell:
    """`[run_id](folder)`: the folder is relative to the report file (percent-encoded, so it
    never turns into a scheme such as `javascript:`)."""
    text = short(run_id or folder, 80)
    return Link(text, quote(str(folder))) if folder else text


def when(text: str | None) -> str:
    """An ISO 8601 time as `2026-11-23 23:00:00 UTC`."""
    try:
        value = datetime.fromisoformat((text or "").replace("Z", "+00:00"))
    except ValueError:
        return short(text, 40)
    if value.tzinfo is None:
        return value.strftime("%Y-%m-%d %H:%M:%S")
    return value.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


# -- the tables (shared with slo/html.py) ---------------------------------------------

Column = tuple[str, Callable[[dict[str, Any]], Cell]]


def _remaining(o: dict[str, Any]) -> str:
    return NONE if o["remaining"] is None else f"{fmt(o['remaining'], 4)} {o['remaining_unit']}"


OBJECTIVE_COLUMNS: list[Column] = [
    ("objective", lambda o: o["name"]),
    ("status", lambda o: badge(o["status"])),
    ("SLI", lambda o: pct(o["sli"])),
    ("target", lambda o: pct(o["target"])),
    ("window", lambda o: o["window"]),
    ("valid", lambda o: fmt(o["valid"])),
    ("bad", lambda o: fmt(o["bad"])),
    ("budget left", lambda o: pct(o["budget_remaining"])),
    ("remaining", _remaining),
    ("burn (1st tier)", lambda o: fmt(next((b["burn"] for b in o["burn_rates"]), None))),
    ("exhausted in", lambda o: fmt(o["time_to_exhaustion_h"], suffix=" h")),
]


def _apply(columns: list[Column], items: list[dict[str, Any]]) -> Table:
    return [h for h, _ in columns], [[cell(item) for _, cell in columns] for item in items]


def objectives_rows(objectives: list[dict[str, Any]]) -> Table:
    return _apply(OBJECTIVE_COLUMNS, objectives)


def alerts_rows(objectives: list[dict[str, Any]]) -> Table:
    rows: list[list[Cell]] = [
        [o["name"], a["severity"], f"{a['long']} / {a['short']}",
         fmt(_times_100(a.get("budget_fraction")), suffix=" %"), fmt(a["k"]),
         fmt(a["burn_long"]), fmt(a["burn_short"]),
         badge("firing") if a["firing"] else badge("quiet")]
        for o in objectives for a in o["alerts"]]
    return (["objective", "severity", "windows (long / short)", "budget fraction",
             "threshold k", "burn long", "burn short", "state"], rows)


CONTRIBUTOR_COLUMNS: list[Column] = [
    ("run", lambda c: run_link(c.get("run_id"), c.get("folder"))),
    ("env", lambda c: short(c.get("env"), 30)),
    ("git sha", lambda c: short(c.get("git_sha"), 40)[:10]),
    ("config hash", lambda c: short(c.get("config_hash"), 40)[:10]),
    ("phase", lambda c: short(c.get("phase"), 40)),
    ("name", lambda c: short(c.get("name"), 60)),
    ("error", lambda c: short(c.get("error"), 120)),
    ("bad", lambda c: fmt(c.get("bad"))),
]


def contributor_rows(objective: dict[str, Any]) -> Table:
    return _apply(CONTRIBUTOR_COLUMNS, objective.get("contributors") or [])


def runs_rows(report: dict[str, Any]) -> Table:
    runs = report.get("runs_table") or []
    names = [o["name"] for o in report["objectives"]]
    names += sorted({n for r in runs for n in r.get("bad") or {}} - set(names))
    columns: list[Column] = [
        ("run", lambda r: run_link(r.get("run_id"), r.get("folder"))),
        ("env", lambda r: short(r.get("env"), 30)),
        ("started", lambda r: when(r.get("started_at"))),
        ("status", lambda r: badge(r.get("status"))),
        ("exit", lambda r: fmt(r.get("exit_code"))),
        ("git sha", lambda r: short(r.get("git_sha"), 40)[:10]),
        ("events", lambda r: fmt(r.get("events"))),
        *((f"bad: {n}", lambda r, n=n: fmt((r.get("bad") or {}).get(n, 0))) for n in names),
    ]
    return _apply(columns, runs[:MAX_ROWS])


RETRY_COLUMNS: list[Column] = [
    ("kind", lambda r: r["kind"]),
    ("name", lambda r: short(r["name"], 60)),
    ("calls", lambda r: fmt(r["calls"])),
    ("retries", lambda r: fmt(r["retries"])),
    ("retried calls", lambda r: fmt(r.get("retried_calls"))),
    ("failed calls", lambda r: fmt(r.get("failed_calls"))),
    ("retry ratio", lambda r: fmt(_times_100(r.get("retry_ratio")), suffix=" %")),
]


def retries_rows(report: dict[str, Any]) -> Table:
    return _apply(RETRY_COLUMNS, report.get("retries") or [])


def sweep_rows(report: dict[str, Any]) -> Table:
    """One row per job: its overrides, run status, then per objective status, SLI, budget
    side by side (an insufficient_data job's 100 % never reads as met), then readiness."""
    keys, names = report["override_keys"], report["objective_names"]
    ready = any(job.get("readiness") for job in report["jobs"])
    retried = any(job.get("retries") for job in report["jobs"])
    header = ["job", *keys, "run status", "exit", *(["calls", "retries"] if retried else [])]
    for n in names:
        header += [f"{n} status", f"{n} SLI", f"{n} budget"]
    rows: list[list[Cell]] = []
    for job in report["jobs"]:
        slo = job.get("objectives") or {}
        row: list[Cell] = [str(job["job"]), *(str(job["overrides"].get(k, "")) for k in keys),
                           short(job["status"], 80), fmt(job["exit_code"])]
        if retried:
            counts = job.get("retries") or {}
            row += [fmt(counts.get("calls"), 0), fmt(counts.get("retries"), 0)]
        for n in names:
            o = slo.get(n) or {}
            row += [badge(o.get("status")), pct(o.get("sli")), pct(o.get("budget_remaining"))]
        if ready:
            verdict = job.get("readiness") or {}
            reasons = verdict.get("reasons") or []
            row.append(badge(verdict.get("verdict"), short(reasons[0], 60) if reasons else ""))
        rows.append(row)
    return header + (["readiness"] if ready else []), rows


def envs_judged(readiness: dict[str, Any]) -> str:
    return ", ".join(readiness.get("envs") or []) or "all environments"


def gate_note(readiness: dict[str, Any]) -> str:
    return ("gate on: NOT READY exits 3" if readiness.get("gate")
            else "gate off: the verdict does not change the exit code")
