"""How CI and operators run it: CI configs, the matrix command, parallel sweeps, releases."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date

import pytest
from conftest import ROOT, cli_env, run_cli

from runner import __version__
from runner.release import ReleaseError, main, prepare_changelog, section, set_version


def test_matrix_command_prints_the_ci_configs_matrix_as_json():
    done = subprocess.run([sys.executable, "-m", "runner.ci_matrix", "pr"], env=cli_env(),
                          capture_output=True, text=True, check=True)
    assert json.loads(done.stdout) == {"os": ["ubuntu-latest", "windows-latest"],
                                       "python-version": ["3.10", "3.11", "3.12"]}
    bad = subprocess.run([sys.executable, "-m", "runner.ci_matrix", "nope"], env=cli_env(),
                         capture_output=True, text=True)
    assert bad.returncode == 2
    assert bad.stderr == "error: ci: unknown CI config 'nope'; allowed: nightly, pr\n"


@pytest.mark.slow
def test_ci_pr_runs_the_whole_sweep_locally(tmp_path):
    done = run_cli("+ci=pr", cwd=tmp_path, timeout=300)
    assert done.returncode == 0, done.stderr
    (sweep,) = (tmp_path / "outputs" / "sweeps").glob("*/*")
    report = json.loads((sweep / "sweep_report.json").read_text())
    assert report["override_keys"] == ["adapter.faults.error_rate", "ci", "phases"]
    assert len(report["jobs"]) == 4
    assert {j["status"] for j in report["jobs"]} == {"succeeded"}
    assert all(json.loads((sweep / str(j["job"]) / "result.json").read_text())["env"] == "ci"
               for j in report["jobs"])


@pytest.mark.slow
def test_joblib_launcher_runs_jobs_in_parallel_and_keeps_exit_codes(tmp_path):
    done = run_cli("-m", "hydra/launcher=joblib", "hydra.launcher.n_jobs=2",
                   'phases.strategy.callable="fake_phases:fail",strategy', cwd=tmp_path,
                   timeout=300)
    assert done.returncode == 1, done.stderr  # the failing job's code reaches the command
    (sweep,) = (tmp_path / "outputs" / "sweeps").glob("*/*")
    report = json.loads((sweep / "sweep_report.json").read_text())
    assert sorted(j["status"] for j in report["jobs"]) == ["failed", "succeeded"]


def test_launcher_presets_name_their_plugins():
    ray = (ROOT / "conf/hydra/launcher/ray_cluster.yaml").read_text()
    slurm = (ROOT / "conf/hydra/launcher/slurm.yaml").read_text()
    assert "  - ray\n" in ray and "  - submitit_slurm\n" in slurm
    extras = (ROOT / "pyproject.toml").read_text()
    assert 'ray = ["hydra-ray-launcher' in extras and 'slurm = ["hydra-submitit-launcher' in extras


def test_version_flag():
    done = subprocess.run([sys.executable, "-m", "runner", "--version"], env=cli_env(),
                          capture_output=True, text=True, check=True)
    assert done.stdout == f"pre-execution-runner {__version__}\n"


CHANGELOG = """# Changelog

## [Unreleased]

### Added
- a thing

## [0.1.0] - 2026-01-01

### Added
- the first thing
"""


def test_release_moves_unreleased_under_the_new_version():
    moved = prepare_changelog(CHANGELOG, "0.2.0", date(2026, 11, 24))
    assert "## [Unreleased]\n\n## [0.2.0] - 2026-11-24\n\n### Added\n- a thing" in moved
    assert section(moved, "0.2.0") == "### Added\n- a thing"
    assert section(moved, "0.1.0") == "### Added\n- the first thing"
    assert section(moved, "Unreleased") == ""


@pytest.mark.parametrize(("version", "changelog", "message"), [
    ("2.0", CHANGELOG, "version '2.0' is not allowed"),
    ("0.1.0", CHANGELOG, "already has a section for 0.1.0"),
    ("0.2.0", CHANGELOG.replace("### Added\n- a thing\n", ""), "[Unreleased] is empty"),
])
def test_release_refuses_what_it_cannot_release(version, changelog, message):
    with pytest.raises(ReleaseError, match=message.replace("[", r"\[").replace("]", r"\]")):
        prepare_changelog(changelog, version, date(2026, 11, 24))


def test_release_prepare_and_notes_on_a_copy(tmp_path, capsys):
    (tmp_path / "runner").mkdir()
    (tmp_path / "CHANGELOG.md").write_text(CHANGELOG)
    (tmp_path / "runner" / "__init__.py").write_text('"""x"""\n\n__version__ = "0.1.0"\n')
    assert main(["prepare", "0.2.0", "--root", str(tmp_path), "--no-git"]) == 0
    assert '__version__ = "0.2.0"' in (tmp_path / "runner" / "__init__.py").read_text()
    said = capsys.readouterr().out
    assert "[Unreleased] moved to [0.2.0]" in said and '__version__ = "0.2.0"' in said
    assert "not committed or tagged (--no-git)" in said
    assert main(["notes", "0.2.0", "--root", str(tmp_path)]) == 0
    assert capsys.readouterr().out == "### Added\n- a thing\n"
    assert main(["notes", "9.9.9", "--root", str(tmp_path)]) == 1
    assert "has no section '## [9.9.9]': 9.9.9 is not released yet" in capsys.readouterr().err
    assert set_version('__version__ = "1.0.0"\n', "1.0.1") == '__version__ = "1.0.1"\n'
