"""What a start imports: no heavy library for `plan_only`, nothing unused for a run.

Start-up time is measured by benchmarks/bench_startup.py; this only guards the imports that made
the difference (each of polars, jsonschema, loguru, ccxt costs 20-350 ms).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import cli_env

HEAVY = ("polars", "loguru", "psutil", "jsonschema", "ccxt", "pandas", "matplotlib", "dotenv")


def imported(tmp_path: Path, *args: str) -> set[str]:
    """Every module `python -m runner <args>` has imported when it exits (sys.modules)."""
    listing = tmp_path / "modules.json"
    code = ("import atexit, json, runpy, sys\n"
            f"atexit.register(lambda: open({str(listing)!r}, 'w').write(json.dumps(list("
            "sys.modules))))\n"
            f"sys.argv = ['runner', *{list(args)!r}]\n"
            "runpy.run_module('runner', run_name='__main__', alter_sys=True)\n")
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=cli_env(),
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    return set(json.loads(listing.read_text(encoding="utf-8")))


def top_level(modules: set[str], names: tuple[str, ...]) -> list[str]:
    return sorted(name for name in names if name in {m.split(".")[0] for m in modules})


def test_plan_only_imports_no_heavy_library_and_nothing_that_runs_phases(tmp_path):
    modules = imported(tmp_path, "plan_only=true")
    assert "runner.plan" in modules  # the measurement works
    assert top_level(modules, HEAVY) == []
    assert {"runner.context", "runner.recorder", "runner.executor", "runner.live_guard",
            "adapters.instrumented"} & modules == set()
    # the paper adapter's settings are checked without the simulator's engine (~20 ms)
    assert "adapters.sim.settings" in modules
    engine = {"adapters.sim.engine", "adapters.sim.market", "adapters.sim.matching"}
    assert engine & modules == set()


@pytest.mark.parametrize("args", [(), pytest.param(("env=ci",), marks=pytest.mark.slow)])
def test_a_default_run_imports_neither_ccxt_nor_jsonschema(tmp_path, args):
    modules = imported(tmp_path, *args)
    assert "polars" in modules and "runner.executor" in modules  # it did run
    assert top_level(modules, ("ccxt", "jsonschema", "pandas", "matplotlib")) == []

