"""The GitHub workflows (.github/workflows/), checked offline: valid against GitHub's workflow
schema (check-jsonschema's vendored copy), wired the way docs/OPERATIONS.md says, and their
bash steps doing the right thing when run here with fake `python` / `gh` commands.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import ROOT, cli_env

from runner import __version__

WORKFLOWS = ROOT / ".github" / "workflows"
NAMES = ("ci.yml", "nightly.yml", "release.yml")
NIGHTLY_TITLE = "Nightly rehearsal: error budget breached or run failed"
SECRET_REF = re.compile(r"\$\{\{[^}]*\b(secrets\.|github\.token)")

# The behavioural checks run the steps' scripts as GitHub does on Linux: bash -eo pipefail.
needs_bash = pytest.mark.skipif(os.name == "nt" or shutil.which("bash") is None,
                                reason="runs workflow scripts with POSIX bash")


def load(name: str) -> dict[str, Any]:
    text = (WORKFLOWS / name).read_text(encoding="utf-8")
    workflow = yaml.safe_load(text)
    if True in workflow:  # YAML 1.1 reads the key `on` as a boolean
        workflow["on"] = workflow.pop(True)
    return workflow


def steps(workflow: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    return [(job_id, step) for job_id, job in workflow["jobs"].items() for step in job["steps"]]


def step(job: dict[str, Any], key: str) -> dict[str, Any]:
    found = [s for s in job["steps"] if key in (s.get("id"), s.get("name"))]
    assert len(found) == 1, f"expected one step with id or name {key!r}, found {len(found)}"
    return found[0]


def run_shell(workflow: dict[str, Any], job_id: str, a_step: dict[str, Any]) -> str:
    job = workflow["jobs"][job_id]
    return (a_step.get("shell") or job.get("defaults", {}).get("run", {}).get("shell")
            or workflow.get("defaults", {}).get("run", {}).get("shell") or "")


def schema_check(*paths: Path) -> subprocess.CompletedProcess:
    """check-jsonschema with its vendored GitHub workflow schema: no network needed."""
    if importlib.util.find_spec("check_jsonschema") is None:
        pytest.fail('check-jsonschema is not installed; it validates the workflows offline. Add '
                    '"check-jsonschema>=0.28" to the dev extra in pyproject.toml and run '
                    'python -m pip install -e ".[dev]"', pytrace=False)
    return subprocess.run([sys.executable, "-m", "check_jsonschema", "--builtin-schema",
                           "vendor.github-workflows", *map(str, paths)],
                          capture_output=True, text=True, timeout=120)


def fake_bin(tmp_path: Path) -> Path:
    """`python` that exits $FAKE_PYTEST_EXIT for pytest and runs the real interpreter otherwise;
    `gh` that logs its arguments to $GH_LOG and prints $FAKE_GH_ISSUES for `gh issue list`."""
    folder = tmp_path / "bin"
    folder.mkdir()
    python = folder / "python"
    python.write_text('#!/bin/sh\ncase " $* " in\n  *" pytest"*) exit "${FAKE_PYTEST_EXIT:-0}" ;;\n'
                      f'esac\nexec "{sys.executable}" "$@"\n')
    gh = folder / "gh"
    gh.write_text('#!/bin/sh\nprintf \'%s\\n\' "$*" >> "$GH_LOG"\n'
                  'if [ "$1 $2" = "issue list" ]; then printf \'%s\' "$FAKE_GH_ISSUES"; fi\n')
    for tool in (python, gh):
        tool.chmod(0o755)
    return folder


def run_script(script: str, tmp_path: Path, cwd: Path = ROOT,
               **env: str) -> tuple[subprocess.CompletedProcess, dict[str, str]]:
    """Run a step's script like GitHub's `shell: bash`; returns the process and $GITHUB_OUTPUT."""
    bin_dir = tmp_path / "bin"
    if not bin_dir.exists():
        fake_bin(tmp_path)
    output = tmp_path / "github_output"
    output.write_text("")
    file = tmp_path / "step.sh"
    file.write_text(script)
    full_env = cli_env(PATH=f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
                       GITHUB_OUTPUT=str(output), GITHUB_STEP_SUMMARY=str(tmp_path / "summary"),
                       RUNNER_TEMP=str(tmp_path), GH_LOG=str(tmp_path / "gh.log"), **env)
    done = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", str(file)],
                          cwd=cwd, env=full_env, capture_output=True, text=True, timeout=120)
    outputs = dict(line.split("=", 1) for line in output.read_text().splitlines() if "=" in line)
    return done, outputs


# --- schema -------------------------------------------------------------------------------------

def test_workflows_are_valid_github_workflows():
    for name in NAMES:
        assert isinstance(load(name), dict)
    done = schema_check(*(WORKFLOWS / name for name in NAMES))
    assert done.returncode == 0, done.stdout + done.stderr


def test_schema_check_rejects_a_broken_workflow(tmp_path):
    broken = tmp_path / "broken.yml"
    broken.write_text("on: push\njobs:\n  build:\n    steps:\n      - run: echo hi\n"
                      "    permissions:\n      issues: maybe\n")
    done = schema_check(broken)
    assert done.returncode == 1, done.stdout
    assert "broken.yml" in done.stdout


# --- what each workflow promises ----------------------------------------------------------------

def test_every_run_step_uses_bash_so_one_script_serves_linux_and_windows():
    for name in NAMES:
        workflow = load(name)
        for job_id, a_step in steps(workflow):
            if "run" in a_step:
                assert run_shell(workflow, job_id, a_step) == "bash", (name, a_step.get("name"))


def test_ci_runs_lint_matrix_tests_and_the_pr_sweep():
    ci = load("ci.yml")
    assert {"push", "pull_request"} <= set(ci["on"])
    assert set(ci["jobs"]) == {"lint", "matrix", "test", "sweep"}
    assert ci["concurrency"]["cancel-in-progress"] is True
    assert any("ruff check" in s.get("run", "") for s in ci["jobs"]["lint"]["steps"])
    sweep = ci["jobs"]["sweep"]
    assert any(s.get("run") == "python -m runner +ci=pr" for s in sweep["steps"])
    (upload,) = [s for s in sweep["steps"] if s.get("uses", "").startswith("actions/upload-art")]
    assert upload["uses"] == "actions/upload-artifact@v4"
    assert upload["if"] == "always()" and upload["with"]["path"] == "outputs/"


def test_ci_test_job_takes_its_matrix_from_the_matrix_job():
    jobs = load("ci.yml")["jobs"]
    test, matrix = jobs["test"], jobs["matrix"]
    assert test["needs"] == "matrix"
    assert test["strategy"]["matrix"] == "${{ fromJSON(needs.matrix.outputs.matrix) }}"
    assert test["runs-on"] == "${{ matrix.os }}"
    (setup,) = [s for s in test["steps"] if s.get("uses", "").startswith("actions/setup-python")]
    assert setup["with"]["python-version"] == "${{ matrix.python-version }}"
    assert any(s.get("run") == 'python -m pip install -e ".[dev]"' for s in test["steps"])
    assert matrix["outputs"]["matrix"] == "${{ steps.matrix.outputs.matrix }}"
    assert "python -m runner.ci_matrix pr" in step(matrix, "matrix")["run"]


@needs_bash
def test_matrix_step_writes_the_pr_matrix_to_github_output(tmp_path):
    script = step(load("ci.yml")["jobs"]["matrix"], "matrix")["run"]
    done, outputs = run_script(script, tmp_path)
    assert done.returncode == 0, done.stderr
    assert json.loads(outputs["matrix"]) == {"os": ["ubuntu-latest", "windows-latest"],
                                             "python-version": ["3.10", "3.11", "3.12"]}


def pytest_steps() -> list[tuple[str, str, dict[str, Any]]]:
    found = [(name, job_id, a_step) for name in NAMES for job_id, a_step in steps(load(name))
             if re.search(r"-m pytest\b|^\s*pytest\b", a_step.get("run", ""), re.M)]
    assert found, "no workflow step runs pytest"
    return found


def test_every_pytest_step_checks_for_exit_5():
    for name, job_id, a_step in pytest_steps():
        script = a_step["run"]
        assert "set +e" in script and re.search(r'"\$code" -eq 5', script), (name, job_id)


@needs_bash
@pytest.mark.parametrize(("pytest_exit", "step_exit"), [(0, 0), (1, 1), (2, 2), (5, 1)])
def test_pytest_steps_fail_when_no_tests_were_collected(tmp_path, pytest_exit, step_exit):
    for _, _, a_step in pytest_steps():
        done, _ = run_script(a_step["run"], tmp_path, FAKE_PYTEST_EXIT=str(pytest_exit))
        assert done.returncode == step_exit, done.stdout + done.stderr
        if pytest_exit == 5:
            assert "collected no tests" in done.stdout


def test_nightly_runs_at_0200_utc_and_on_demand():
    on = load("nightly.yml")["on"]
    assert on["schedule"] == [{"cron": "0 2 * * *"}]
    assert "workflow_dispatch" in on


def test_nightly_sweeps_reports_uploads_and_may_write_issues():
    job = load("nightly.yml")["jobs"]["nightly"]
    order = [s.get("id") or s.get("name") for s in job["steps"]]
    assert order.index("sweep") < order.index("report") < order.index("verdict")
    assert "python -m runner +ci=nightly" in step(job, "sweep")["run"]
    report = step(job, "report")["run"]
    assert "python -m slo fail_on_breach=true" in report and "code=$?" in report
    (upload,) = [s for s in job["steps"] if s.get("uses", "").startswith("actions/upload-art")]
    assert upload["if"] == "always()" and "outputs/reports/nightly/" in upload["with"]["path"]
    assert job["permissions"] == {"contents": "read", "issues": "write"}
    assert job["env"]["ISSUE_TITLE"] == NIGHTLY_TITLE


@needs_bash
@pytest.mark.parametrize(("sweep", "report", "failed", "says"), [
    ("0", "0", "false", None),
    ("0", "3", "true", "exited 3"),
    ("1", "0", "true", "+ci=nightly` exited 1"),
    ("", "", "true", "did not run"),
])
def test_nightly_verdict(tmp_path, sweep, report, failed, says):
    job = load("nightly.yml")["jobs"]["nightly"]
    done, outputs = run_script(step(job, "verdict")["run"], tmp_path, cwd=tmp_path,
                               SWEEP_CODE=sweep, REPORT_CODE=report, **github_env())
    assert done.returncode == 0, done.stderr
    assert outputs["failed"] == failed
    if says:
        body = (tmp_path / "nightly-issue.md").read_text()
        assert says in body and "https://github.com/o/r/actions/runs/42" in body


def github_env() -> dict[str, str]:
    return {"GITHUB_SERVER_URL": "https://github.com", "GITHUB_REPOSITORY": "o/r",
            "GITHUB_RUN_ID": "42", "ISSUE_TITLE": NIGHTLY_TITLE,
            "ISSUE_LABEL": "nightly-rehearsal"}


@needs_bash
@pytest.mark.parametrize(("open_issues", "expected"), [
    ("", "create"),
    (f"17\t{NIGHTLY_TITLE}\n", "comment 17"),
    ("18\tNightly rehearsal: something else\n", "create"),
    (f"18\tNightly rehearsal: something else\n19\t{NIGHTLY_TITLE}\n", "comment 19"),
])
def test_nightly_opens_one_issue_and_then_comments_on_it(tmp_path, open_issues, expected):
    job = load("nightly.yml")["jobs"]["nightly"]
    (tmp_path / "outputs/reports/nightly").mkdir(parents=True)
    (tmp_path / "outputs/reports/nightly/latest.md").write_text("error_rate breached\n")
    env = {**github_env(), "SWEEP_CODE": "0", "REPORT_CODE": "3"}
    done, _ = run_script(step(job, "verdict")["run"], tmp_path, cwd=tmp_path, **env)
    assert done.returncode == 0, done.stderr
    assert "error_rate breached" in (tmp_path / "nightly-issue.md").read_text()
    issue = step(job, "Open or update the nightly issue")
    assert issue["env"]["GH_TOKEN"] == "${{ github.token }}"
    done, _ = run_script(issue["run"], tmp_path, cwd=tmp_path, FAKE_GH_ISSUES=open_issues, **env)
    assert done.returncode == 0, done.stderr
    calls = (tmp_path / "gh.log").read_text().splitlines()
    issue_calls = [c for c in calls if c.startswith(("issue create", "issue comment"))]
    assert len(issue_calls) == 1, calls
    if expected == "create":
        assert issue_calls[0].startswith(f"issue create --repo o/r --title {NIGHTLY_TITLE} "
                                         "--label nightly-rehearsal")
    else:
        assert issue_calls[0].startswith(f"issue {expected} --repo o/r")
    listing = next(c for c in calls if c.startswith("issue list"))
    assert "--state open" in listing and "--label nightly-rehearsal" in listing
    done, _ = run_script(step(job, "Fail the run")["run"], tmp_path, cwd=tmp_path)
    assert done.returncode == 1 and "::error::" in done.stdout


def test_release_checks_tag_and_changelog_before_anything_is_published():
    release = load("release.yml")
    assert release["on"] == {"push": {"tags": ["v*"]}}
    jobs = release["jobs"]
    build = [s.get("id") or s.get("name") for s in jobs["build"]["steps"]]
    check = "Check the CHANGELOG (python -m runner.release notes)"
    assert build.index("version") < build.index(check) < build.index("Build sdist and wheel")
    notes = step(jobs["build"], check)["run"]
    assert 'python -m runner.release notes "$VERSION" > release-notes.md' in notes
    assert "python -m build" in step(jobs["build"], "Build sdist and wheel")["run"]
    assert jobs["github-release"]["needs"] == "build"
    assert "--notes-file release-notes.md" in step(jobs["github-release"],
                                                   "gh release create")["run"]
    assert jobs["pypi"]["needs"] == ["build", "github-release"]
    publish = [s for s in jobs["pypi"]["steps"] if "gh-action-pypi-publish" in s.get("uses", "")]
    assert {s["uses"] for s in publish} == {"pypa/gh-action-pypi-publish@release/v1"}
    assert all(s["if"].startswith("steps.how.outputs.mode ==") for s in publish)
    assert jobs["pypi"]["permissions"]["id-token"] == "write"


@needs_bash
@pytest.mark.parametrize(("tag", "ok"), [(f"v{__version__}", True), ("v99.99.99", False)])
def test_release_refuses_a_tag_that_is_not_the_package_version(tmp_path, tag, ok):
    script = step(load("release.yml")["jobs"]["build"], "version")["run"]
    done, outputs = run_script(script, tmp_path, GITHUB_REF_NAME=tag)
    if ok:
        assert done.returncode == 0, done.stdout + done.stderr
        assert outputs["version"] == __version__
    else:
        assert done.returncode == 1
        assert f"::error::tag {tag} is version 99.99.99" in done.stdout


@needs_bash
def test_release_stops_when_the_changelog_has_no_section_for_the_version(tmp_path):
    check = step(load("release.yml")["jobs"]["build"],
                 "Check the CHANGELOG (python -m runner.release notes)")["run"]
    done, _ = run_script(check, tmp_path, cwd=tmp_path, VERSION="99.99.99")
    assert done.returncode == 1
    assert "CHANGELOG.md has no section '## [99.99.99]'" in done.stderr
    # The real CHANGELOG's [Unreleased] section stands in for a released one.
    done, _ = run_script(check, tmp_path, cwd=tmp_path, VERSION="Unreleased")
    assert done.returncode == 0, done.stderr
    notes = (tmp_path / "release-notes.md").read_text(encoding="utf-8")
    assert notes.strip() and "## [" not in notes


@needs_bash
@pytest.mark.parametrize(("token", "trusted", "mode"), [
    ("", "", "skip"), ("pypi-xyz", "", "token"), ("", "true", "trusted"),
    ("pypi-xyz", "true", "trusted"),
])
def test_pypi_is_published_only_when_configured(tmp_path, token, trusted, mode):
    how = step(load("release.yml")["jobs"]["pypi"], "how")
    assert set(how["env"]) == {"PYPI_API_TOKEN", "PYPI_TRUSTED_PUBLISHING"}
    done, outputs = run_script(how["run"], tmp_path, PYPI_API_TOKEN=token,
                               PYPI_TRUSTED_PUBLISHING=trusted)
    assert done.returncode == 0, done.stderr
    assert outputs["mode"] == mode
    assert "pypi-xyz" not in done.stdout + done.stderr


# --- hygiene ------------------------------------------------------------------------------------

def secret_leaks(workflow: dict[str, Any]) -> list[str]:
    """Places where a secret could reach the log: a secret expanded into a script, an `if:` on a
    secret (GitHub refuses it), a script that echoes a secret-carrying variable, `set -x`."""
    leaks = []
    top = {k for k, v in workflow.get("env", {}).items() if SECRET_REF.search(str(v))}
    for job_id, job in workflow["jobs"].items():
        job_secrets = top | {k for k, v in job.get("env", {}).items() if SECRET_REF.search(str(v))}
        if "secrets." in str(job.get("if", "")):
            leaks.append(f"{job_id}: if on a secret")
        for a_step in job.get("steps", []):
            where = f"{job_id}/{a_step.get('name') or a_step.get('id') or a_step.get('uses')}"
            names = job_secrets | {"GITHUB_TOKEN", "GH_TOKEN"} | {
                k for k, v in a_step.get("env", {}).items() if SECRET_REF.search(str(v))}
            if "secrets." in str(a_step.get("if", "")):
                leaks.append(f"{where}: if on a secret")
            script = a_step.get("run", "")
            if SECRET_REF.search(script):
                leaks.append(f"{where}: secret expanded into the script")
            if re.search(r"^\s*set\s+-\w*x", script, re.M):
                leaks.append(f"{where}: set -x")
            for line in script.splitlines():
                if re.match(r"\s*(echo|printf|cat)\b", line) and any(
                        re.search(rf"\$\{{?{name}\b", line) for name in names):
                    leaks.append(f"{where}: prints a secret: {line.strip()}")
    return leaks


def test_no_workflow_prints_a_secret():
    for name in NAMES:
        assert secret_leaks(load(name)) == [], name


def test_the_secret_check_catches_leaks():
    leaky = {"env": {"TOKEN": "${{ secrets.PYPI_API_TOKEN }}"}, "jobs": {"j": {"steps": [
        {"name": "a", "run": 'echo "token is $TOKEN"'},
        {"name": "b", "run": "curl -H 'auth: ${{ secrets.X }}' x"},
        {"name": "c", "if": "secrets.X != ''", "run": "true"},
        {"name": "d", "env": {"T": "${{ github.token }}"}, "run": "set -x\nprintf '%s' \"${T}\""},
    ]}}}
    assert len(secret_leaks(leaky)) == 5


def test_scripts_take_values_through_env_not_expressions():
    """`${{ }}` inside `run:` is pasted into the script before bash sees it (script injection)."""
    for name in NAMES:
        for job_id, a_step in steps(load(name)):
            assert "${{" not in a_step.get("run", ""), (name, job_id, a_step.get("name"))


def test_actions_are_pinned_to_major_versions():
    allowed = {"actions/checkout@v4", "actions/setup-python@v5", "actions/upload-artifact@v4",
               "actions/download-artifact@v4", "pypa/gh-action-pypi-publish@release/v1"}
    used = {s["uses"] for name in NAMES for _, s in steps(load(name)) if "uses" in s}
    assert used <= allowed, used - allowed


def test_permissions_are_read_only_unless_a_job_needs_more():
    expected = {("nightly.yml", "nightly"): {"contents": "read", "issues": "write"},
                ("release.yml", "github-release"): {"contents": "write"},
                ("release.yml", "pypi"): {"contents": "read", "id-token": "write"}}
    for name in NAMES:
        workflow = load(name)
        assert workflow["permissions"] == {"contents": "read"}, name
        for job_id, job in workflow["jobs"].items():
            assert job.get("permissions", workflow["permissions"]) == expected.get(
                (name, job_id), {"contents": "read"}), (name, job_id)


def test_vscode_tasks_run_the_documented_commands():
    tasks = json.loads((ROOT / ".vscode" / "tasks.json").read_text(encoding="utf-8"))["tasks"]
    by_label = {t["label"]: t for t in tasks}
    assert set(by_label) >= {"run", "test", "sweep", "nightly report", "plan only"}
    assert by_label["test"]["args"] == ["-m", "pytest"]
    assert by_label["test"]["group"] == {"kind": "test", "isDefault": True}
    assert by_label["sweep"]["args"] == ["-m", "runner", "-m",
                                         "adapter.faults.error_rate=0,0.1,0.2"]
    assert by_label["plan only"]["args"] == ["-m", "runner", "plan_only=true"]
    assert all(t["problemMatcher"] == [] for t in tasks)
