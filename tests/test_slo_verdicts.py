"""Honest SLO verdicts, with hand-computed expectations: uptime from enough measured minutes,
crashed runs as downtime and as incomplete runs, window edges read alike on every path, one
exit-code rule, `latest.*` only moving forward, and each reason of the go-live verdict."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import polars as pl
import pytest
import yaml

from runner.shared.events import COLUMNS, polars_schema
from runner.shared.files import write_parquet_atomic
from runner.shared.liveness import held_by_a_live_process, hold_while_alive
from slo.compute import assess
from slo.readiness import NOT_READY, READY, job_readiness, readiness
from slo.runs import RunInfo, run_facts
from slo.spec import load_objectives

ROOT = Path(__file__).resolve().parents[1]
UTC = timezone.utc
T0 = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
MIN = timedelta(minutes=1)


def default_slo() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "conf" / "slo" / "default.yaml").read_text(encoding="utf-8"))


def spec_of(*names: str, **changes: Any):
    slo = default_slo()
    slo["objectives"] = {n: {**slo["objectives"][n], **changes.get(n, {})} for n in names}
    return load_objectives(slo)


def event(ts: datetime, kind: str = "heartbeat", name: str = "alive", ok: bool = True, *,
          run_id: str = "r1", env: str = "dev", phase: str | None = None,
          latency_ms: float | None = None, error: str | None = None, attempt: int = 1,
          final: bool | None = None) -> dict[str, Any]:
    return {"ts": ts, "run_id": run_id, "env": env, "phase": phase, "kind": kind, "name": name,
            "ok": ok, "latency_ms": latency_ms, "error": error, "attempt": attempt,
            "symbol": None, "final": final}


def frame(rows: list[dict[str, Any]]) -> pl.DataFrame:
    schema = polars_schema()
    return pl.DataFrame(rows, schema={c: schema[c] for c in COLUMNS})


def run_info(run_id: str = "r1", status: str = "succeeded", start: datetime = T0,
             end: datetime | None = None, **more: Any) -> RunInfo:
    return RunInfo(folder=Path(f"/runs/{run_id}"), run_id=run_id, env="dev", status=status,
                   started_at=start if status != "crashed" else None,
                   ended_at=end if status != "crashed" else None,
                   first_event=start, last_event=end, **more)


def objective(assessment, name: str) -> dict[str, Any]:
    return next(o for o in assessment.objectives if o["name"] == name)


# -- uptime: enough measured minutes, crashes are downtime ---------------------------------


def ten_minute_run_with_three_bad_minutes() -> pl.DataFrame:
    rows = [event(T0 + i * MIN + timedelta(seconds=30)) for i in range(10)]
    rows += [event(T0 + i * MIN + timedelta(seconds=40), "health", "memory", False,
                   error="Unhealthy") for i in (3, 4, 5)]
    return frame(rows)


def test_ten_minutes_with_three_bad_ones_is_insufficient_data_and_fires_nothing():
    spec = spec_of("system_uptime")
    as_of = T0 + 10 * MIN
    result = assess(ten_minute_run_with_three_bad_minutes(), spec, as_of,
                    runs=[run_info(end=as_of)], explain=True)
    uptime = objective(result, "system_uptime")
    assert (uptime["valid"], uptime["good"], uptime["bad"]) == (10, 7, 3)
    assert uptime["sli"] == 0.7
    assert uptime["status"] == "insufficient_data"  # 10 measured slices < 60
    assert not any(a["firing"] for a in uptime["alerts"])
    assert uptime["contributors"] == [
        {"run_id": "r1", "env": "dev", "phase": None, "name": "memory", "error": "Unhealthy",
         "bad": 3, "folder": None, "git_sha": None, "config_hash": None}]
    assert result.bad_by_run["system_uptime"] == {"r1": 3}


def test_sixty_measured_minutes_are_enough_for_a_verdict():
    spec = spec_of("system_uptime")
    rows = [event(T0 + i * MIN + timedelta(seconds=30)) for i in range(60)]
    result = assess(frame(rows), spec, T0 + 60 * MIN, runs=[run_info(end=T0 + 60 * MIN)])
    assert objective(result, "system_uptime")["status"] == "met"
    rows = rows[:59]  # 59 measured minutes: still no verdict
    result = assess(frame(rows), spec, T0 + 60 * MIN, runs=[run_info(end=T0 + 59 * MIN)])
    assert objective(result, "system_uptime")["status"] == "insufficient_data"


def test_a_crashed_run_is_downtime_named_and_an_incomplete_run():
    """70 healthy minutes, then kill -9: the minute after the last event is down.
    valid 71, good 70; allowed bad = 0.005 x 71 = 0.355 < 1 bad: breached."""
    spec = spec_of("system_uptime", "run_completion")
    rows = [event(T0 + i * MIN + timedelta(seconds=30)) for i in range(70)]
    last = T0 + 69 * MIN + timedelta(seconds=30)
    crashed = run_info(status="crashed", start=T0 + timedelta(seconds=30), end=last)
    as_of = T0 + 3 * timedelta(hours=1)
    result = assess(frame(rows), spec, as_of, runs=[crashed], explain=True)
    uptime = objective(result, "system_uptime")
    assert (uptime["valid"], uptime["good"]) == (71, 70)
    assert uptime["coverage"] == pytest.approx(70 / 71, rel=1e-5)
    assert uptime["status"] == "breached"
    assert [(c["name"], c["bad"]) for c in uptime["contributors"]] == [("run crashed", 1)]
    completion = objective(result, "run_completion")
    assert (completion["valid"], completion["good"]) == (1, 0)
    assert completion["contributors"][0]["error"] == "crashed"


def test_a_run_that_began_before_the_window_is_alive_from_the_window_start():
    """Heartbeats each minute at :30 from 10:00 to 10:59, none in 10:20 (stuck).  A 1-hour
    window ending 11:20:15 starts at 10:20:15: its first slice, 10:20, is the stuck one.
    Lifetime from the run's start: slices 10:20..10:59 = 40 expected, 39 good."""
    spec = spec_of("system_uptime", system_uptime={"timeWindow": "1h"})
    rows = [event(T0 + i * MIN + timedelta(seconds=30)) for i in range(60) if i != 20]
    as_of = T0 + timedelta(hours=1, minutes=20, seconds=15)
    result = assess(frame(rows), spec, as_of, runs=[run_info(end=T0 + 60 * MIN)])
    uptime = objective(result, "system_uptime")
    assert (uptime["valid"], uptime["good"]) == (40, 39)
    # Read from the window's start only (what a reader cut at `since` sees), the events alone
    # would start the run at 10:21:30 and lose the stuck slice; the run's own start keeps it.
    cut = frame(rows).filter(pl.col("ts") >= as_of - timedelta(hours=1))
    from_events = assess(cut, spec, as_of)
    assert objective(from_events, "system_uptime")["valid"] == 39
    kept = assess(cut, spec, as_of, runs=[run_info(end=T0 + 60 * MIN)])
    assert (objective(kept, "system_uptime")["valid"], objective(kept, "system_uptime")["good"]) \
        == (40, 39)


# -- window edges: every path reads the same events --------------------------------------


def write_run(folder: Path, rows: list[dict[str, Any]], result: dict[str, Any] | None,
              journal: bool = False) -> Path:
    folder.mkdir(parents=True)
    if journal:
        lines = [json.dumps({**{k: v for k, v in r.items() if k != "final"},
                             "ts": r["ts"].isoformat()}) for r in rows]
        (folder / "events.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    else:
        write_parquet_atomic(frame(rows), folder / "metrics.parquet")
    if result is not None:
        (folder / "result.json").write_text(json.dumps(result), encoding="utf-8")
    return folder


def result_json(run_id: str, start: datetime, end: datetime, status: str = "succeeded",
                **more: Any) -> dict[str, Any]:
    return {"run_id": run_id, "env": "dev", "status": status, "exit_code": 0,
            "started_at": start.isoformat(), "ended_at": end.isoformat(),
            "git_sha": "abc123", "config_hash": "f00d", "phases": [], **more}


def run_nightly(tmp_path: Path, *args: str) -> int:
    from hydra import compose, initialize_config_dir

    from slo.nightly import main

    with initialize_config_dir(str(ROOT / "conf"), version_base="1.3"):
        cfg = compose("nightly", overrides=[f"roots=[{tmp_path / 'runs'}]",
                                            f"out_dir={tmp_path / 'nightly'}", *args])
    return main(cfg)


def test_the_nightly_and_a_direct_reading_agree_at_a_cut_first_slice(tmp_path):
    """as_of 11:20:15 with a 1-hour window: the first slice (10:20) is cut at 10:20:15.  Its
    failed check at 10:20:05 counts on every path (a slice is judged on all its events)."""
    rows = [event(T0 + i * MIN + timedelta(seconds=30)) for i in range(60)]
    rows.append(event(T0 + 20 * MIN + timedelta(seconds=5), "health", "memory", False))
    write_run(tmp_path / "runs" / "a", rows, result_json("r1", T0, T0 + 60 * MIN))
    as_of = T0 + timedelta(hours=1, minutes=20, seconds=15)
    assert run_nightly(tmp_path, f"as_of={as_of.isoformat()}", "window=1h") == 0
    report = json.loads((tmp_path / "nightly" / "2026-11-20_window-1h.json").read_text())
    uptime = next(o for o in report["objectives"] if o["name"] == "system_uptime")
    spec = spec_of("system_uptime", system_uptime={"timeWindow": "1h"})
    direct = objective(assess(frame(rows), spec, as_of,
                              runs=[run_info(end=T0 + 60 * MIN)]), "system_uptime")
    assert (uptime["valid"], uptime["good"]) == (direct["valid"], direct["good"]) == (40, 39)


# -- latest.* moves forward only; variants never replace the default -----------------------


def test_latest_is_replaced_only_by_a_newer_as_of_and_never_by_a_variant(tmp_path):
    write_run(tmp_path / "runs" / "a", [event(T0 + timedelta(seconds=30))],
              result_json("r1", T0, T0 + MIN))
    out = tmp_path / "nightly"
    assert run_nightly(tmp_path, "as_of=2026-11-22T02:00:00Z") == 0
    assert run_nightly(tmp_path, "as_of=2026-11-21T02:00:00Z") == 0  # rebuild an older night
    assert json.loads((out / "latest.json").read_text())["as_of"].startswith("2026-11-22")
    assert (out / "2026-11-21.json").is_file() and (out / "2026-11-21.html").is_file()
    assert run_nightly(tmp_path, "as_of=2026-11-23T02:00:00Z", "window=7d") == 0
    assert json.loads((out / "latest.json").read_text())["as_of"].startswith("2026-11-22")
    assert (out / "latest_window-7d.json").is_file()
    assert not (out / "2026-11-23.json").exists()


# -- crashed runs: lock while alive, named in every report -------------------------------


def test_a_result_less_run_is_running_while_its_journal_is_locked_and_crashed_after(tmp_path):
    folder = write_run(tmp_path / "runs" / "a", [event(T0), event(T0 + MIN)], None,
                       journal=True)
    fd = hold_while_alive(folder / "events.jsonl")
    try:
        assert held_by_a_live_process(folder / "events.jsonl")
        [run] = run_facts([_source(folder)])
        assert run.status == "running"
    finally:
        import os

        os.close(fd)
    [run] = run_facts([_source(folder)])
    assert (run.status, run.run_id, run.first_event, run.last_event) == ("crashed", "r1", T0,
                                                                          T0 + MIN)


def _source(folder: Path):
    from slo.read import discover

    [source] = discover([folder])
    return source


def test_the_nightly_names_a_crashed_run(tmp_path):
    write_run(tmp_path / "runs" / "ok", [event(T0 + timedelta(seconds=30))],
              result_json("r1", T0, T0 + MIN))
    write_run(tmp_path / "runs" / "killed", [event(T0 + 2 * MIN, run_id="r2")], None,
              journal=True)
    assert run_nightly(tmp_path, "as_of=2026-11-20T12:00:00Z") == 0
    report = json.loads((tmp_path / "nightly" / "latest.json").read_text())
    assert [c["folder"] for c in report["crashed"]] == ["../runs/killed"]
    assert {r["run_id"]: r["status"] for r in report["runs_table"]} == {"r1": "succeeded",
                                                                        "r2": "crashed"}
    assert report["readiness"]["verdict"] == NOT_READY
    assert any("crashed" in r and "killed" in r for r in report["readiness"]["reasons"])
    text = (tmp_path / "nightly" / "latest.md").read_text()
    assert "killed" in text and "Go-live readiness" in text


# -- the go-live verdict -----------------------------------------------------------------


def met(name: str = "error_rate") -> dict[str, Any]:
    return {"name": name, "status": "met", "budgeting": "Occurrences", "valid": 100,
            "min_events": 10, "sli": 1.0, "target": 0.99, "budget_remaining": 1.0,
            "window": "7d", "alerts": []}


def finished(**more: Any) -> RunInfo:
    phases = more.pop("phases", [{"name": "connect", "status": "succeeded", "reason": None}])
    return run_info(end=T0 + MIN, phases=phases, **more)


def test_ready_only_when_nothing_stands_in_the_way():
    assert readiness([met()], [finished()], envs=[], gate=True) == {
        "verdict": READY, "envs": [], "reasons": [], "gate": True}


@pytest.mark.parametrize(("objectives", "runs", "expected"), [
    ([{**met(), "status": "breached", "sli": 0.9, "budget_remaining": -9.0}], [finished()],
     "error_rate: breached (SLI 90.000 %, target 99.000 %, budget left -900.000 %)"),
    ([{**met(), "status": "insufficient_data", "valid": 3}], [finished()],
     "error_rate: insufficient data (3 valid events; at least 10 needed)"),
    ([{**met(), "status": "no_data", "valid": 0}], [finished()],
     "error_rate: no data in the 7d window"),
    ([met()], [finished(unresolved_orders=["pxr-1"])],
     "run r1: order outcome unknown or unreconciled (pxr-1); see /runs/r1"),
    ([met()], [finished(), run_info("r2", status="crashed", end=T0)],
     "1 run(s) crashed (no result.json): /runs/r2"),
    ([met()], [finished(phases=[{"name": "connect", "status": "failed", "reason": "timeout"}])],
     "phase connect: failed in the latest run r1: timeout"),
    ([met()], [], "no finished run in the window"),
], ids=["breached", "insufficient", "no-data", "unknown-order", "crashed", "phase", "no-run"])
def test_each_reason_makes_it_not_ready(objectives, runs, expected):
    verdict = readiness(objectives, runs, envs=["testnet"], gate=False)
    assert verdict["verdict"] == NOT_READY
    assert expected in verdict["reasons"]


def test_the_latest_run_of_a_phase_decides_and_disabled_phases_are_not_judged():
    old = finished(run_id="r1", start=T0, phases=[{"name": "load", "status": "failed"}])
    new = finished(run_id="r2", start=T0 + 60 * MIN, phases=[
        {"name": "load", "status": "succeeded"},
        {"name": "soak", "status": "skipped", "reason": "disabled"}])
    assert readiness([met()], [new, old], envs=[], gate=False)["verdict"] == READY


def test_a_sweep_job_has_its_own_verdict():
    good = {"status": "succeeded", "exit_code": 0, "phases": [{"name": "a", "status": "succeeded"}],
            "slo": {"objectives": {"error_rate": {"status": "met"}}}, "orders": {"unresolved": []}}
    assert job_readiness(good)["verdict"] == READY
    slow = {**good, "slo": {"objectives": {"error_rate": {"status": "insufficient_data"}}}}
    assert job_readiness(slow)["reasons"] == ["error_rate: insufficient data"]
    assert job_readiness({})["verdict"] == NOT_READY


def test_fail_on_not_ready_makes_the_nightly_exit_3(tmp_path):
    write_run(tmp_path / "runs" / "a", [event(T0 + timedelta(seconds=30))],
              result_json("r1", T0, T0 + MIN))
    assert run_nightly(tmp_path, "as_of=2026-11-20T12:00:00Z") == 0
    assert run_nightly(tmp_path, "as_of=2026-11-20T12:00:00Z", "fail_on_not_ready=true") == 3


# -- drills with the real runner (subprocesses) --------------------------------------------


def _slo_cli(*args: str, cwd: Path):
    import subprocess
    import sys

    from conftest import cli_env

    return subprocess.run([sys.executable, "-m", "slo", *args], cwd=cwd, env=cli_env(),
                          capture_output=True, text=True, timeout=120)


@pytest.mark.slow
@pytest.mark.parametrize("strict", [[], ["slo=strict"], [
    "slo=strict", "slo.objectives.api_response_time.indicator.good="
                  "[{field:latency_ms,op:lt,value:1}]"]], ids=["default", "strict", "breached"])
def test_the_runner_and_a_rebuild_agree_on_report_and_exit_code(tmp_path, strict):
    from conftest import only_run_dir, run_cli

    done = run_cli(*strict, cwd=tmp_path)
    run_dir = only_run_dir(tmp_path)
    ran = json.loads((run_dir / "slo_report.json").read_text())
    rebuilt = _slo_cli(f"run_dir={run_dir}", *strict, cwd=tmp_path)
    again = json.loads((run_dir / "slo_report.json").read_text())
    assert rebuilt.returncode == done.returncode, (done.stderr, rebuilt.stderr)
    assert done.returncode == (3 if len(strict) == 2 else 0)
    keys = ("name", "valid", "good", "status", "budget_remaining")
    assert [{k: o[k] for k in keys} for o in again["objectives"]] == \
        [{k: o[k] for k in keys} for o in ran["objectives"]]
    assert again["as_of"] == ran["as_of"]


@pytest.mark.slow
@pytest.mark.skipif(__import__("sys").platform == "win32", reason="SIGKILL, flock")
def test_kill_9_reads_running_while_alive_then_crashed_everywhere(tmp_path):
    import subprocess
    import sys

    from conftest import cli_env, only_run_dir
    from test_cli import extra_phases, wait_for

    plan = ("rec:\n  callable: fake_phases:record_then_wait\n"
            "  params: {events: 50, wait_s: 60}\n  timeout_s: 120\n")
    proc = subprocess.Popen([sys.executable, "-m", "runner", extra_phases(tmp_path, "rec", plan),
                             "phases=rec"], cwd=tmp_path, env=cli_env(),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_for(lambda: any(tmp_path.glob("outputs/runs/*/*/recorded.marker")))
        run_dir = only_run_dir(tmp_path)
        journal = run_dir / "events.jsonl"
        wait_for(lambda: journal.read_bytes().count(b"\n") >= 50)  # the events are journaled
        [alive] = run_facts([_source(run_dir)])
        assert alive.status == "running"
        proc.kill()
        proc.communicate(timeout=30)
    finally:
        proc.kill()
    [dead] = run_facts([_source(run_dir)])
    assert dead.status == "crashed" and dead.run_id
    rebuilt = _slo_cli(f"run_dir={run_dir}", cwd=tmp_path)
    assert rebuilt.returncode == 0, rebuilt.stderr
    report = json.loads((run_dir / "slo_report.json").read_text())
    assert report["crashed"][0]["run_id"] == dead.run_id
    completion = next(o for o in report["objectives"] if o["name"] == "run_completion")
    assert (completion["valid"], completion["good"]) == (1, 0)
    uptime = next(o for o in report["objectives"] if o["name"] == "system_uptime")
    assert uptime["bad"] >= 1  # the slice after the last event is the crash
    nightly = _slo_cli(f"roots=[{tmp_path / 'outputs'}]", f"out_dir={tmp_path / 'nightly'}",
                       cwd=tmp_path)
    assert "crashed" in nightly.stdout
    latest = json.loads((tmp_path / "nightly" / "latest.json").read_text())
    assert [c["run_id"] for c in latest["crashed"]] == [dead.run_id]


def test_the_openslo_export_says_what_one_unit_is():
    from slo.openslo import to_openslo

    docs = {d["metadata"]["displayName"]: d for d in to_openslo(load_objectives(default_slo()))}
    uptime = docs["system_uptime"]["metadata"]["annotations"]["pre-execution-runner/counts"]
    assert uptime.startswith("rehearsal time only") and "not every slice of the 30d" in uptime
    assert "60 measured slices" in uptime and "crashed run" in uptime
    errors = docs["error_rate"]["metadata"]["annotations"]["pre-execution-runner/counts"]
    assert "final=false" in errors



def test_a_run_killed_before_its_first_flush_is_still_a_named_crash(tmp_path):
    folder = tmp_path / "runs" / "early"
    folder.mkdir(parents=True)
    (folder / "events.jsonl").write_text("", encoding="utf-8")
    [run] = run_facts([_source(folder)])
    assert run.status == "crashed" and run.start is not None  # the journal's mtime
    assert readiness([met()], [finished(), run], envs=[], gate=False)["verdict"] == NOT_READY


def test_a_compressed_journal_without_result_still_gives_its_run_facts(tmp_path):
    import gzip

    folder = tmp_path / "runs" / "gz"
    folder.mkdir(parents=True)
    lines = [json.dumps({**{k: v for k, v in e.items() if k != "final"}, "ts": e["ts"].isoformat()})
             for e in (event(T0), event(T0 + MIN))]
    with gzip.open(folder / "events.jsonl.gz", "wt", encoding="utf-8") as out:
        out.write("\n".join(lines) + "\n")
    [run] = run_facts([_source(folder)])
    assert (run.status, run.run_id, run.first_event, run.last_event) == ("crashed", "r1", T0,
                                                                          T0 + MIN)


def test_a_plan_only_sweep_job_is_planned_not_crashed(tmp_path):
    from slo.sweep import job_row

    planned = tmp_path / "0"
    (planned / ".hydra").mkdir(parents=True)
    (planned / "plan.json").write_text("{}", encoding="utf-8")
    assert (job_row(planned)["status"], job_row(planned)["exit_code"]) == ("planned (plan_only)",
                                                                           0)
    (planned / "events.jsonl").write_text("", encoding="utf-8")  # it ran, then vanished
    assert job_row(planned)["exit_code"] is None
