"""`python -m runner` end to end, as a user runs it: a subprocess in a fresh working directory."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import polars as pl
import pytest
from conftest import ROOT, cli_env, only_run_dir, run_cli

from runner.shared.events import read_journal
from runner.shared.schemas import validator

# events.jsonl is compressed once the run is written (journal_after_run: compress).
RUN_FILES = {".hydra", "plan.json", "events.jsonl.gz", "metrics.parquet", "market_data.parquet",
             "signals.parquet", "orders.parquet", "result.json", "run.log", "slo_report.json",
             "slo_report.md"}


def extra_phases(tmp_path: Path, name: str, body: str) -> str:
    """A phases config file in a private config dir; returns the --config-dir argument."""
    folder = tmp_path / "extra_conf" / "phases"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}.yaml").write_text(body)
    return f"--config-dir={folder.parent}"


def test_default_run_succeeds_and_leaves_a_complete_run_folder(default_run):
    done, run_dir = default_run
    assert done.returncode == 0, done.stderr
    assert {p.name for p in run_dir.iterdir()} == RUN_FILES
    assert run_dir.name.endswith("_dev")


def test_result_json_is_valid_and_tells_the_story(default_run):
    _, run_dir = default_run
    result = json.loads((run_dir / "result.json").read_text())
    assert list(validator("result").iter_errors(result)) == []
    assert (result["status"], result["exit_code"], result["env"], result["dry_run"]) == (
        "succeeded", 0, "dev", True)
    statuses = {p["name"]: p["status"] for p in result["phases"]}
    assert statuses == {"preflight": "succeeded", "connect": "succeeded",
                        "market_data": "succeeded", "strategy": "succeeded",
                        "execution": "succeeded", "load": "skipped", "cleanup": "succeeded",
                        "report": "succeeded"}
    assert result["versions"]["polars"] == pl.__version__


def test_events_cover_every_kind_and_parquet_matches_the_journal(default_run):
    _, run_dir = default_run
    metrics = pl.read_parquet(run_dir / "metrics.parquet")
    journal = read_journal(run_dir / "events.jsonl.gz")
    assert journal.bad_lines == 0
    assert journal.frame.height == metrics.height
    assert set(metrics["kind"]) == {"api_call", "order", "phase", "health", "heartbeat"}
    calls = set(metrics.filter(kind="api_call")["name"])
    assert {"connect", "load_markets", "ping", "server_time", "fetch_ticker",
            "fetch_ohlcv"} <= calls
    assert metrics.filter(kind="api_call")["latency_ms"].min() > 0
    assert metrics["run_id"].n_unique() == 1
    assert metrics.schema["ts"] == pl.Datetime("us", "UTC")


def test_probe_order_is_validated_not_placed_in_dry_run(default_run):
    _, run_dir = default_run
    orders = pl.read_parquet(run_dir / "orders.parquet")
    assert orders.height == 1
    probe = orders.row(0, named=True)
    assert probe["reason"].startswith("probe") and probe["test"] is True
    assert probe["status"] == "test" and probe["amount"] * probe["reference_price"] >= 10.0


def test_console_summary_and_log_without_duplicates(default_run):
    done, run_dir = default_run
    assert "phase        status     attempts" in done.stdout
    assert f"run folder: {run_dir}" in done.stdout
    lines = [line.split("|", 2)[-1] for line in done.stderr.splitlines() if "|" in line]
    assert lines and len(lines) == len(set(lines)), "a log line was printed twice"
    assert "phase connect: succeeded" in (run_dir / "run.log").read_text()


def test_plan_only_writes_the_plan_and_runs_nothing(tmp_path):
    done = run_cli("plan_only=true", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    run_dir = only_run_dir(tmp_path)
    assert {p.name for p in run_dir.iterdir()} == {".hydra", "plan.json"}
    assert "market_data" in done.stdout and "plan written to" in done.stdout


def test_configs_are_found_from_the_repo_root(tmp_path):
    done = subprocess.run([sys.executable, "-m", "runner", "plan_only=true",
                           f"hydra.run.dir={tmp_path / 'run'}"], cwd=ROOT, env=cli_env(),
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "run" / "plan.json").exists()


def test_stdlib_logs_reach_console_and_run_log_once(tmp_path):
    config_dir = extra_phases(tmp_path, "chatty", "talk:\n  callable: fake_phases:log_stdlib\n")
    done = run_cli(config_dir, "phases=chatty", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stderr.count("hello from stdlib") == 1
    log = (only_run_dir(tmp_path) / "run.log").read_text()
    assert log.count("hello from stdlib\n") == 1
    assert log.count("hello from stdlib (debug)") == 1, "run.log keeps DEBUG"


@pytest.mark.slow
def test_same_seed_same_fills(tmp_path):
    fills = []
    for attempt in ("a", "b"):
        cwd = tmp_path / attempt
        cwd.mkdir()
        done = run_cli("dry_run=false", "seed=7", "phases.strategy.callable=fake_phases:intend_buy",
                       cwd=cwd)
        assert done.returncode == 0, done.stderr
        orders = pl.read_parquet(only_run_dir(cwd) / "orders.parquet")
        assert orders["status"].to_list() == ["closed"]
        fills.append(orders.select("symbol", "side", "amount", "filled", "average").rows())
    assert fills[0] == fills[1]


def test_failing_phase_exits_1_and_cleanup_still_runs(tmp_path):
    done = run_cli("phases.strategy.callable=fake_phases:fail", cwd=tmp_path)
    assert done.returncode == 1
    result = json.loads((only_run_dir(tmp_path) / "result.json").read_text())
    statuses = {p["name"]: p["status"] for p in result["phases"]}
    assert statuses["strategy"] == "failed" and statuses["execution"] == "skipped"
    assert statuses["cleanup"] == "succeeded"
    assert result["status"] == "failed" and result["exit_code"] == 1


SLOW_PLAN = """\
first:
  callable: fake_phases:ok
slow:
  callable: fake_phases:sleepy
  params: {seconds: 60}
  needs: [first]
  timeout_s: 120
after:
  callable: fake_phases:ok
  needs: [slow]
cleanup:
  callable: fake_phases:marker
  params: {name: cleanup}
  always: true
"""


def wait_for(predicate, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.05)


def start_cli(tmp_path: Path, *args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "runner", *args], cwd=tmp_path,
                            env=cli_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
@pytest.mark.parametrize(("sig", "code"), [
    (signal.SIGTERM, 143), pytest.param(signal.SIGINT, 130, marks=pytest.mark.slow)])
def test_signal_stops_after_the_step_runs_cleanup_and_writes_result(tmp_path, sig, code):
    proc = start_cli(tmp_path, extra_phases(tmp_path, "slow", SLOW_PLAN), "phases=slow")
    try:
        wait_for(lambda: any(tmp_path.glob("outputs/runs/*/*/run.log"))
                 and "phase slow: start" in next(tmp_path.glob("outputs/runs/*/*/run.log"))
                 .read_text())
        proc.send_signal(sig)
        _, stderr = proc.communicate(timeout=30)
    finally:
        proc.kill()
    assert proc.returncode == code, stderr
    run_dir = only_run_dir(tmp_path)
    result = json.loads((run_dir / "result.json").read_text())
    statuses = {p["name"]: p["status"] for p in result["phases"]}
    assert result["status"] == "interrupted" and result["signal"] == sig.name
    assert statuses == {"first": "succeeded", "slow": "succeeded", "after": "skipped",
                        "cleanup": "succeeded"}
    assert (run_dir / "cleanup.ran").exists()
    assert (run_dir / "metrics.parquet").exists()
    assert "Traceback" not in stderr


@pytest.mark.slow
@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL")
def test_kill_9_loses_at_most_the_last_flush_interval(tmp_path):
    plan = ("rec:\n  callable: fake_phases:record_then_wait\n"
            "  params: {events: 20000, wait_s: 60}\n  timeout_s: 120\n")
    proc = start_cli(tmp_path, extra_phases(tmp_path, "rec", plan), "phases=rec")
    try:
        wait_for(lambda: any(tmp_path.glob("outputs/runs/*/*/recorded.marker")))
        time.sleep(0.25 + 0.25)  # one flush interval, plus slack for a loaded machine
        proc.kill()
        proc.communicate(timeout=30)
    finally:
        proc.kill()
    run_dir = only_run_dir(tmp_path)
    assert not (run_dir / "metrics.parquet").exists()
    journal_file = run_dir / "events.jsonl"
    journal = read_journal(journal_file)
    assert journal.bad_lines == 0
    assert journal.frame.filter(kind="api_call").height == 20_000
    # A torn last line (as a crash mid-write would leave) is skipped and counted, not fatal.
    with open(journal_file, "a", encoding="utf-8") as out:
        out.write('{"ts": "2026-01-01T00:00:00+00:00", "run_id": "x", "kind": "api_c')
    torn = read_journal(journal_file)
    assert torn.bad_lines == 1 and torn.frame.height == journal.frame.height
