"""Sweep jobs' console lines carry the job's number (`[#3] `), and the launcher's per-job lines
(`#N : overrides`) stay on whatever `log_level` says (env=ci: WARNING); runner/shared/logs.py."""

from __future__ import annotations

import importlib.util
import logging
import re
import sys
from collections.abc import Iterator

import pytest
from conftest import run_cli

from runner.shared import logs

LOG_LINE = re.compile(r"^\d\d:\d\d:\d\d\.\d{3} \| (\w+) +\| (.*)$")


@pytest.fixture
def console(capsys: pytest.CaptureFixture[str]) -> Iterator[None]:
    yield
    from loguru import logger

    logs.set_job(None)
    logger.remove()
    logger.add(sys.__stderr__)


def messages(err: str) -> list[str]:
    return [m[2] for m in map(LOG_LINE.match, err.splitlines()) if m]


def test_a_jobs_lines_carry_its_number_and_the_launchers_lines_pass_any_level(capsys, console):
    from loguru import logger

    logs.set_job(3)
    logs.configure_console("WARNING")
    logger.info("hidden at WARNING")
    logger.warning("a warning")
    logger.bind(status=True).info("load: 5/10 (50%)")  # runner/shared/progress.py
    handler = logs.InterceptHandler()
    launcher = logging.getLogger("hydra._internal.core_plugins.basic_launcher")
    handler.emit(launcher.makeRecord(launcher.name, logging.INFO, __file__, 1, "\t#4 : seed=2",
                                     None, None))
    other = logging.getLogger("somebody.else")
    handler.emit(other.makeRecord(other.name, logging.INFO, __file__, 1, "quiet", None, None))
    logs.set_job(None)
    logger.warning("between jobs")
    assert messages(capsys.readouterr().err) == [
        "[#3] a warning", "[#3] load: 5/10 (50%)", "\t#4 : seed=2", "between jobs"]


def test_no_prefix_outside_a_sweep_and_debug_status_lines_stay_out(capsys, console):
    from loguru import logger

    logs.configure_console("INFO")
    logger.info("plain")
    logger.bind(status=True).debug("not a status line the console shows")
    assert messages(capsys.readouterr().err) == ["plain"]
    assert logs.job_prefix() == "" and not logs.parallel_jobs()
    logs.set_job(0, parallel=True)
    assert logs.job_prefix() == "[#0] " and logs.parallel_jobs()


def job_of_each_line(err: str) -> list[tuple[str | None, str]]:
    """(job number of the `[#N] ` prefix or None, message) of every log line."""
    found = []
    for message in messages(err):
        prefix = re.match(r"\[#(\d+)\] ", message)
        found.append((prefix[1] if prefix else None, message))
    return found


@pytest.mark.slow
def test_each_jobs_lines_in_a_sweep_carry_its_number(tmp_path):
    done = run_cli("-m", "seed=1,2", "phases=smoke", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    current = None
    jobs_seen = set()
    for job, message in job_of_each_line(done.stderr):
        launched = re.fullmatch(r"\t#(\d+) : .*", message)
        if launched:
            current = launched[1]
        elif job is not None:
            assert job == current, (job, message)
            jobs_seen.add(job)
        else:  # the launching process's own lines: before the jobs and between them
            assert message.startswith(("validating sweep jobs", "Launching 2 jobs")), message
    assert jobs_seen == {"0", "1"}
    for job in ("0", "1"):
        assert re.search(rf"\| INFO    \| \[#{job}\] run \S+: env=dev .* -> \S+/{job}\n",
                         done.stderr)


@pytest.mark.slow
@pytest.mark.skipif(importlib.util.find_spec("hydra_plugins.hydra_joblib_launcher") is None,
                    reason="hydra-joblib-launcher is not installed")
def test_parallel_jobs_lines_carry_their_own_numbers(tmp_path):
    done = run_cli("-m", "hydra/launcher=joblib", "hydra.launcher.n_jobs=2", "seed=1,2",
                   "phases=smoke", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    lines = job_of_each_line(done.stderr)
    for job in ("0", "1"):
        mine = [m for j, m in lines if j == job]
        assert any(re.fullmatch(rf"\[#{job}\] run \S+: .* -> \S+/{job}", m) for m in mine), mine
        assert any(m == f"[#{job}] phase preflight: start" for m in mine), mine
    unmarked = [m for j, m in lines if j is None]
    assert "\t#0 : seed=1 phases=smoke" in unmarked and "\t#1 : seed=2 phases=smoke" in unmarked
    assert all(not m.startswith("phase ") and not m.startswith("run ") for m in unmarked)


@pytest.mark.slow
def test_env_ci_keeps_the_launchers_per_job_lines(tmp_path):
    done = run_cli("-m", "seed=1,2,3", "phases=smoke", "env=ci", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    shown = messages(done.stderr)
    for num, seed in enumerate((1, 2, 3)):
        assert f"\t#{num} : seed={seed} phases=smoke env=ci" in shown, done.stderr
    assert "Launching 3 jobs locally" in shown
    assert not any("phase preflight: start" in m for m in shown)  # INFO stays hidden at WARNING
