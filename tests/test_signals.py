"""SIGINT/SIGTERM from the first line to the last file (runner/shared/signals.py), with real
processes
and real signals: bursts in every phase, inside polars calls, after the last phase, before the
run starts, and Ctrl-C (the whole process group) during basic and joblib sweeps.

Each run is held at a known point by a phase of tests/signal_phases.py that writes a marker
file; the test waits for the marker, so the signal lands where it should on any machine.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import cli_env

from runner.shared.events import find_journal, open_journal

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")

STANDARD = ["preflight", "connect", "market_data", "strategy", "execution", "cleanup", "report"]
ALWAYS = {"cleanup", "report"}
NOT_STARTED = "not started: {} received before this job started; nothing ran"


# -- helpers ------------------------------------------------------------------------------------


def start(cwd: Path, *args: str) -> subprocess.Popen:
    """`python -m runner` in its own session, so a signal to its group reaches nothing else."""
    return subprocess.Popen([sys.executable, "-m", "runner", *args], cwd=cwd, env=cli_env(),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)


def finish(proc: subprocess.Popen, timeout: float = 120) -> tuple[int, str, str]:
    try:
        out, err = proc.communicate(timeout=timeout)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
    return proc.returncode, out, err


def wait_for(predicate: Callable[[], Any], proc: subprocess.Popen, timeout: float = 60) -> Any:
    """Poll until `predicate()` is truthy; fails early when the process ended instead."""
    deadline = time.monotonic() + timeout
    while not (found := predicate()):
        if proc.poll() is not None:
            _, _, err = finish(proc)
            pytest.fail(f"the process ended (exit {proc.returncode}) before the marker:\n{err}")
        assert time.monotonic() < deadline, "timed out waiting for the marker"
        time.sleep(0.005)
    return found


def burst(target: int, sig: int = signal.SIGINT, count: int = 20, gap_s: float = 0.005,
          group: bool = False) -> None:
    """`count` signals `gap_s` apart (a held-down Ctrl-C); stops quietly once the target is gone."""
    for _ in range(count):
        try:
            os.killpg(target, sig) if group else os.kill(target, sig)
        except ProcessLookupError:
            return
        time.sleep(gap_s)


def run_dirs(cwd: Path) -> list[Path]:
    return sorted(p for p in (cwd / "outputs" / "runs").glob("*/*") if p.is_dir())


def marker(cwd: Path, pattern: str) -> Callable[[], list[Path]]:
    return lambda: sorted(cwd.glob(pattern))


def assert_clean(out: str, err: str) -> None:
    assert "Traceback" not in out + err, err
    assert "KeyboardInterrupt" not in out + err, err


def assert_complete(run_dir: Path, signame: str) -> dict[str, Any]:
    """The run folder of an interrupted run: result.json, metrics.parquet, each event once."""
    result = json.loads((run_dir / "result.json").read_text())
    assert (result["status"], result["signal"]) == ("interrupted", signame)
    assert result["exit_code"] == (143 if signame == "SIGTERM" else 130)
    assert (run_dir / "metrics.parquet").is_file()
    with open_journal(find_journal(run_dir)) as journal:  # events.jsonl.gz once written
        lines = journal.read().splitlines()
    assert lines and len(lines) == len(set(lines)), "a journal line was written twice"
    assert not any(p.name.endswith(".tmp") for p in run_dir.iterdir())
    return result


def statuses(result: dict[str, Any]) -> dict[str, str]:
    return {p["name"]: p["status"] for p in result["phases"]}


# -- a single run -------------------------------------------------------------------------------


@pytest.mark.parametrize("phase", [  # report (polars inside) by default, every phase with -m slow
    pytest.param(p, marks=[] if p == "report" else [pytest.mark.slow]) for p in STANDARD])
def test_a_sigint_burst_in_any_phase_ends_the_run_cleanly(tmp_path, phase):
    proc = start(tmp_path, f"phases.{phase}.callable=signal_phases:held",
                 f"++phases.{phase}.params.phase={phase}")
    wait_for(marker(tmp_path, f"outputs/runs/*/*/{phase}.holding"), proc)
    burst(proc.pid)
    code, out, err = finish(proc)
    assert code == 130, err
    assert_clean(out, err)
    (run_dir,) = run_dirs(tmp_path)
    result = assert_complete(run_dir, "SIGINT")
    status = statuses(result)
    position = STANDARD.index(phase)
    assert all(status[p] == "succeeded" for p in STANDARD[:position + 1]), status
    assert status["cleanup"] == status["report"] == "succeeded", "always phases still ran"
    skipped = [p for p in STANDARD[position + 1:] if p not in ALWAYS] + ["load"]
    reasons = {p["name"]: p["reason"] for p in result["phases"]}
    assert all(status[p] == "skipped" for p in skipped), status
    assert all(reasons[p] in ("interrupted by SIGINT", "disabled") for p in skipped), reasons
    assert err.count("SIGINT received") <= 2, "one line, and one more for the repeats"


def test_a_double_ctrl_c_in_the_soak_load_phase_stops_it_early(tmp_path):
    proc = start(tmp_path, "experiment=soak")
    log = lambda: [p for p in tmp_path.glob("outputs/runs/*/*/run.log")  # noqa: E731
                   if "phase load: start" in p.read_text()]
    wait_for(log, proc)
    burst(proc.pid, count=2, gap_s=0.05, group=True)
    burst(proc.pid, count=20)
    code, out, err = finish(proc)
    assert code == 130, err
    assert_clean(out, err)
    (run_dir,) = run_dirs(tmp_path)
    result = assert_complete(run_dir, "SIGINT")
    load = next(p for p in result["phases"] if p["name"] == "load")
    assert load["status"] == "succeeded" and load["summary"]["stopped_early"] is True
    assert load["summary"]["calls"] < 100_000
    assert statuses(result)["cleanup"] == statuses(result)["report"] == "succeeded"


@pytest.mark.slow
def test_signals_inside_polars_calls_do_not_raise_there(tmp_path):
    """polars hooks SIGINT on import and turns it into KeyboardInterrupt inside its calls, in
    any thread; the runner takes the handler back, so the phase finishes its queries."""
    proc = start(tmp_path, "phases.strategy.callable=signal_phases:polars_busy",
                 "++phases.strategy.params.seconds=2")
    wait_for(marker(tmp_path, "outputs/runs/*/*/busy"), proc)
    burst(proc.pid, count=40)
    code, out, err = finish(proc)
    assert code == 130, err
    assert_clean(out, err)
    result = assert_complete(run_dirs(tmp_path)[0], "SIGINT")
    strategy = next(p for p in result["phases"] if p["name"] == "strategy")
    assert (strategy["status"], strategy["error"]) == ("succeeded", None)
    assert statuses(result)["execution"] == "skipped"


@pytest.mark.slow
@pytest.mark.parametrize("after", ["now", "metrics"])
def test_sigterm_just_after_the_last_phase_still_gives_an_interrupted_result(tmp_path, after):
    """`now`: as the last phase returns; `metrics`: once metrics.parquet is written, i.e. after
    the executor returned and before result.json exists (no handler was left there before)."""
    proc = start(tmp_path, "+phases.tail.callable=signal_phases:signal_when",
                 "+phases.tail.always=true", f"+phases.tail.params.after={after}",
                 "+phases.tail.params.events=200000")
    code, out, err = finish(proc)
    assert code == 143, err
    assert_clean(out, err)
    (run_dir,) = run_dirs(tmp_path)
    result = assert_complete(run_dir, "SIGTERM")
    assert set(statuses(result).values()) == {"succeeded", "skipped"}
    assert statuses(result)["tail"] == statuses(result)["report"] == "succeeded"
    assert err.count("SIGTERM received") == 1


def handlers_installed(pid: int) -> bool:
    """The process catches SIGTERM (Python itself never does): runner/shared/signals.py is in
    place."""
    status = Path(f"/proc/{pid}/status").read_text()
    caught = int(next(line for line in status.splitlines() if line.startswith("SigCgt:"))
                 .split()[1], 16)
    return bool(caught >> (signal.SIGTERM - 1) & 1)


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads /proc")
@pytest.mark.parametrize(("sig", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_signal_before_the_run_starts_exits_with_one_line_and_no_folder(tmp_path, sig, code):
    proc = start(tmp_path)
    wait_for(lambda: handlers_installed(proc.pid), proc, timeout=10)
    os.kill(proc.pid, sig)  # Hydra is still importing or composing
    exit_code, out, err = finish(proc)
    assert exit_code == code
    assert err == f"{sig.name} received: exiting: no run is in progress and none will start\n"
    assert out == ""
    assert run_dirs(tmp_path) == []


# -- sweeps -------------------------------------------------------------------------------------


def sweep_report(cwd: Path) -> tuple[Path, list[dict[str, Any]]]:
    (root,) = (cwd / "outputs" / "sweeps").glob("*/*")
    return root, json.loads((root / "sweep_report.json").read_text())["jobs"]


HOLD = ["phases.strategy.callable=signal_phases:hold"]


@pytest.mark.slow
def test_ctrl_c_in_a_basic_sweep_starts_no_further_job_and_reports_every_job(tmp_path):
    proc = start(tmp_path, "-m", "seed=1,2,3", *HOLD, "++phases.strategy.params.seeds=[1]")
    wait_for(marker(tmp_path, "outputs/sweeps/*/*/0/holding"), proc)
    burst(proc.pid, count=2, gap_s=0.05, group=True)  # a double Ctrl-C
    code, out, err = finish(proc)
    assert code == 130, err
    assert_clean(out, err)
    root, jobs = sweep_report(tmp_path)
    assert [(j["job"], j["status"], j["exit_code"]) for j in jobs] == [
        (0, "interrupted", 130), (1, NOT_STARTED.format("SIGINT"), 130),
        (2, NOT_STARTED.format("SIGINT"), 130)]
    assert_complete(root / "0", "SIGINT")
    for job in ("1", "2"):
        assert {p.name for p in (root / job).iterdir()} == {".hydra", "interrupted.txt"}


def holding(cwd: Path, jobs: int) -> list[Path] | None:
    """The markers of the sweep's holding jobs, once there are `jobs` of them (job order)."""
    found = sorted(cwd.glob("outputs/sweeps/*/*/*/holding"))
    return found if len(found) == jobs else None


JOBLIB = ["-m", "hydra/launcher=joblib", "hydra.launcher.n_jobs=2", "seed=1,2,3,4", *HOLD,
          "++phases.strategy.params.seeds=[1,2]"]


def session_processes(pid: int) -> list[int]:
    """Processes (zombies aside) still in the session the CLI started."""
    import psutil

    alive = []
    for process in psutil.process_iter(["pid", "status"]):
        try:
            if os.getsid(process.pid) == pid and process.info["status"] != psutil.STATUS_ZOMBIE:
                alive.append(process.pid)
        except (ProcessLookupError, PermissionError):
            continue
    return alive


@pytest.mark.slow
@pytest.mark.parametrize(("sig", "group"), [(signal.SIGINT, True), (signal.SIGTERM, False)],
                         ids=["ctrl-c-to-the-group", "sigterm-to-the-launcher-only"])
def test_a_signal_stops_a_whole_joblib_sweep_and_its_workers(tmp_path, sig, group):
    proc = start(tmp_path, *JOBLIB)
    wait_for(lambda: holding(tmp_path, 2), proc)
    burst(proc.pid, sig, count=2, gap_s=0.05, group=group)
    code, out, err = finish(proc)
    assert code == (130 if sig == signal.SIGINT else 143), err
    assert_clean(out, err)
    root, jobs = sweep_report(tmp_path)
    assert [(j["job"], j["status"]) for j in jobs] == [
        (0, "interrupted"), (1, "interrupted"), (2, NOT_STARTED.format(sig.name)),
        (3, NOT_STARTED.format(sig.name))]
    for job in ("0", "1"):
        assert_complete(root / job, sig.name)
    deadline = time.monotonic() + 10
    while session_processes(proc.pid):
        assert time.monotonic() < deadline, "joblib workers outlived the sweep"
        time.sleep(0.1)


@pytest.mark.slow
def test_a_killed_joblib_worker_costs_only_the_jobs_it_took_down(tmp_path):
    proc = start(tmp_path, *JOBLIB)
    held = wait_for(lambda: holding(tmp_path, 2), proc)
    os.kill(int(held[0].read_text()), signal.SIGKILL)  # job 0's worker; job 1 runs beside it
    code, out, err = finish(proc)
    assert code == 1, err
    assert_clean(out, err)
    assert "error: a joblib worker died" in err
    _, jobs = sweep_report(tmp_path)
    assert [(j["job"], j["status"], j["exit_code"]) for j in jobs] == [
        (0, "no result (crashed or killed)", None), (1, "no result (crashed or killed)", None),
        (2, "succeeded", 0), (3, "succeeded", 0)]


# -- the module itself, and `python -m slo` -----------------------------------------------------

BURST_IN_POLARS = """
import os, signal, threading, time
from runner.shared import signals
signals.install()
signals.reclaim_from("polars")
import polars as pl
errors = []
def work():
    frame = pl.DataFrame({"a": range(300_000)}).lazy()
    try:
        while not signals.STOP.wait(0):
            frame.with_columns((pl.col("a") * 7 % 5).alias("b")).sort("b").collect()
        for _ in range(20):
            frame.sort("a", descending=True).collect()
    except BaseException as exc:
        errors.append(repr(exc))
worker = threading.Thread(target=work)
worker.start()
for _ in range(50):
    os.kill(os.getpid(), signal.SIGINT)
    time.sleep(0.002)
worker.join(30)
print(errors, signals.name(), signals.STOP.is_set(), signals.finish(0))
"""


def test_a_burst_never_raises_not_even_inside_polars_in_another_thread():
    done = subprocess.run([sys.executable, "-c", BURST_IN_POLARS], env=cli_env(),
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "[] SIGINT True 130\n"
    assert done.stderr.splitlines() == [
        "SIGINT received: exiting: no run is in progress and none will start",
        "SIGINT received again: already stopping, the run still ends cleanly "
        "(kill -9 would lose result.json)"]


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads /proc")
@pytest.mark.parametrize(("sig", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_slo_stops_before_writing_anything(tmp_path, sig, code):
    proc = subprocess.Popen([sys.executable, "-m", "slo", "roots=[]"], cwd=tmp_path,
                            env=cli_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, start_new_session=True)
    wait_for(lambda: handlers_installed(proc.pid), proc, timeout=10)
    os.kill(proc.pid, sig)
    exit_code, out, err = finish(proc)
    assert exit_code == code
    assert err == f"{sig.name} received: stopping: no report is written\n"
    assert out == ""
    assert not (tmp_path / "outputs").exists()
