"""The settings of `python -m slo` (conf/nightly.yaml and the command line), checked whole:
slo/schemas/nightly.schema.json for types, ranges and allowed values, then what a schema cannot
say (as_of parseable and within AS_OF_RANGE, run_dir a run folder).  Any problem: ConfigError,
one line each, exit 2.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from runner.shared.errors import (
    ConfigError,
)

if TYPE_CHECKING:

    pass

EVENT_COLUMNS = ["ts", "run_id", "env", "phase", "kind", "name", "ok", "latency_ms", "error",
                 "attempt", "final"]
# A report's moment outside this is a typo (year 0001 would also overflow the window arithmetic).
AS_OF_RANGE = (datetime(1970, 1, 1, tzinfo=timezone.utc),
               datetime(2100, 1, 1, tzinfo=timezone.utc))
AS_OF_ALLOWED = ("an ISO 8601 time from 1970-01-01 to 2099-12-31 such as 2026-11-24T02:00:00Z, "
                 "or null for now")
RUN_FOLDER = "a run folder such as outputs/runs/<date>/<time>_<env>"
# What to do when an output cannot be written, by the setting that named it.
OUTPUT_FIX = {
    "out_dir": "allowed: a folder you can create and write to, e.g. "
               "out_dir=outputs/reports/nightly",
    "run_dir": "fix: make the run folder writable, or copy it elsewhere and pass that copy",
    "export_openslo": "allowed: a file in a folder you can write to, e.g. export_openslo=slo.yaml",
}


class DataError(Exception):
    """The run folders could not be read even file by file (exit 1: not a setting's fault)."""


def columns(settings: Settings) -> list[str]:
    """Only the event columns the reports and the objectives' conditions need are read."""
    return list(dict.fromkeys([*EVENT_COLUMNS, *settings.spec.columns]))


def parse_time(value: Any) -> datetime:
    """An ISO 8601 time (naive means UTC) within AS_OF_RANGE -> an aware UTC datetime; else
    ValueError saying what is wrong ('is not allowed' / 'is out of range')."""
    text = str(value).strip()
    if text[-1:] in ("Z", "z"):
        text = text[:-1] + "+00:00"
    try:
        moment = datetime.fromisoformat(text)
        moment = (moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None
                  else moment.astimezone(timezone.utc))
    except (ValueError, OverflowError):  # OverflowError: 0001-01-01T00:00+01:00 in UTC
        raise ValueError("is not allowed") from None
    if not AS_OF_RANGE[0] <= moment < AS_OF_RANGE[1]:
        raise ValueError("is out of range")
    return moment


def parse_as_of(value: Any) -> datetime:
    """None -> now; an ISO 8601 time (naive means UTC) -> an aware UTC datetime."""
    if value is None:
        return datetime.now(timezone.utc)
    try:
        return parse_time(value)
    except ValueError as exc:
        raise ConfigError(f"as_of: {value!r} {exc}; allowed: {AS_OF_ALLOWED}") from None


def with_window(slo: dict[str, Any], window: str | None) -> dict[str, Any]:
    """The slo node with every objective's timeWindow replaced by `window` (when given)."""
    if window is None or not isinstance(slo.get("objectives"), dict):
        return slo
    from slo.durations import parse_duration

    try:
        parse_duration(str(window))
    except ValueError as exc:
        raise ConfigError(f"window: {exc}") from None
    objectives = {name: {**o, "timeWindow": str(window)} if isinstance(o, dict) else o
                  for name, o in slo["objectives"].items()}
    return {**slo, "objectives": objectives}


def run_dir_problem(run_dir: Path) -> str | None:
    """Why `run_dir` is not a run folder, or None.  A folder with only `.hydra/` or result.json
    is one (a run that recorded nothing): its report says so rather than failing."""
    allowed = f"; allowed: {RUN_FOLDER}"
    if not run_dir.exists():
        return f"run_dir: {run_dir} does not exist{allowed}"
    if not run_dir.is_dir():
        return f"run_dir: {run_dir} is a file, not a folder{allowed}"
    if not any((run_dir / name).exists() for name in
               ("metrics.parquet", "events.jsonl", "result.json", ".hydra")):
        return (f"run_dir: {run_dir} holds no metrics.parquet, events.jsonl, result.json or "
                f".hydra/{allowed}")
    return None


@dataclass(frozen=True)
class Settings:
    spec: Any
    as_of: datetime
    roots: list[Path]
    out_dir: Path
    run_dir: Path | None
    export_openslo: Path | None
    fail_on_breach: bool
    progress: str
    log_level: str
    window: str | None = None  # the window= setting (every objective's timeWindow)
    envs: tuple[str, ...] = ()  # judged environments; empty = all
    fail_on_not_ready: bool = False

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Settings:
        """The command's settings, or ConfigError with one line per problem: the schema's
        first (types, ranges, allowed values), then the objectives and what a schema cannot
        say."""
        from runner.shared.schemas import schema_problems
        from slo.spec import load_objectives

        problems = schema_problems(config, "nightly", package="slo.schemas")
        if problems:
            raise ConfigError(problems)
        spec = as_of = None
        try:
            spec = load_objectives(with_window(config["slo"], config["window"]))
        except ConfigError as error:
            problems += error.problems
        try:
            as_of = parse_as_of(config["as_of"])
        except ConfigError as error:
            problems += error.problems
        run_dir = Path(config["run_dir"]) if config["run_dir"] is not None else None
        problem = run_dir_problem(run_dir) if run_dir is not None else None
        if problem:
            problems.append(problem)
        if problems:
            raise ConfigError(problems)
        assert spec is not None and as_of is not None
        export = config["export_openslo"]
        return cls(
            spec=spec,
            as_of=as_of,
            roots=[Path(r) for r in config["roots"]],
            out_dir=Path(config["out_dir"]),
            run_dir=run_dir,
            export_openslo=Path(export) if export is not None else None,
            fail_on_breach=config["fail_on_breach"],
            window=config["window"],
            progress={True: "true", False: "false"}.get(config["progress"], "auto"),
            log_level=config["log_level"],
            envs=tuple(dict.fromkeys(config["envs"])),
            fail_on_not_ready=config["fail_on_not_ready"],
        )

    @property
    def variant(self) -> str:
        """What sets this report apart from the default nightly ('' for the default): its
        files are <date><variant>.* and latest<variant>.*, so a 7-day or one-env report never
        replaces the default one."""
        parts = []
        if self.window is not None:
            parts.append(f"window-{self.window}")
        if self.envs:
            parts.append("env-" + "+".join(self.envs))
        return "".join(f"_{p}" for p in parts)

    @property
    def output_key(self) -> str:
        """The setting that names what this command writes."""
        if self.export_openslo is not None:
            return "export_openslo"
        return "run_dir" if self.run_dir is not None else "out_dir"
