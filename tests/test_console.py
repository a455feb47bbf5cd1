"""The console a newcomer meets first: both commands' --help pages, `python -m slo --version`,
the install hint for a missing launcher plugin, and interval() without a sweeper for it."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import cli_env, run_cli

from runner import __version__
from runner.shared.hydra_errors import launcher_hint, one_line


def run_slo(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "slo", *args], cwd=cwd, env=cli_env(),
                          capture_output=True, text=True, timeout=120)


def test_runner_help_lists_commands_groups_and_exit_codes_not_the_config(tmp_path):
    done = run_cli("--help", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    for shown in ("python -m runner plan_only=true", "hydra/launcher=joblib", "--cfg job",
                  "env: ci, dev, live, local, testnet", "== Exit codes ==", "docs/"):
        assert shown in done.stdout, shown
    assert "== Config ==" not in done.stdout and "dry_run: true" not in done.stdout
    assert "powered by Hydra" not in done.stdout
    assert len(done.stdout.splitlines()) < 60
    assert not (tmp_path / "outputs").exists()


def test_slo_help_lists_its_own_settings_not_the_runners_groups(tmp_path):
    done = run_slo("--help", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    for setting in ("roots=", "out_dir=", "run_dir=", "as_of=", "window=", "slo=",
                    "fail_on_breach=", "export_openslo=", "log_level=", "== Exit codes =="):
        assert setting in done.stdout, setting
    assert "adapter:" not in done.stdout and "strategy:" not in done.stdout
    assert "powered by Hydra" not in done.stdout


def test_slo_version_is_the_projects(tmp_path):
    done = run_slo("--version", cwd=tmp_path)
    assert (done.returncode, done.stdout) == (0, f"pre-execution-runner {__version__}\n")


def test_a_missing_launcher_plugin_names_its_extra():
    found = one_line("In 'hydra/config': Could not find 'hydra/launcher/joblib'\n\n"
                     "Available options in 'hydra/launcher':\n\tbasic\n\tslurm\n")
    assert launcher_hint(found).endswith('fix: pip install -e ".[joblib]" (the launcher plugin '
                                         'is not installed)')
    assert launcher_hint("error: unknown key") == "error: unknown key"


@pytest.mark.skipif(importlib.util.find_spec("hydra_plugins.hydra_submitit_launcher") is not None,
                    reason="hydra-submitit-launcher is installed")
def test_slurm_without_its_plugin_is_one_line_with_the_fix(tmp_path):
    done = run_cli("-m", "hydra/launcher=slurm", cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        "error: In 'hydra/launcher/slurm': Could not load 'hydra/launcher/submitit_slurm'; "
        'fix: pip install -e ".[slurm]" (the launcher plugin is not installed)']


def test_interval_with_the_basic_sweeper_is_one_line_and_exit_2(tmp_path):
    done = run_cli("-m", "adapter.faults.error_rate=interval(0,0.1)", cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    [line] = done.stderr.splitlines()
    assert line.startswith("error: adapter.faults.error_rate=interval(0,0.1): interval() needs")
    assert "range(start,stop,step)" in line and "optuna" in line
    assert "sweep report" not in done.stdout and not (tmp_path / "outputs").exists()
