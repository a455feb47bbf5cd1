"""Shared fixtures: Hydra's compose API on the installed runner.conf, and the CLI as a
subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
CONF = ROOT / "conf"
TESTS = Path(__file__).resolve().parent
sys.path.insert(0, str(TESTS))  # fake_phases


# The configs as an installed wheel finds them: the package runner.conf (pyproject.toml maps it
# to conf/), not the source folder, so a config missing from the package fails the tests too.
CONFIG_MODULE = "runner.conf"
# Composed (unresolved) configs by overrides, for the whole session: a composition costs ~0.1 s
# and the suite asks for the same ones again and again.  Each call still resolves afresh (so
# ${oc.env:...} sees the test's environment) into new plain containers a test may change.
_COMPOSED: dict[tuple[str, ...], Any] = {}


@pytest.fixture
def compose() -> Callable[..., dict[str, Any]]:
    """Compose runner.conf with overrides and return the resolved config as plain data."""
    from hydra import compose as hydra_compose
    from hydra import initialize_config_module
    from omegaconf import OmegaConf

    def _compose(*overrides: str) -> dict[str, Any]:
        if overrides not in _COMPOSED:
            with initialize_config_module(config_module=CONFIG_MODULE, version_base="1.3"):
                _COMPOSED[overrides] = hydra_compose(config_name="config",
                                                     overrides=list(overrides))
        return OmegaConf.to_container(_COMPOSED[overrides], resolve=True)

    return _compose


def cli_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HYDRA_", "PYTEST_"))}
    env["PYTHONPATH"] = os.pathsep.join([str(TESTS), str(ROOT), env.get("PYTHONPATH", "")])
    env.update(extra)
    return env


def run_cli(*args: str, cwd: Path, timeout: float = 120, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "runner", *args], cwd=cwd, env=cli_env(**env),
                          capture_output=True, text=True, timeout=timeout)


def only_run_dir(cwd: Path) -> Path:
    runs = sorted(p for p in (cwd / "outputs" / "runs").glob("*/*") if p.is_dir())
    assert len(runs) == 1, runs
    return runs[0]


@pytest.fixture(scope="session")
def default_run(tmp_path_factory: pytest.TempPathFactory
                ) -> tuple[subprocess.CompletedProcess, Path]:
    """`python -m runner` with no arguments, run once for every test that reads it: the process
    and its run folder.  Shared: a test that changes the folder works on a copy."""
    cwd = tmp_path_factory.mktemp("default_run")
    done = run_cli(cwd=cwd)
    return done, only_run_dir(cwd)


class EventTuples:
    """An event sink for the instrumented wrapper: (kind, name, ok, error, attempt) per event."""

    def __init__(self) -> None:
        self.events: list[tuple] = []
        self.finals: list[bool | None] = []  # each event's `final`, in the same order

    def record(self, kind, name, ok, latency_ms=None, error=None, attempt=1, symbol=None,
               phase=None, final=None):
        self.events.append((kind, name, ok, error, attempt))
        self.finals.append(final)
