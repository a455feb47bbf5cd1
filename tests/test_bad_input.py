"""Bad input, one row per case: every one ends in the documented exit code and at most one clear
`error:` line, never a traceback, and leaves nothing half-written.

Rows run in-process where the command's main function is enough (`python -m slo` composed with
Hydra's compose API, the simulator's argparse, the `.env` loader) and as a subprocess where the
entry point itself is under test.  File-mode cases need a process without root's power over
file modes: `setpriv` drops the DAC capabilities (root keeps its uid, so the interpreter under
/root stays reachable); as a non-root user nothing is dropped; otherwise those rows are skipped.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import stat
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from functools import cache
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from conftest import CONFIG_MODULE, cli_env

from runner.shared.events import polars_schema
from slo.schemas import validator

AS_OF = datetime(2026, 11, 24, 2, 0, tzinfo=timezone.utc)
AS_OF_ARG = "as_of=2026-11-24T02:00:00Z"
NIGHTLY = Path("outputs/reports/nightly")
ROOTS = "roots=[runs]"
# A step that takes long is named on the console (runner/shared/progress.py), so such a line may
# come before the error line.
STATUS_LINE = re.compile(r"^\d\d:\d\d:\d\d\.\d{3} \| INFO +\| .*…( \([\d.]+ s\))?$")


# -- building run folders ----------------------------------------------------------------------


def events(run_id: str, *, hours_before: float = 2, calls: int = 100,
           latency: float | None = 20.0) -> pl.DataFrame:
    """`calls` good api calls, 10 s apart, and a heartbeat a minute, in the v1 event schema."""
    start = AS_OF - timedelta(hours=hours_before)
    rows = [(start + timedelta(seconds=10 * i), "api_call", "fetch_ticker", latency)
            for i in range(calls)]
    rows += [(start + timedelta(minutes=m), "heartbeat", "alive", None)
             for m in range(calls // 6 + 1)]
    frame = pl.DataFrame(rows, schema=["ts", "kind", "name", "latency_ms"], orient="row")
    schema = polars_schema()
    return frame.select(
        pl.col("ts").dt.replace_time_zone("UTC").dt.cast_time_unit("us"),
        pl.lit(run_id).alias("run_id"), pl.lit("dev").alias("env"),
        pl.lit("load").alias("phase"), "kind", "name", pl.lit(True).alias("ok"),
        pl.col("latency_ms").cast(pl.Float64), pl.lit(None, pl.String).alias("error"),
        pl.lit(1, pl.Int32).alias("attempt"), pl.lit(None, pl.String).alias("symbol"),
        pl.lit(None, pl.Boolean).alias("final"),
    ).cast(schema)  # type: ignore[arg-type]


def run_folder(tmp: Path, name: str, *, parquet: bool = True, journal: bool = False,
               frame: pl.DataFrame | None = None) -> Path:
    folder = tmp / "runs" / "2026-11-23" / name
    (folder / ".hydra").mkdir(parents=True)
    (folder / ".hydra" / "config.yaml").write_text("{}\n")
    frame = events(name) if frame is None else frame
    if parquet:
        frame.write_parquet(folder / "metrics.parquet")
    if journal:
        with open(folder / "events.jsonl", "wb") as out:
            frame.write_ndjson(out)
    return folder


def corrupt_pages(path: Path) -> None:
    """Scramble the data pages, keep the footer: the schema reads, the data does not."""
    data = bytearray(path.read_bytes())
    footer = int.from_bytes(data[-8:-4], "little")
    for offset in range(4, len(data) - 8 - footer, 7):
        data[offset] ^= 0x5A
    path.write_bytes(bytes(data))
    pl.read_parquet_schema(path)  # the footer is intact ...
    with pytest.raises(pl.exceptions.PolarsError):  # ... the pages are not
        pl.read_parquet(path)


def journal_lines(folder: Path, lines: list[str]) -> None:
    with open(folder / "events.jsonl", "a", encoding="utf-8") as out:
        out.writelines(line + "\n" for line in lines)


def event_line(**change: Any) -> str:
    event = {"ts": "2026-11-24T01:30:00Z", "run_id": "bad", "env": "dev", "phase": "load",
             "kind": "api_call", "name": "fetch_ticker", "ok": True, "latency_ms": 20.0,
             "error": None, "attempt": 1, "symbol": None, **change}
    return json.dumps(event)  # NaN and Infinity come out as Python's json writes them


def good_run(tmp: Path) -> Path:
    return run_folder(tmp, "00-00-00_dev")


# -- setups (one per row that needs files) -----------------------------------------------------


def corrupt_pages_with_journal(tmp: Path) -> None:
    good_run(tmp)
    corrupt_pages(run_folder(tmp, "01-00-00_dev", journal=True) / "metrics.parquet")


def corrupt_pages_alone(tmp: Path) -> None:
    good_run(tmp)
    corrupt_pages(run_folder(tmp, "01-00-00_dev") / "metrics.parquet")


def zero_byte_parquet(tmp: Path) -> None:
    good_run(tmp)
    (run_folder(tmp, "01-00-00_dev", journal=True) / "metrics.parquet").write_bytes(b"")


def wrong_parquet_schema(tmp: Path) -> None:
    good_run(tmp)
    folder = run_folder(tmp, "01-00-00_dev")
    events("01-00-00_dev").with_columns(pl.col("latency_ms").cast(pl.String)).write_parquet(
        folder / "metrics.parquet")


def bad_journal(tmp: Path) -> None:
    """A crashed run's journal: 100 good lines, then every kind of bad line."""
    good_run(tmp)
    folder = run_folder(tmp, "01-00-00_dev", parquet=False, journal=True)
    journal_lines(folder, [
        event_line(latency_ms=float("nan")), event_line(latency_ms=float("inf")),
        event_line(latency_ms=-float("inf")), event_line(kind="telepathy"),
        event_line(ok="yes"), event_line(attempt="1"), event_line(latency_ms=10**400),
        event_line(ts="2026-13-45T99:00:00Z"), "[1, 2]", '{"ts": "2026-11-24T01:3',
    ])


def nan_in_parquet(tmp: Path) -> None:
    good_run(tmp)
    frame = events("01-00-00_dev")
    bad = pl.Series([float("nan"), float("inf"), -5.0] + [20.0] * (frame.height - 3))
    run_folder(tmp, "01-00-00_dev", frame=frame.with_columns(latency_ms=bad))


def only_hydra(tmp: Path) -> None:
    good_run(tmp)
    folder = tmp / "runs" / "2026-11-23" / "01-00-00_dev"
    (folder / ".hydra").mkdir(parents=True)
    (folder / ".hydra" / "config.yaml").write_text("{}\n")


def all_bad(tmp: Path) -> None:
    """Every run broken in another way: the report is still written."""
    corrupt_pages(run_folder(tmp, "01-00-00_dev") / "metrics.parquet")
    (run_folder(tmp, "02-00-00_dev") / "metrics.parquet").write_bytes(b"")
    (tmp / "runs" / "2026-11-23" / "03-00-00_dev" / ".hydra").mkdir(parents=True)


def run_with_result(text: str | bytes) -> Callable[[Path], None]:
    def setup(tmp: Path) -> None:
        folder = run_folder(tmp, "run", journal=True)
        data = text.encode() if isinstance(text, str) else text
        (folder / "result.json").write_bytes(data)

    return setup


def run_corrupt_pages(tmp: Path) -> None:
    corrupt_pages(run_folder(tmp, "run", journal=True) / "metrics.parquet")


def run_only_hydra(tmp: Path) -> None:
    (tmp / "runs" / "2026-11-23" / "run" / ".hydra").mkdir(parents=True)


def run_nan_in_parquet(tmp: Path) -> None:
    frame = events("run")
    run_folder(tmp, "run", frame=frame.with_columns(
        latency_ms=pl.Series([float("nan")] * 4 + [20.0] * (frame.height - 4))))


def a_file(name: str) -> Callable[[Path], None]:
    def setup(tmp: Path) -> None:
        (tmp / name).write_text("in the way\n")

    return setup


def read_only(name: str, *, with_run: bool = False) -> Callable[[Path], None]:
    """A folder (a run folder with `with_run`) whose mode forbids writing."""
    def setup(tmp: Path) -> None:
        if with_run:
            folder = run_folder(tmp, "run", journal=True)
            folder.rename(tmp / name)
        (tmp / name).mkdir(exist_ok=True)
        (tmp / name).chmod(0o555)

    return setup


def dotenv(data: bytes, mode: int | None = None) -> Callable[[Path], None]:
    def setup(tmp: Path) -> None:
        (tmp / ".env").write_bytes(data)
        if mode is not None:
            (tmp / ".env").chmod(mode)

    return setup


def unlistable_folder(tmp: Path) -> None:
    """A folder under the roots that only root's power could list."""
    good_run(tmp)
    locked = tmp / "runs" / "locked"
    (locked / "x").mkdir(parents=True)
    locked.chmod(0)


# -- checks of the report a data row still writes ----------------------------------------------


def nightly_report(tmp: Path) -> dict[str, Any]:
    report = json.loads((tmp / NIGHTLY / "latest.json").read_text())
    assert list(validator("report").iter_errors(report)) == []
    assert (tmp / NIGHTLY / "2026-11-24.html").is_file()
    return report


def objective(report: dict[str, Any], name: str) -> dict[str, Any]:
    return next(o for o in report["objectives"] if o["name"] == name)


def quality_says(*, read: int, skipped: dict[str, str] | None = None,
                 partly: dict[str, str] | None = None, bad_lines: int = 0, invalid: int = 0,
                 api_calls: int | None = None, run: bool = False) -> Callable[[Path], None]:
    """The report's data-quality section names each file (by its end) with a reason matching
    the regex given; `api_calls`: the api_response_time objective's valid and good count."""
    def check(tmp: Path) -> None:
        if run:
            report = json.loads((tmp / "runs/2026-11-23/run/slo_report.json").read_text())
            assert list(validator("report").iter_errors(report)) == []
            assert "## Data quality" in (tmp / "runs/2026-11-23/run/slo_report.md").read_text()
        else:
            report = nightly_report(tmp)
        quality = report["data_quality"]
        assert quality["files_read"] == read, quality
        for key, expected in (("skipped", skipped or {}), ("partly_read", partly or {})):
            found = {s["path"]: s["reason"] for s in quality[key]}
            assert len(found) == len(expected), (key, found)
            for end, reason in expected.items():
                path = next(p for p in found if p.endswith(end))
                assert re.search(reason, found[path]), (key, path, found[path])
        assert quality["journal_bad_lines"] == bad_lines
        assert quality["invalid_events"] == invalid
        if api_calls is not None:
            latency = objective(report, "api_response_time")
            assert (latency["valid"], latency["good"]) == (api_calls, api_calls)

    return check


# -- the table ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    """One bad input.  `command`: slo (in-process), slo-cli, runner-cli, dotenv (in-process),
    sim (in-process), sim-cli; `{tmp}` in args is the case's folder.  `error`: regex of the one
    stderr `error:` line, or None when the command succeeds (exit 0 or 3) with no error line.
    `absent`: globs under the folder that must match nothing afterwards."""

    id: str
    command: str
    args: tuple[str, ...]
    code: int
    error: str | None
    setup: Callable[[Path], None] | None = None
    absent: tuple[str, ...] = ()
    check: Callable[[Path], None] | None = None
    unprivileged: bool = False
    slow: bool = False


NO_REPORT = ("outputs/reports/**/*",)
CASES = [
    # 1. settings of `python -m slo`: the schema, then what a schema cannot say -- exit 2
    Case("slo roots=5", "slo", ("roots=5",), 2,
         r"^error: roots: 5 is not allowed; allowed: a list of folders", absent=NO_REPORT),
    Case("slo roots=null", "slo", ("roots=null",), 2, r"^error: roots: None is not allowed",
         absent=NO_REPORT),
    Case("slo roots=[5]", "slo", ("roots=[5]",), 2, r"^error: roots\[0\]: 5 is not allowed"),
    Case("slo out_dir=null", "slo", ("out_dir=null",), 2,
         r"^error: out_dir: None is not allowed; allowed: a non-empty path"),
    Case("slo log_level=LOUD", "slo", ("log_level=LOUD",), 2,
         r"^error: log_level: 'LOUD' is not allowed; allowed: one of TRACE, DEBUG, INFO"),
    Case("slo as_of year 1", "slo", ("as_of=0001-01-01T00:00:00Z",), 2,
         r"^error: as_of: '0001-01-01T00:00:00Z' is out of range; allowed: an ISO 8601 time "
         r"from 1970-01-01 to 2099-12-31"),
    Case("slo as_of year 9999", "slo", ("as_of=9999-12-31T23:59:59Z",), 2,
         r"^error: as_of: '9999-12-31T23:59:59Z' is out of range"),
    Case("slo as_of not a time", "slo", ("as_of=2026-02-30T00:00:00Z",), 2,
         r"^error: as_of: '2026-02-30T00:00:00Z' is not allowed; allowed: an ISO 8601 time"),
    Case("slo as_of a number", "slo", ("as_of=5",), 2,
         r"^error: as_of: 5 is not allowed; allowed: an ISO 8601 time"),
    Case("slo fail_on_breach=maybe", "slo", ("fail_on_breach=maybe",), 2,
         r"^error: fail_on_breach: 'maybe' is not allowed; allowed: true or false"),
    Case("slo fail_on_breach=1", "slo", ("fail_on_breach=1",), 2,
         r"^error: fail_on_breach: 1 is not allowed; allowed: true or false"),
    Case("slo progress=5", "slo", ("progress=5",), 2,
         r"^error: progress: 5 is not allowed; allowed: auto, true or false"),
    Case("slo window=0d", "slo", ("window=0d",), 2, r"^error: window: '0d' is not allowed"),
    Case("slo window=99999d", "slo", ("window=99999d",), 2,
         r"^error: window: '99999d' is too long; allowed: at most 3650d"),
    Case("slo target=nan", "slo", ("slo.objectives.error_rate.target=nan",), 2,
         r"^error: slo\.objectives\.error_rate\.target: nan is not allowed; allowed: a number "
         r"between 0 and 1"),
    Case("slo at_risk_below=inf", "slo", ("slo.at_risk_below=inf",), 2,
         r"^error: slo\.at_risk_below: inf is not allowed"),
    Case("slo condition value=-inf", "slo",
         ("slo.objectives.api_response_time.indicator.good=[{field:latency_ms,op:lt,"
          "value:-inf}]",), 2,
         r"^error: slo\.objectives\.api_response_time\.indicator\.good\[0\]\.value: -inf is "
         r"not allowed; allowed: text, a finite number"),
    Case("slo budget_fraction=nan", "slo", ("slo.alerting.tiers.0.budget_fraction=nan",), 2,
         r"^error: slo\.alerting\.tiers\[0\]\.budget_fraction: nan is not allowed"),
    Case("slo unknown key", "slo", ("+foo=1",), 2,
         r"^error: foo: unknown key; allowed keys: as_of, envs, export_openslo"),
    Case("slo run_dir missing", "slo", ("run_dir={tmp}/nope",), 2,
         r"^error: run_dir: \S+/nope does not exist; allowed: a run folder"),
    Case("slo run_dir a file", "slo", ("run_dir={tmp}/f",), 2,
         r"^error: run_dir: \S+/f is a file, not a folder", setup=a_file("f")),
    Case("slo run_dir not a run", "slo", ("run_dir={tmp}",), 2,
         r"^error: run_dir: \S+ holds no metrics\.parquet, events\.jsonl, result\.json or "
         r"\.hydra/"),
    Case("slo-cli roots=5", "slo-cli", ("roots=5",), 2, r"^error: roots: 5 is not allowed",
         absent=NO_REPORT),
    Case("slo-cli as_of year 1", "slo-cli", ("as_of=0001-01-01T00:00:00Z",), 2,
         r"^error: as_of: '0001-01-01T00:00:00Z' is out of range", absent=NO_REPORT),
    # 2. outputs that cannot be written: the setting, the path, the OS's reason -- exit 2
    Case("export under /proc", "slo", ("export_openslo=/proc/nonexistent/slo.yaml",), 2,
         r"^error: export_openslo: '/proc/nonexistent/slo\.yaml' cannot be written \(No such "
         r"file or directory: /proc/nonexistent\); allowed: a file in a folder"),
    Case("export under a file", "slo", ("export_openslo={tmp}/f/slo.yaml",), 2,
         r"^error: export_openslo: '\S+/f/slo\.yaml' cannot be written \(a file is in the way "
         r"of a folder: \S+/f\)", setup=a_file("f"), absent=("f/*",)),
    Case("export onto a folder", "slo", ("export_openslo={tmp}/d",), 2,
         r"^error: export_openslo: '\S+/d' cannot be written \(Is a directory: \S+/d\)",
         setup=read_only("d"), absent=("d/*", ".d.*")),
    Case("out_dir under a file", "slo", (ROOTS, "out_dir={tmp}/f/nightly", AS_OF_ARG), 2,
         r"^error: out_dir: '\S+/f/nightly' cannot be written \(a file is in the way of a "
         r"folder: \S+/f\); allowed: a folder you can create and write to",
         setup=lambda tmp: (good_run(tmp), a_file("f")(tmp)), absent=("f/*",)),
    Case("out_dir is a file", "slo", (ROOTS, "out_dir={tmp}/f", AS_OF_ARG), 2,
         r"^error: out_dir: '\S+/f' cannot be written \(a file is in the way", setup=a_file("f")),
    Case("out_dir under /proc", "slo", (ROOTS, "out_dir=/proc/nonexistent/nightly"), 2,
         r"^error: out_dir: '/proc/nonexistent/nightly' cannot be written \(No such file or "
         r"directory"),
    Case("latest.json is a folder", "slo", (ROOTS, "out_dir={tmp}/out", AS_OF_ARG), 2,
         r"^error: out_dir: '\S+/out' cannot be written \(Is a directory: \S+/out/latest\.json\)",
         setup=lambda tmp: (good_run(tmp), (tmp / "out" / "latest.json").mkdir(parents=True)),
         absent=("out/2026-11-24.*", "out/latest.md", "out/latest.html")),
    Case("out_dir read-only", "slo-cli", (ROOTS, "out_dir={tmp}/ro/nightly", AS_OF_ARG), 2,
         r"^error: out_dir: '\S+/ro/nightly' cannot be written \(Permission denied: "
         r"\S+/ro/nightly\)", setup=read_only("ro"), absent=("ro/*",), unprivileged=True),
    Case("out_dir exists read-only", "slo-cli", (ROOTS, "out_dir={tmp}/ro", AS_OF_ARG), 2,
         r"^error: out_dir: '\S+/ro' cannot be written \(Permission denied: \S+/ro\)",
         setup=read_only("ro"), absent=("ro/*", "ro/.*"), unprivileged=True, slow=True),
    Case("run_dir read-only", "slo-cli", ("run_dir={tmp}/ro",), 2,
         r"^error: run_dir: '\S+/ro' cannot be written \(Permission denied: \S+/ro\); fix: "
         r"make the run folder writable", setup=read_only("ro", with_run=True),
         absent=("ro/slo_report.*", "ro/.*.tmp"), unprivileged=True),
    Case("export into read-only", "slo-cli", ("export_openslo={tmp}/ro/slo.yaml",), 2,
         r"^error: export_openslo: '\S+/ro/slo\.yaml' cannot be written \(Permission denied",
         setup=read_only("ro"), absent=("ro/*", "ro/.*"), unprivileged=True),
    # 3. bad data: never fatal; counted and named in the data-quality section -- exit 0
    Case("corrupt pages, journal read instead", "slo", (ROOTS, AS_OF_ARG), 0, None,
         setup=corrupt_pages_with_journal,
         check=quality_says(read=2, skipped={"01-00-00_dev/metrics.parquet":
                                             r"^corrupt data pages \(ComputeError: .*\); read "
                                             r"its events\.jsonl instead"}, api_calls=200)),
    Case("corrupt pages, no journal", "slo", (ROOTS, AS_OF_ARG), 0, None,
         setup=corrupt_pages_alone,
         check=quality_says(read=1, skipped={"01-00-00_dev/metrics.parquet":
                                             r"^corrupt data pages"}, api_calls=100)),
    Case("zero-byte parquet", "slo", (ROOTS, AS_OF_ARG), 0, None, setup=zero_byte_parquet,
         check=quality_says(read=2, skipped={"metrics.parquet": r"^corrupt or partial parquet"},
                            api_calls=200)),
    Case("wrong parquet schema", "slo", (ROOTS, AS_OF_ARG), 0, None,
         setup=wrong_parquet_schema,
         check=quality_says(read=1, skipped={"metrics.parquet": r"^wrong schema: latency_ms is "
                                             r"String, expected Float64"}, api_calls=100)),
    Case("bad journal lines", "slo", (ROOTS, AS_OF_ARG), 0, None, setup=bad_journal,
         check=quality_says(read=2, bad_lines=10, api_calls=200,
                            partly={"events.jsonl": r"^10 invalid line\(s\) left out \(first: "
                                                    r"line \d+: latency_ms: nan"})),
    Case("NaN and negative latencies in a parquet", "slo", (ROOTS, AS_OF_ARG), 0, None,
         setup=nan_in_parquet,
         check=quality_says(read=2, invalid=3, api_calls=197,
                            partly={"01-00-00_dev/metrics.parquet":
                                    r"^3 event\(s\) left out: latency_ms is NaN or infinite "
                                    r"\(2\), latency_ms is negative or above "
                                    r"1,000,000,000,000 \(1\)"})),
    Case("folder with only .hydra/", "slo", (ROOTS, AS_OF_ARG), 0, None, setup=only_hydra,
         check=quality_says(read=1, skipped={"01-00-00_dev": r"only its \.hydra/"},
                            api_calls=100)),
    Case("every run broken", "slo", (ROOTS, AS_OF_ARG), 0, None, setup=all_bad,
         check=quality_says(read=0, skipped={"01-00-00_dev/metrics.parquet": "corrupt data",
                                             "02-00-00_dev/metrics.parquet": "corrupt or",
                                             "03-00-00_dev": r"\.hydra/"})),
    Case("every run broken, breach asked", "slo", (ROOTS, AS_OF_ARG, "fail_on_breach=true"), 0,
         None, setup=all_bad),
    Case("result.json not JSON", "slo", ("run_dir={tmp}/runs/2026-11-23/run",), 0, None,
         setup=run_with_result('{"run_id": "r1", "ended'),
         check=quality_says(read=1, run=True, api_calls=100,
                            partly={"run/result.json": r"^unreadable \(.*\); not used$"})),
    Case("result.json not UTF-8", "slo", ("run_dir={tmp}/runs/2026-11-23/run",), 0, None,
         setup=run_with_result(b"\xff\xfe{}"),
         check=quality_says(read=1, run=True, partly={"result.json": r"^unreadable"})),
    Case("result.json a list", "slo", ("run_dir={tmp}/runs/2026-11-23/run",), 0, None,
         setup=run_with_result("[1, 2]"),
         check=quality_says(read=1, run=True, partly={"result.json": r"not a JSON object"})),
    Case("result.json wrong types", "slo", ("run_dir={tmp}/runs/2026-11-23/run",), 0, None,
         setup=run_with_result('{"run_id": 5, "env": "", "ended_at": "0001-01-01T00:00:00"}'),
         check=quality_says(read=1, run=True, api_calls=100,
                            partly={"result.json": r"^run_id 5 is not a non-empty string; not "
                                    r"used; env '' .*; ended_at '0001-01-01T00:00:00' is out "
                                    r"of range; judged as of the last event instead$"})),
    Case("run_dir corrupt pages", "slo", ("run_dir={tmp}/runs/2026-11-23/run",), 0, None,
         setup=run_corrupt_pages,
         check=quality_says(read=1, run=True, api_calls=100,
                            skipped={"metrics.parquet": r"^corrupt data pages"})),
    Case("run_dir only .hydra/", "slo", ("run_dir={tmp}/runs/2026-11-23/run",), 0, None,
         setup=run_only_hydra,
         check=quality_says(read=0, run=True, skipped={"run": r"only its \.hydra/"})),
    Case("run_dir NaN latencies", "slo", ("run_dir={tmp}/runs/2026-11-23/run",), 0, None,
         setup=run_nan_in_parquet,
         check=quality_says(read=1, run=True, invalid=4, api_calls=96,
                            partly={"run/metrics.parquet": r"^4 event\(s\) left out"})),
    Case("slo-cli corrupt pages", "slo-cli", (ROOTS, AS_OF_ARG), 0, None,
         setup=corrupt_pages_with_journal, slow=True,
         check=quality_says(read=2, skipped={"metrics.parquet": "corrupt data pages"})),
    Case("unlistable folder", "slo-cli", (ROOTS, AS_OF_ARG), 0, None, setup=unlistable_folder,
         check=quality_says(read=1, skipped={"runs/locked": r"^folder cannot be listed "
                                             r"\(Permission denied\)"}), unprivileged=True,
         slow=True),
    # 4. a malformed .env before Hydra starts -- exit 2
    Case(".env NUL byte", "dotenv", (".env",), 2,
         r"^error: \.env: line 2 holds a NUL byte, so this is not a text file; fix: make it a "
         r"UTF-8 text file of NAME=value lines, or move it away$",
         setup=dotenv(b"A=1\nPXR_T_API_KEY=se\0cret\n")),
    Case(".env binary", "dotenv", (".env",), 2,
         r"^error: \.env: line 3 is not UTF-8 text \(byte 0x89\); fix: make it a UTF-8 text",
         setup=dotenv(b"A=1\nB=2\n\x89PNG\r\n")),
    Case(".env unreadable", "runner-cli", ("plan_only=true",), 2,
         r"^error: \.env: cannot be read \(Permission denied\); fix: make it readable",
         setup=dotenv(b"A=1\n", mode=0), absent=("outputs",), unprivileged=True),
    Case("runner-cli .env NUL byte", "runner-cli", ("plan_only=true",), 2,
         r"^error: \.env: line 1 holds a NUL byte", setup=dotenv(b"\0\0\0"),
         absent=("outputs",)),
    # 5. the simulator's numeric options -- argparse-style, one line, exit 2
    Case("sim --port -1", "sim", ("--port", "-1"), 2,
         r"^error: --port: -1 is not allowed; allowed: a port from 0 to 65535"),
    Case("sim --port 70000", "sim", ("--port", "70000"), 2,
         r"^error: --port: 70000 is not allowed; allowed: a port from 0 to 65535"),
    Case("sim --port abc", "sim", ("--port", "abc"), 2, r"^error: --port: 'abc' is not allowed"),
    Case("sim --recv-window-ms -5", "sim", ("--recv-window-ms", "-5"), 2,
         r"^error: --recv-window-ms: -5 is not allowed; allowed: milliseconds from 1 to 60000"),
    Case("sim --recv-window-ms 0", "sim", ("--recv-window-ms", "0"), 2,
         r"^error: --recv-window-ms: 0 is not allowed"),
    Case("sim --recv-window-ms 60001", "sim", ("--recv-window-ms", "60001"), 2,
         r"^error: --recv-window-ms: 60001 is not allowed"),
    Case("sim --seed -1", "sim", ("--seed", "-1"), 2,
         r"^error: --seed: -1 is not allowed; allowed: a whole number >= 0"),
    Case("sim --seed 1.5", "sim", ("--seed", "1.5"), 2, r"^error: --seed: '1\.5' is not allowed"),
    Case("sim --faults not JSON", "sim", ("--faults", "{bad"), 2,
         r"^error: --faults: Expecting property name .*; allowed: a JSON object"),
    Case("sim --faults wrong shape", "sim", ("--faults", '{"x": 5}'), 2,
         r"^error: --faults: not an object of endpoint -> list of rule objects"),
    Case("sim --faults missing file", "sim", ("--faults", "@{tmp}/nope.json"), 2,
         r"^error: --faults: @\S+/nope\.json cannot be read \(No such file or directory\)"),
    Case("sim --symbols unknown", "sim", ("--symbols", "FOO/USDT"), 2,
         r"^error: --symbols: 'FOO/USDT' is not allowed; allowed: comma-separated"),
    Case("sim-cli --port 70000", "sim-cli", ("--port", "70000"), 2,
         r"^error: --port: 70000 is not allowed; allowed: a port from 0 to 65535 \(0 picks a "
         r"free one\)$"),
]


# -- running a row -----------------------------------------------------------------------------


@cache
def unprivileged_prefix() -> list[str] | None:
    """argv prefix running a command subject to file modes: [] when not root; as root,
    `setpriv` dropping CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH (the uid stays, so the
    interpreter under /root stays reachable), when that really denies a mode-000 folder; None
    otherwise (the row is skipped)."""
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        return None
    prefix = [setpriv, "--bounding-set=-dac_override,-dac_read_search", "--"]
    locked = Path(os.environ.get("TMPDIR", "/tmp"), f".pxr-probe-{os.getpid()}")
    locked.mkdir(mode=0, exist_ok=True)
    try:
        probe = subprocess.run([*prefix, sys.executable, "-c",
                                f"import os; os.listdir({str(locked)!r})"], capture_output=True)
    finally:
        locked.rmdir()
    return prefix if b"PermissionError" in probe.stderr else None


def compose_nightly(args: tuple[str, ...]) -> Any:
    from hydra import compose, initialize_config_module

    with initialize_config_module(config_module=CONFIG_MODULE, version_base="1.3"):
        return compose(config_name="nightly", overrides=list(args))


def run(case: Case, tmp: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    args = tuple(a.replace("{tmp}", str(tmp)) for a in case.args)
    module = {"slo-cli": "slo", "runner-cli": "runner", "sim-cli": "adapters.sim"}.get(
        case.command)
    if module is not None:
        prefix: list[str] = []
        if case.unprivileged:
            found = unprivileged_prefix()
            if found is None:
                pytest.skip("no way to drop root's power over file modes here")
            prefix = found
        done = subprocess.run([*prefix, sys.executable, "-m", module, *args], cwd=tmp,
                              env=cli_env(), capture_output=True, text=True, timeout=120)
        return done.returncode, done.stdout, done.stderr
    try:
        if case.command == "slo":
            from slo.nightly import main

            code = main(compose_nightly(args))
        elif case.command == "dotenv":
            from runner.shared.dotenv_file import load_dotenv_or_exit

            load_dotenv_or_exit(args[0])  # relative: the error names it as a user would
            code = 0
        elif case.command == "sim":
            from adapters.sim.__main__ import main as sim_main

            code = sim_main(list(args))
        else:
            raise AssertionError(f"unknown command {case.command}")
    except SystemExit as exc:  # argparse, the .env loader
        code = exc.code if isinstance(exc.code, int) else 1
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture
def quiet_loguru() -> Any:
    """`python -m slo` in-process points loguru at the captured stderr: restore it after."""
    yield
    from loguru import logger

    logger.remove()
    logger.add(sys.__stderr__)


@pytest.mark.parametrize("case", [pytest.param(c, id=c.id, marks=[pytest.mark.slow] * c.slow)
                                  for c in CASES])
def test_bad_input(case: Case, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                   monkeypatch: pytest.MonkeyPatch, quiet_loguru: Any) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("PXR_T_API_KEY", raising=False)
    if case.setup is not None:
        case.setup(tmp_path)
    try:
        code, out, err = run(case, tmp_path, capsys)
    finally:
        for path in tmp_path.rglob("*"):  # undo the read-only setups, so pytest can clean up
            if path.is_dir() and not path.is_symlink():
                path.chmod(path.stat().st_mode | stat.S_IRWXU)
    assert "Traceback" not in out + err, err
    errors = [line for line in err.splitlines() if line.startswith("error:")]
    assert code == case.code, (code, err)
    if case.error is None:
        assert errors == [], err
    else:
        shown = [line for line in err.splitlines() if not STATUS_LINE.match(line)]
        assert shown == errors[:1], err  # one line, and it is the error
        assert re.search(case.error, errors[0]), errors[0]
    leftovers = [p for p in tmp_path.rglob("*") if p.name.endswith(".tmp")]
    assert leftovers == [], leftovers  # nothing half-written
    for pattern in case.absent:
        assert list(tmp_path.glob(pattern)) == [], pattern
    if case.check is not None:
        case.check(tmp_path)


def test_every_family_has_several_rows() -> None:
    commands = [c.command.removesuffix("-cli") for c in CASES]
    assert all(commands.count(k) >= 3 for k in ("slo", "sim")), commands
    assert sum(c.command in ("dotenv", "runner-cli") for c in CASES) >= 3
