"""The SLO reports as users meet them: per run, per sweep, nightly (`python -m slo`), exit 3."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import polars as pl
import pytest
from conftest import cli_env, only_run_dir, run_cli

from runner.recorder import Recorder
from slo.schemas import validator

pytestmark = pytest.mark.slow  # each test starts `python -m slo` or `-m runner` as a subprocess

AS_OF = datetime(2026, 11, 24, 2, 0, tzinfo=timezone.utc)


def run_slo(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "slo", *args], cwd=cwd, env=cli_env(),
                          capture_output=True, text=True, timeout=120)


def fake_run(folder: Path, *, start: datetime, calls: int, failures: int, journal_only=False):
    """A run folder whose events are known exactly: `calls` api calls, `failures` of them bad,
    one heartbeat per minute over five minutes."""
    folder.mkdir(parents=True)
    rows = []
    for i in range(calls):
        at = start + timedelta(seconds=i * 290 / calls)
        rows.append((at, "api_call", "fetch_ticker", i >= failures, 20.0))
    rows += [(start + timedelta(minutes=m), "heartbeat", "alive", True, None) for m in range(5)]
    frame = pl.DataFrame(rows, schema=["ts", "kind", "name", "ok", "latency_ms"], orient="row")
    recorder = Recorder(folder.name, "dev", folder)
    recorder.start()
    recorder.close()
    full = recorder.frame([]).vstack(frame.select(
        pl.col("ts").dt.replace_time_zone("UTC").dt.cast_time_unit("us"),
        pl.lit(folder.name).alias("run_id"), pl.lit("dev").alias("env"),
        pl.lit("load").alias("phase"), "kind", "name", "ok", "latency_ms",
        pl.when(pl.col("ok")).then(None).otherwise(pl.lit("RequestTimeout")).alias("error"),
        pl.lit(1, pl.Int32).alias("attempt"), pl.lit(None, pl.String).alias("symbol"),
        pl.lit(None, pl.Boolean).alias("final")))
    if journal_only:  # a crashed run: its journal, no parquet
        (folder / "metrics.parquet").unlink()
        with open(folder / "events.jsonl", "wb") as out:
            full.write_ndjson(out)
    else:
        full.write_parquet(folder / "metrics.parquet")


@pytest.fixture
def outputs(tmp_path: Path) -> Path:
    runs = tmp_path / "outputs" / "runs" / "2026-11-23"
    fake_run(runs / "23-00-00_dev", start=AS_OF - timedelta(hours=3), calls=1000, failures=5)
    fake_run(runs / "23-30-00_dev", start=AS_OF - timedelta(hours=2), calls=1000, failures=5,
             journal_only=True)
    broken = runs / "23-45-00_dev"
    broken.mkdir()
    (broken / "metrics.parquet").write_bytes(b"PAR1 not really parquet")
    return tmp_path


def test_nightly_reads_finished_and_crashed_runs_and_lists_what_it_skipped(outputs):
    done = run_slo("as_of=2026-11-24T02:00:00Z", cwd=outputs)
    assert done.returncode == 0, done.stderr
    nightly = outputs / "outputs" / "reports" / "nightly"
    names = {p.name for p in nightly.iterdir()}
    assert names == {"2026-11-24.json", "2026-11-24.md", "2026-11-24.html", "latest.json",
                     "latest.md", "latest.html"}
    report = json.loads((nightly / "latest.json").read_text())
    assert list(validator("report").iter_errors(report)) == []
    quality = report["data_quality"]
    assert (quality["files_read"], quality["journals_read"]) == (2, 1)
    assert [Path(s["path"]).parent.name for s in quality["skipped"]] == ["23-45-00_dev"]
    errors = {o["name"]: o for o in report["objectives"]}["error_rate"]
    # 2,000 calls, 10 bad: SLI 0.995; allowed bad = 0.01 × 2000 = 20; remaining 1 − 10/20 = 0.5
    assert (errors["valid"], errors["bad"], errors["sli"]) == (2000, 10, 0.995)
    assert errors["budget_remaining"] == 0.5
    # 7 d: sloth's 7-day table (alerting.tiers_by_window.7d). Its slow ticket tier 3d/6h has
    # k = 0.42 × 168 h / 72 h = 0.98, clamped to 1: burn 0.005 / 0.01 = 0.5 over 3 d and 6 h
    # does not fire it (the Workbook's 30-day table gave k ≈ 0.233 and fired at half the budget).
    assert [(a["severity"], a["long"], a["short"]) for a in errors["alerts"]] == [
        ("page", "1h", "5m"), ("page", "6h", "30m"), ("ticket", "1d", "2h"), ("ticket", "3d", "6h")]
    ticket = errors["alerts"][3]
    assert (ticket["burn_long"], ticket["burn_short"], ticket["firing"]) == (0.5, 0.5, False)
    assert not any(a["firing"] for a in errors["alerts"])
    assert errors["status"] == "met"
    html = (nightly / "latest.html").read_text()
    assert html.count("<svg") == 5 and "23-45-00_dev" in html
    assert "Data quality" in (nightly / "latest.md").read_text()


@pytest.mark.slow
def test_nightly_exits_3_on_a_breach_when_asked(outputs):
    fake_run(outputs / "outputs" / "runs" / "2026-11-23" / "23-50-00_dev",
             start=AS_OF - timedelta(hours=1), calls=1000, failures=400)
    assert run_slo("as_of=2026-11-24T02:00:00Z", cwd=outputs).returncode == 0
    done = run_slo("as_of=2026-11-24T02:00:00Z", "fail_on_breach=true", cwd=outputs)
    assert done.returncode == 3
    assert "error_rate" in done.stderr and "exit 3" in done.stderr
    assert run_slo("as_of=2026-11-24T02:00:00Z", "slo=strict", cwd=outputs).returncode == 3


@pytest.mark.slow
def test_nightly_with_no_runs_reports_no_data_not_met(tmp_path):
    done = run_slo(cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    report = json.loads((tmp_path / "outputs/reports/nightly/latest.json").read_text())
    assert {o["status"] for o in report["objectives"]} == {"no_data"}
    assert report["status"] == "no_data"


def test_bad_settings_are_one_line_exit_2(tmp_path):
    for args, expected in [(["as_of=yesterday"], "error: as_of: 'yesterday' is not allowed"),
                           (["window=7days"], "error: window: "),
                           (["slo.objectives.error_rate.target=1.5"],
                            "error: slo.objectives.error_rate.target: 1.5 is not allowed"),
                           ([f"run_dir={tmp_path}"], "error: run_dir: "),
                           (["slo=nope"], "error: In 'nightly': Could not find 'slo/nope'")]:
        done = run_slo(*args, cwd=tmp_path)
        assert done.returncode == 2, (args, done.stderr)
        assert done.stderr.startswith(expected) and done.stderr.count("\n") == 1, done.stderr
        assert "Traceback" not in done.stderr


def test_openslo_export(tmp_path):
    import yaml

    done = run_slo("export_openslo=slo.yaml", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    documents = list(yaml.safe_load_all((tmp_path / "slo.yaml").read_text()))
    assert [d["metadata"]["name"] for d in documents] == [
        "system-uptime", "api-response-time", "trade-execution-time", "error-rate",
        "run-completion"]
    assert {d["apiVersion"] for d in documents} == {"openslo/v1"}


def test_run_report_and_rebuild(default_run, tmp_path):
    done, shared = default_run
    assert done.returncode == 0, done.stderr
    run_dir = tmp_path / shared.name
    shutil.copytree(shared, run_dir)  # the shared run folder stays as the run left it
    report = json.loads((run_dir / "slo_report.json").read_text())
    assert list(validator("report").iter_errors(report)) == []
    result = json.loads((run_dir / "result.json").read_text())
    assert result["slo"]["objectives"].keys() == {o["name"] for o in report["objectives"]}
    assert "objective             status" in done.stdout
    (run_dir / "slo_report.json").unlink()
    rebuilt = run_slo(f"run_dir={run_dir}", cwd=tmp_path)
    assert rebuilt.returncode == 0, rebuilt.stderr
    again = json.loads((run_dir / "slo_report.json").read_text())
    assert [o["valid"] for o in again["objectives"]] == [o["valid"] for o in
                                                         report["objectives"]]


def test_run_exits_3_when_breached_and_fail_on_breach(tmp_path):
    impossible = ("slo.objectives.api_response_time.indicator.good="
                  "[{field:latency_ms,op:lt,value:1}]")
    done = run_cli("slo.fail_on_breach=true", impossible, cwd=tmp_path)
    assert done.returncode == 3, done.stderr
    result = json.loads((only_run_dir(tmp_path) / "result.json").read_text())
    assert result["exit_code"] == 3 and result["status"] == "succeeded"
    assert result["slo"]["breached"] == ["api_response_time"]


def test_sweep_report_compares_jobs_including_failed_and_invalid_ones(tmp_path):
    done = run_cli("-m", 'phases.strategy.callable="fake_phases:fail",strategy,nope',
                   cwd=tmp_path)
    assert done.returncode == 2, done.stderr  # worst job: the invalid one
    (sweep_dir,) = (tmp_path / "outputs" / "sweeps").glob("*/*")
    report = json.loads((sweep_dir / "sweep_report.json").read_text())
    assert list(validator("report").iter_errors(report)) == []
    assert report["override_keys"] == ["phases.strategy.callable"]
    rows = {j["overrides"]["phases.strategy.callable"]: j for j in report["jobs"]}
    assert (rows["fake_phases:fail"]["status"], rows["fake_phases:fail"]["exit_code"]) == (
        "failed", 1)
    assert rows["strategy"]["status"] == "succeeded" and rows["strategy"]["objectives"]
    assert rows["nope"]["status"].startswith("invalid config: phases.strategy.callable")
    assert "| job | phases.strategy.callable |" in (sweep_dir / "sweep_report.md").read_text()
