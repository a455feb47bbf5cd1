"""One run, one folder, atomically (runner/run_folder.py): the claim itself, in-process and under
thread races, and the CLI as users meet it: runs and sweeps started at once, a folder that is taken.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import CONFIG_MODULE, cli_env, run_cli

from runner import run_folder
from runner.run_folder import FolderError, claim, claim_in_config, override_value
from runner.shared.events import find_journal, open_journal

# -- the claim ----------------------------------------------------------------------------------


def test_claim_creates_the_folder_its_parents_and_the_snapshot_folder_that_marks_it(tmp_path):
    target = tmp_path / "runs" / "2026-01-01" / "12-00-00_dev"
    assert claim(str(target), numbered=True) == str(target)
    assert [p.name for p in target.iterdir()] == [".hydra"]


def test_a_taken_made_up_name_gets_the_next_free_suffix(tmp_path):
    base = tmp_path / "12-00-00_dev"
    base.mkdir()
    (tmp_path / "12-00-00_dev-2").write_text("a file takes the name too")
    (tmp_path / "12-00-00_dev-3").mkdir()
    assert claim(str(base), numbered=True) == f"{base}-4"
    assert claim(str(base), numbered=True) == f"{base}-5"


def test_a_chosen_folder_is_never_renamed_and_never_written_when_it_holds_anything(tmp_path):
    chosen = tmp_path / "run"
    chosen.mkdir()
    (chosen / "result.json").write_text("{}")
    with pytest.raises(FolderError) as refused:
        claim(str(chosen), numbered=False)
    assert str(refused.value) == (f"hydra.run.dir: {chosen} already holds result.json; "
                                  "pass a new folder")
    assert [p.name for p in chosen.iterdir()] == ["result.json"]
    assert not (tmp_path / "run-2").exists()


def test_a_chosen_empty_folder_is_claimed_by_its_snapshot_folder(tmp_path):
    assert claim(str(tmp_path), numbered=False) == str(tmp_path)
    assert [p.name for p in tmp_path.iterdir()] == [".hydra"]
    with pytest.raises(FolderError, match=r"already holds \.hydra; pass a new folder"):
        claim(str(tmp_path), numbered=False)


def test_a_chosen_empty_sweep_root_is_claimed_by_a_file(tmp_path):
    assert claim(str(tmp_path), numbered=False, marker="multirun.yaml",
                 marker_is_file=True, key="hydra.sweep.dir") == str(tmp_path)
    assert (tmp_path / "multirun.yaml").is_file()


def test_a_file_where_the_folder_should_be_is_one_clear_error(tmp_path):
    (tmp_path / "run").write_text("")
    with pytest.raises(FolderError, match=r"run is a file, not a folder; pass a new folder$"):
        claim(str(tmp_path / "run"), numbered=False)
    (tmp_path / "outputs").write_text("")
    target = tmp_path / "outputs" / "runs" / "x"
    with pytest.raises(FolderError) as refused:
        claim(str(target), numbered=True)
    assert str(refused.value) == (f"hydra.run.dir: cannot create {target}: "
                                  f"a file is in the way ({tmp_path / 'outputs'})")


def test_an_os_refusal_names_the_path_and_reason_and_leaves_nothing_behind(tmp_path, monkeypatch):
    target = tmp_path / "new" / "date" / "run"
    real_mkdir = os.mkdir

    def read_only(path: Any, *args: Any) -> None:
        if Path(path) == target:
            raise PermissionError(errno.EACCES, "Permission denied", str(path))
        real_mkdir(path, *args)

    monkeypatch.setattr(run_folder.os, "mkdir", read_only)
    with pytest.raises(FolderError) as refused:
        claim(str(target), numbered=True)
    assert str(refused.value) == (f"hydra.run.dir: cannot create {target}: "
                                  f"Permission denied ({target})")
    assert list(tmp_path.iterdir()) == [], "the parents this claim created are gone again"


def race(count: int, attempt: Callable[[], str]) -> tuple[list[str], list[str]]:
    """`attempt` in `count` threads released at once; (claimed paths, refusal messages)."""
    start = threading.Barrier(count)
    won: list[str] = []
    lost: list[str] = []

    def one() -> None:
        start.wait()
        try:
            won.append(attempt())
        except FolderError as exc:
            lost.append(str(exc))

    threads = [threading.Thread(target=one) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return won, lost


@pytest.mark.parametrize("trial", range(5))
def test_racing_claims_of_a_made_up_name_each_get_their_own_folder(tmp_path, trial):
    base = str(tmp_path / "runs" / "12-00-00_dev")
    won, lost = race(8, lambda: claim(base, numbered=True))
    assert lost == []
    assert sorted(won) == sorted([base, *(f"{base}-{n}" for n in range(2, 9))])


@pytest.mark.parametrize("exists", [False, True])
def test_racing_claims_of_a_chosen_folder_have_exactly_one_winner(tmp_path, exists):
    chosen = tmp_path / "chosen"
    if exists:
        chosen.mkdir()
    won, lost = race(8, lambda: claim(str(chosen), numbered=False))
    assert won == [str(chosen)] and len(lost) == 7
    assert all(m.startswith(f"hydra.run.dir: {chosen} already holds") for m in lost)


@pytest.mark.parametrize("text", ["outputs/sweeps/2026-01-01/12-00-00-2", "a b/c,d=e", "it's",
                                  "C:\\runs\\x", "ends\\", "x${now:%H}"])
def test_the_claimed_root_survives_hydras_override_grammar(text):
    from hydra.core.override_parser.overrides_parser import OverridesParser
    from omegaconf import OmegaConf

    parsed = OverridesParser.create().parse_override(f"hydra.sweep.dir={override_value(text)}")
    assert OmegaConf.create({"dir": parsed.value()}).dir == text


# -- the callback on a composed config ----------------------------------------------------------


@pytest.fixture
def hydra_config(tmp_path, monkeypatch) -> Iterator[Callable[..., Any]]:
    """Compose runner.conf with its hydra node (as `python -m runner` would) in a tmp working
    dir."""
    from hydra import compose, initialize_config_module

    monkeypatch.chdir(tmp_path)
    with initialize_config_module(config_module=CONFIG_MODULE, version_base="1.3"):
        yield lambda *overrides: compose(config_name="config", overrides=list(overrides),
                                         return_hydra_config=True)


def test_conf_lists_the_claim_before_the_callback_that_remembers_the_sweep(hydra_config):
    cfg = hydra_config()
    callbacks = list(cfg.hydra.callbacks)
    assert callbacks[0] == "claim_folder"
    assert cfg.hydra.callbacks.claim_folder._target_ == "runner.run_folder.ClaimFolder"
    assert callbacks.index("claim_folder") < callbacks.index("remember_sweep")


def test_the_run_callback_writes_the_claimed_literal_into_the_config(hydra_config, tmp_path):
    from omegaconf import OmegaConf

    first, second = hydra_config(), hydra_config()
    # The default name resolves alike for both: the same second, as for runs started together.
    OmegaConf.copy_cache(from_config=first, to_config=second)
    a, b = claim_in_config(first, "run"), claim_in_config(second, "run")
    assert b == f"{a}-2" and (tmp_path / a).is_dir() and (tmp_path / b).is_dir()
    assert (first.hydra.run.dir, second.hydra.run.dir) == (a, b)
    assert list(second.hydra.overrides.hydra) == [], "a run is not composed again"


def test_a_taken_folder_given_on_the_command_line_is_refused_with_one_line(
        hydra_config, tmp_path, capsys, monkeypatch):
    from runner.shared.hydra_cli import COMMAND

    monkeypatch.setattr(COMMAND, "has_started", False)
    (tmp_path / "old" / ".hydra").mkdir(parents=True)
    cfg = hydra_config("hydra.run.dir=old")
    with pytest.raises(SystemExit) as exited:
        claim_in_config(cfg, "run")
    assert exited.value.code == 2
    assert capsys.readouterr().err == ("error: hydra.run.dir: old already holds .hydra; "
                                       "pass a new folder\n")
    assert [p.name for p in (tmp_path / "old").iterdir()] == [".hydra"]


def test_a_clock_pattern_on_the_command_line_is_a_chosen_name_too(hydra_config, tmp_path,
                                                                  monkeypatch):
    from runner.shared.hydra_cli import COMMAND

    monkeypatch.setattr(COMMAND, "has_started", False)
    (tmp_path / "same").mkdir()
    (tmp_path / "same" / "x").write_text("")
    with pytest.raises(SystemExit):
        claim_in_config(hydra_config("hydra.run.dir=${now:same}"), "run")
    assert not (tmp_path / "same-2").exists()


def test_a_folder_name_that_does_not_resolve_is_one_error_line(hydra_config, tmp_path, capsys,
                                                               monkeypatch):
    from runner.shared.hydra_cli import COMMAND

    monkeypatch.setattr(COMMAND, "has_started", False)
    with pytest.raises(SystemExit) as exited:
        claim_in_config(hydra_config("hydra.sweep.dir=${nope}"), "sweep")
    assert exited.value.code == 2
    assert capsys.readouterr().err == ("error: hydra.sweep.dir: Interpolation key 'nope' not "
                                       "found; set it on the command line or in conf/\n")
    assert list(tmp_path.iterdir()) == []


def test_every_job_of_a_sweep_sees_the_claimed_root(hydra_config, tmp_path):
    """Launchers compose each job's config again (joblib: in the worker), from
    hydra.overrides.hydra; the claimed root must come out of that, not the clock pattern."""
    from hydra.core.global_hydra import GlobalHydra
    from omegaconf import OmegaConf

    taken, cfg = hydra_config(), hydra_config()
    OmegaConf.copy_cache(from_config=taken, to_config=cfg)
    first = claim_in_config(taken, "sweep")
    root = claim_in_config(cfg, "sweep")
    assert root == f"{first}-2"
    loader = GlobalHydra.instance().hydra.config_loader
    job = loader.load_sweep_config(cfg, ["seed=1"])
    assert job.hydra.sweep.dir == root
    assert list(job.hydra.overrides.hydra)[-1] == f"hydra.sweep.dir={root}"


# -- the command line, several at once ----------------------------------------------------------

# A clock pattern that names every run (and sweep) alike: deterministic collisions.
SAME_NAME = """\
# @package _global_
hydra:
  run:
    dir: outputs/runs/same/${now:collide}_${env.name}
  sweep:
    dir: outputs/sweeps/same/${now:collide}
"""


def same_name(tmp_path: Path) -> list[str]:
    folder = tmp_path / "extra_conf" / "experiment"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "same.yaml").write_text(SAME_NAME)
    return [f"--config-dir={folder.parent}", "experiment=same"]


def at_once(cwd: Path, count: int, *args: str) -> list[subprocess.CompletedProcess]:
    """`count` CLI processes started together; their results."""
    procs = [subprocess.Popen([sys.executable, "-m", "runner", *args], cwd=cwd, env=cli_env(),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(count)]
    done = []
    for proc in procs:
        out, err = proc.communicate(timeout=300)
        done.append(subprocess.CompletedProcess(proc.args, proc.returncode, out, err))
    return done


def run_ids(folder: Path) -> set[str]:
    with open_journal(find_journal(folder)) as journal:  # events.jsonl.gz once written
        lines = journal.read().splitlines()
    return {json.loads(line)["run_id"] for line in lines if line.strip()}


def assert_one_run_each(folders: list[Path]) -> None:
    ids = []
    for folder in folders:
        (run_id,) = run_ids(folder)
        assert json.loads((folder / "result.json").read_text())["run_id"] == run_id
        assert not list(folder.glob("*.tmp")) and not list(folder.glob(".*.tmp"))
        ids.append(run_id)
    assert len(set(ids)) == len(folders)


@pytest.mark.slow
@pytest.mark.parametrize("count", [2, 4])
def test_runs_started_at_once_each_get_their_own_folder(tmp_path, count):
    done = at_once(tmp_path, count, *same_name(tmp_path), "phases=smoke")
    assert [d.returncode for d in done] == [0] * count, [d.stderr for d in done]
    base = tmp_path / "outputs" / "runs" / "same" / "collide_dev"
    folders = sorted((tmp_path / "outputs" / "runs" / "same").iterdir())
    assert folders == sorted([base, *(Path(f"{base}-{n}") for n in range(2, count + 1))])
    assert_one_run_each(folders)
    for folder in folders:  # Hydra's snapshot names the folder its run owns
        assert f"dir: {folder.relative_to(tmp_path).as_posix()}\n" in (
            folder / ".hydra" / "hydra.yaml").read_text()


@pytest.mark.slow
def test_runs_started_at_once_with_the_default_names_never_share_a_folder(tmp_path):
    done = at_once(tmp_path, 2, "phases=smoke")
    assert [d.returncode for d in done] == [0, 0], [d.stderr for d in done]
    folders = sorted(p for p in (tmp_path / "outputs" / "runs").glob("*/*"))
    assert len(folders) == 2
    assert_one_run_each(folders)


def snapshot(folder: Path) -> dict[str, tuple[str, int]]:
    """Every file under `folder`: content hash and mtime (ns)."""
    return {str(p.relative_to(folder)): (hashlib.sha256(p.read_bytes()).hexdigest(),
                                         p.stat().st_mtime_ns)
            for p in sorted(folder.rglob("*")) if p.is_file()}


def test_a_refused_run_changes_nothing_in_the_folder_it_was_pointed_at(tmp_path):
    first = run_cli("phases=smoke", "hydra.run.dir=outputs/old", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    old = tmp_path / "outputs" / "old"
    before, listing = snapshot(old), sorted(p.name for p in tmp_path.rglob("*"))
    assert {".hydra/config.yaml", ".hydra/hydra.yaml", "events.jsonl.gz"} <= set(before)
    done = run_cli("phases=smoke", f"hydra.run.dir={old}", cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr.startswith(f"error: hydra.run.dir: {old} already holds .hydra, ")
    assert done.stderr.endswith("; pass a new folder\n") and done.stderr.count("\n") == 1
    assert done.stdout == ""
    assert snapshot(old) == before
    assert sorted(p.name for p in tmp_path.rglob("*")) == listing


def test_a_file_where_outputs_should_be_is_one_error_line(tmp_path):
    (tmp_path / "outputs").write_text("not a folder")
    done = run_cli("phases=smoke", cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr.startswith("error: hydra.run.dir: cannot create outputs/runs/")
    assert done.stderr.endswith(": a file is in the way (outputs)\n")
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    assert (tmp_path / "outputs").read_text() == "not a folder"


@pytest.mark.slow
def test_two_runs_into_one_new_chosen_folder_one_runs_one_is_refused(tmp_path):
    done = at_once(tmp_path, 2, "phases=smoke", "hydra.run.dir=outputs/chosen")
    assert sorted(d.returncode for d in done) == [0, 2], [d.stderr for d in done]
    (refused,) = [d for d in done if d.returncode == 2]
    assert refused.stderr.startswith("error: hydra.run.dir: outputs/chosen already holds ")
    assert refused.stderr.count("\n") == 1
    assert_one_run_each([tmp_path / "outputs" / "chosen"])


def sweep_roots(cwd: Path) -> list[Path]:
    return sorted(p for p in (cwd / "outputs" / "sweeps").glob("*/*") if p.is_dir())


def assert_own_jobs(roots: list[Path], jobs: int) -> None:
    for root in roots:
        assert (root / "multirun.yaml").is_file() and (root / "sweep_report.json").is_file()
        folders = sorted(p for p in root.iterdir() if p.is_dir())
        assert [p.name for p in folders] == [str(n) for n in range(jobs)]
        assert_one_run_each(folders)
        report = json.loads((root / "sweep_report.json").read_text())
        assert len(report["jobs"]) == jobs


@pytest.mark.slow
@pytest.mark.parametrize("launcher", [[], ["hydra/launcher=joblib", "hydra.launcher.n_jobs=2"]],
                         ids=["basic", "joblib"])
def test_sweeps_started_at_once_get_their_own_roots(tmp_path, launcher):
    done = at_once(tmp_path, 2, "-m", *same_name(tmp_path), "phases=smoke", "seed=1,2", *launcher)
    assert [d.returncode for d in done] == [0, 0], [d.stderr for d in done]
    base = tmp_path / "outputs" / "sweeps" / "same" / "collide"
    roots = sweep_roots(tmp_path)
    assert roots == [base, Path(f"{base}-2")]
    assert_own_jobs(roots, 2)
    reports = {line for d in done for line in d.stdout.splitlines()
               if line.startswith("sweep report: ")}
    assert reports == {f"sweep report: {root.relative_to(tmp_path) / 'sweep_report.md'}"
                       for root in roots}


@pytest.mark.slow
def test_sweeps_started_at_once_with_the_default_names_get_their_own_roots(tmp_path):
    done = at_once(tmp_path, 2, "-m", "phases=smoke", "seed=1,2")
    assert [d.returncode for d in done] == [0, 0], [d.stderr for d in done]
    roots = sweep_roots(tmp_path)
    assert len(roots) == 2
    assert_own_jobs(roots, 2)
