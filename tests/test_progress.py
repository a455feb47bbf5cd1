"""Progress of long steps (runner/shared/progress.py): the load phase's status lines and bar, the
load percentiles in the run's closing summary, the sweep's "validating sweep jobs" line and the
steps `python -m slo` names after reading.  Time is a fake clock: no test waits."""

from __future__ import annotations

import io
import itertools
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import CONFIG_MODULE, cli_env, only_run_dir, run_cli

from runner.context import RunContext
from runner.phases import connect, load
from runner.recorder import Recorder
from runner.shared import progress
from runner.shared.progress import Progress, Steps
from runner.summary import latency_table, print_summary


class FakeClock:
    """Each read moves time on by `step` seconds: simulated work, no waiting."""

    def __init__(self, step: float) -> None:
        self.now, self.step = 0.0, step

    def __call__(self) -> float:
        self.now += self.step
        return self.now


@pytest.fixture
def restore_loguru() -> Iterator[None]:
    yield
    from loguru import logger

    logger.remove()
    logger.add(sys.__stderr__)


@pytest.fixture
def ctx(compose: Any, tmp_path: Path) -> RunContext:
    config = compose()
    recorder = Recorder("20261124T101010Z-dev-abcdef", "dev", tmp_path)
    return RunContext(config=config, run_dir=tmp_path, run_id=recorder.run_id, recorder=recorder)


@pytest.fixture
def fake_clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    clock = FakeClock(0.004)  # 2,020 items of 4 ms: about 8 s of simulated load
    monkeypatch.setattr(progress, "CLOCK", clock)
    monkeypatch.setattr(progress, "use_bar", lambda stream=None: False)  # logs, CI: lines
    return clock


@pytest.fixture
def status_lines(fake_clock: FakeClock, restore_loguru: None) -> list[tuple[float, str]]:
    """(fake time, text) of every status line the console would show."""
    from loguru import logger

    seen: list[tuple[float, str]] = []
    logger.remove()
    logger.add(lambda m: seen.append((fake_clock.now, m.record["message"])),
               filter=lambda r: bool(r["extra"].get("status")), level="INFO")
    return seen


def test_the_load_phase_says_where_it_is_at_least_every_two_seconds(ctx, status_lines):
    connect.run(ctx)
    summary = load.run(ctx, calls=2000, orders=20)
    seen = status_lines
    assert summary["calls"] == 2000 and summary["errors"] == 0
    times = [0.0] + [t for t, _ in seen]
    assert max(b - a for a, b in itertools.pairwise(times)) <= 2.0, seen
    periodic, (_, last) = seen[:-1], seen[-1]
    assert len(periodic) >= 4, seen
    for _, text in periodic:
        assert re.fullmatch(r"load: [\d,]+/2,020 \(\d+%\), [\d,.]+ calls/s, [\d.]+ s elapsed, "
                            r"0 errors", text), text
    assert re.fullmatch(r"load: 2,020/2,020 done in [\d.]+ s \([\d,.]+ calls/s\), 0 errors",
                        last), last


def test_a_stopped_load_says_so_and_an_error_ends_without_a_last_line(fake_clock):
    lines: list[str] = []
    with Progress("load", 10, unit="calls", emit=lambda t, console=True: lines.append(t)) as p:
        p.update(3)
    assert re.fullmatch(r"load: 3/10 stopped in [\d.]+ s \([\d.]+ calls/s\)", lines[-1])
    lines.clear()
    with pytest.raises(RuntimeError), Progress("x", 10, emit=lambda t, **_: lines.append(t)):
        raise RuntimeError("the error is the last word")
    assert lines == []


def test_on_a_terminal_a_bar_and_the_periodic_lines_go_to_run_log_only(fake_clock):
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    screen = Terminal()
    lines: list[tuple[str, bool]] = []
    with Progress("load", 1000, unit="calls", stream=screen, bar=True,
                  emit=lambda t, console=True: lines.append((t, console))) as p:
        for _ in range(1000):
            p.update()
    assert "load:" in screen.getvalue() and "%|" in screen.getvalue()
    assert lines[:-1] and all(not console for _, console in lines[:-1])  # run.log only
    assert lines[-1][1] and lines[-1][0].startswith("load: 1,000/1,000 done in ")


def test_steps_are_named_only_when_the_console_was_quiet_long_enough():
    now = [0.0]
    shown: list[str] = []
    steps = Steps(quiet_s=1.0, every_s=1.5, clock=lambda: now[0], emit=shown.append, watch=False)
    for label in ("a", "b", "c"):  # three fast steps: nothing
        steps(label)
        now[0] += 0.3
    assert steps.poll() is None and shown == []
    now[0] = 1.0  # quiet for 1 s since the first step: the one under way is named
    assert steps.poll() == "c…"
    now[0] = 2.0
    assert steps.poll() is None
    now[0] = 2.6
    assert steps.poll() == "c… (2.0 s)"
    steps("d")
    assert steps.poll() is None  # just named something
    now[0] = 3.6
    assert steps.poll() == "d…"
    steps.close()
    now[0] = 10.0
    assert steps.poll() is None and shown == ["c…", "c… (2.0 s)", "d…"]


def test_the_load_percentiles_are_in_the_console_summary(ctx, capsys, status_lines):
    connect.run(ctx)
    summary = load.run(ctx, calls=300, orders=10)
    result = {"run_id": "r", "status": "succeeded", "exit_code": 0, "duration_s": 1.0,
              "events": {"total": 1, "by_kind": {"phase": 1}}, "slo": None,
              "phases": [{"name": "load", "status": "succeeded", "attempts": 1,
                          "duration_s": 1.0, "error": None, "summary": summary}]}
    print_summary(result, ctx.run_dir)
    out = capsys.readouterr().out.splitlines()
    at = out.index(next(line for line in out if line.startswith("load latency")))
    assert out[at].split() == ["load", "latency", "calls", "p50", "p95", "p99", "max"]
    ticker = out[at + 2].split()
    assert ticker[:2] == ["fetch_ticker", "300"] and ticker[3] == "ms"
    p = summary["fetch_ticker"]
    assert ticker[2::2] == [f"{p[k]:,.1f}" for k in ("p50_ms", "p95_ms", "p99_ms", "max_ms")]
    assert out[at + 3].split()[:2] == ["create_order", "10"]
    assert out[at + 4] == "load: 310 calls, 0 errors"


def test_the_latency_table_only_for_a_phase_that_measured_latencies():
    assert latency_table("connect", {"markets": 2}) is None
    assert latency_table("load", None) is None
    text = latency_table("soak", {"calls": 5, "orders": 0, "errors": 1, "stopped_early": True,
                                  "fetch_ticker": {"p50_ms": 1.0, "p95_ms": 2.0, "p99_ms": 3.0,
                                                   "max_ms": 4.25},
                                  "create_order": {"p50_ms": None, "p95_ms": None,
                                                   "p99_ms": None, "max_ms": None}})
    assert text is not None
    assert text.splitlines()[2].split() == ["fetch_ticker", "5", "1.0", "ms", "2.0", "ms",
                                            "3.0", "ms", "4.2", "ms"]
    assert text.splitlines()[3].split() == ["create_order", "0", "-", "-", "-", "-"]
    assert text.splitlines()[-1] == "soak: 5 calls, 1 error (stopped early)"


def test_slo_names_its_steps_after_reading(tmp_path, monkeypatch, capsys, restore_loguru):
    """`python -m slo` as its CLI runs it (slo.nightly.main), every step slower than the quiet
    threshold (set to 0 here); the HTML charts are left out (matplotlib: seconds), the slow
    test below draws them."""
    from hydra import compose, initialize_config_module

    import slo.report
    from slo.nightly import main

    monkeypatch.setattr(progress, "QUIET_S", 0.0)
    monkeypatch.setattr(slo.report, "render_report",
                        lambda report, base, html: {base.with_suffix(".json"): "{}\n"})
    monkeypatch.chdir(tmp_path)
    with initialize_config_module(config_module=CONFIG_MODULE, version_base="1.3"):
        cfg = compose(config_name="nightly", overrides=["roots=[]", "as_of=2026-11-24T02:00:00Z"])
    assert main(cfg) == 0
    err = capsys.readouterr().err
    named = [line.split(" | ", 2)[2] for line in err.splitlines() if line.endswith("…")]
    assert named == ["computing error budgets…", "counting retries…", "checking the events…",
                     "naming the contributors…", "listing the runs and the go-live readiness…",
                     "rendering the report (JSON, Markdown, HTML with charts)…",
                     "writing the report to outputs/reports/nightly…"], err


@pytest.mark.slow
def test_python_m_slo_names_its_steps_after_reading(tmp_path):
    code = ("import runner.shared.progress as p; p.QUIET_S = 0.0\n"
            "from slo.__main__ import main; main()")
    done = subprocess.run([sys.executable, "-c", code, "roots=[]"], cwd=tmp_path, env=cli_env(),
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    for step in ("computing error budgets…", "rendering the report (JSON, Markdown, HTML with "
                 "charts)…", "writing the report to outputs/reports/nightly…"):
        assert f"| INFO    | {step}\n" in done.stderr, done.stderr
    assert "run folder(s) read; report:" in done.stdout


@pytest.mark.slow
def test_a_soak_run_shows_its_progress_and_its_percentiles(tmp_path):
    done = run_cli("experiment=soak", "env=ci", "phases.load.params.calls=3000",
                   "phases.load.params.orders=100", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    # env=ci's WARNING level hides INFO lines, not the load's status
    assert re.search(r"\| INFO    \| load: 3,100/3,100 done in [\d.]+ s \([\d,.]+ calls/s\), "
                     r"0 errors\n", done.stderr), done.stderr
    assert "phase load: start" not in done.stderr
    out = done.stdout.splitlines()
    at = out.index(next(line for line in out if line.startswith("load latency")))
    assert out[at + 2].split()[:2] == ["fetch_ticker", "3,000"]
    assert out[at + 3].split()[:2] == ["create_order", "100"]
    assert out[at + 4] == "load: 3,100 calls, 0 errors"
    assert (only_run_dir(tmp_path) / "run.log").read_text(encoding="utf-8").count(
        "load: 3,100/3,100 done in ") == 1


@pytest.mark.slow
def test_a_sweep_says_it_validates_its_jobs_before_launching(tmp_path):
    done = run_cli("-m", "seed=1,2,3", "phases=smoke", "env=ci", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    lines = done.stderr.splitlines()
    [validated] = [i for i, line in enumerate(lines) if "validating sweep jobs" in line]
    assert re.search(r"\| INFO    \| validating sweep jobs: 3/3 done in [\d.]+ s "
                     r"\([\d.,]+ jobs/s\)$", lines[validated]), lines[validated]
    launching = next(i for i, line in enumerate(lines) if "Launching 3 jobs" in line)
    assert validated < launching


def test_the_nightly_says_how_far_its_reading_got_in_logs(status_lines):
    """Reading many run folders without a terminal: a status line at least every 2 s of the
    (fake) clock, then one final line; `progress=false` says nothing, few folders neither."""
    from types import SimpleNamespace

    from slo.nightly import _progress_bar

    advance = _progress_bar(SimpleNamespace(progress="auto"), 2_020)
    for done in range(1, 2_021):
        advance(done, 2_020)
    times = [t for t, text in status_lines if text.startswith("reading run folders")]
    gaps = [b - a for a, b in zip([0.0, *times], times, strict=False)]
    assert len(times) >= 4 and max(gaps) <= 2.0
    assert status_lines[-1][1].startswith("reading run folders: 2,020/2,020 done in")
    assert _progress_bar(SimpleNamespace(progress="false"), 2_020) is None
    assert _progress_bar(SimpleNamespace(progress="auto"), 10) is None
