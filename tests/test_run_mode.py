"""Hydra composes once per start unless a config may set `hydra.mode` (runner/shared/run_mode.py).

The shortcut must answer exactly what Hydra's own `get_mode` composition answers whenever it
answers at all, and every route that sets the mode must still reach Hydra's own path.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import cli_env, run_cli

from runner.shared.hydra_cli import config_path
from runner.shared.run_mode import mode_stays_unset

# Override lists of the shipped config, with whether the shortcut may answer (no composition).
SHIPPED = [
    ([], True),
    (["plan_only=true"], True),
    (["env=ci", "phases=smoke"], True),
    (["env=live"], True),
    (["experiment=soak"], True),
    (["experiment=fault_drill", "debug=default", "slo=strict"], True),
    (["seed=1,2,3"], True),
    (["hydra/launcher=joblib", "hydra.launcher.n_jobs=2"], True),
    (["hydra.run.dir=somewhere", "hydra.job.chdir=false"], True),
    (["~env"], True),
    (["+x={hydra: {mode: MULTIRUN}}"], True),  # sets x.hydra.mode, not hydra.mode
    (["+ci=pr"], False),
    (["+ci=nightly", "plan_only=true"], False),
    (["ci=pr"], False),
    (["hydra.mode=MULTIRUN"], False),
    (["hydra.mode=RUN"], False),
    (["+hydra.mode=MULTIRUN"], False),
    (["hydra={mode: MULTIRUN}"], False),
    (["adapter@hydra=paper"], False),
    (["hydra.searchpath=[file:///nowhere]"], False),
]


def hydra_for(config_dir: str) -> Any:
    """A Hydra instance on `config_dir`, as `@hydra.main` builds it."""
    from hydra._internal.hydra import Hydra
    from hydra._internal.utils import create_automatic_config_search_path

    search_path = create_automatic_config_search_path(None, None, config_dir)
    return Hydra.create_main_hydra2(task_name="runner", config_search_path=search_path)


@pytest.fixture
def hydra_app() -> Iterator[Any]:
    from hydra.core.global_hydra import GlobalHydra

    yield lambda config_dir=None: hydra_for(config_dir or config_path())
    GlobalHydra.instance().clear()


def hydra_mode(hydra: Any, config_name: str, overrides: list[str]) -> Any:
    """Hydra's own answer (its composition), whether or not the shortcut is installed."""
    from hydra._internal.hydra import Hydra

    own = getattr(Hydra.get_mode, "__wrapped__", Hydra.get_mode)
    return own(hydra, config_name, list(overrides))


@pytest.mark.parametrize(("overrides", "shortcut"), SHIPPED, ids=lambda v: " ".join(v)
                         if isinstance(v, list) else str(v))
def test_the_shortcut_agrees_with_hydra_on_the_shipped_config(hydra_app, overrides, shortcut):
    hydra = hydra_app()
    answered = mode_stays_unset(hydra.config_loader.get_sources(), "config", list(overrides))
    assert answered is shortcut
    if answered:
        assert hydra_mode(hydra, "config", overrides) is None


def test_the_shortcut_reads_the_packaged_configs_too(hydra_app):
    hydra = hydra_app("pkg://runner.conf")
    sources = hydra.config_loader.get_sources()
    assert mode_stays_unset(sources, "config", ["plan_only=true"])
    assert not mode_stays_unset(sources, "config", ["+ci=pr"])


def write(root: Path, files: dict[str, str]) -> str:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, encoding="utf-8")
    return str(root)


GLOBAL_MODE = "# @package _global_\nhydra:\n  mode: MULTIRUN\n"
# (Group names here avoid Hydra's own keys: `sweep:` in its output config counts as a mention.)
PRIMARY = "defaults:\n  - _self_\n  - db: small\nx: 1\n"


@pytest.mark.parametrize(("files", "overrides", "shortcut"), [
    # a group file that sets the mode, reached from the primary's defaults
    ({"config.yaml": "defaults:\n  - _self_\n  - fanout: on\n", "fanout/on.yaml": GLOBAL_MODE},
     [], False),
    # ... from another reached file, by an absolute override
    ({"config.yaml": PRIMARY, "db/small.yaml": "defaults:\n  - override /fanout: on\nsize: 1\n",
      "fanout/on.yaml": GLOBAL_MODE}, [], False),
    # ... by a config path (`group/option`)
    ({"config.yaml": "defaults:\n  - _self_\n  - fanout/on\n", "fanout/on.yaml": GLOBAL_MODE},
     [], False),
    # ... only by the command line, which does not name it: no composition needed
    ({"config.yaml": PRIMARY, "db/small.yaml": "size: 1\n", "fanout/on.yaml": GLOBAL_MODE},
     [], True),
    ({"config.yaml": PRIMARY, "db/small.yaml": "size: 1\n", "fanout/on.yaml": GLOBAL_MODE},
     ["+fanout=on"], False),
    # the primary itself, or Hydra's own group
    ({"config.yaml": "hydra:\n  mode: MULTIRUN\n"}, [], False),
    ({"config.yaml": "defaults:\n  - override hydra/launcher: basic\n  - _self_\n",
      "hydra/launcher/basic.yaml": "# @package hydra\nmode: MULTIRUN\n"}, [], False),
    # a placement under another package, or more search path
    ({"config.yaml": "defaults:\n  - _self_\n  - db@hydra: small\n",
      "db/small.yaml": "mode: MULTIRUN\n"}, [], False),
    ({"config.yaml": "hydra:\n  searchpath: [file:///elsewhere]\n"}, [], False),
    # `mode` under a group's own package cannot reach hydra.mode
    ({"config.yaml": PRIMARY, "db/small.yaml": "latency:\n  mode: record\n"}, [], True),
    ({"config.yaml": PRIMARY, "db/small.yaml": "hydra:\n  mode: MULTIRUN\n"}, [], True),
])
def test_the_shortcut_agrees_with_hydra_on_other_configs(tmp_path, hydra_app, files, overrides,
                                                         shortcut):
    hydra = hydra_app(write(tmp_path, files))
    answered = mode_stays_unset(hydra.config_loader.get_sources(), "config", overrides)
    assert answered is shortcut
    if answered:  # a doubt costs only the composition; an answer must be Hydra's
        assert hydra_mode(hydra, "config", overrides) is None


def test_a_huge_config_dir_is_composed_not_scanned(tmp_path, hydra_app, monkeypatch):
    import runner.shared.run_mode as run_mode

    monkeypatch.setattr(run_mode, "MAX_FILES", 2)
    hydra = hydra_app(write(tmp_path, {"config.yaml": "x: 1\n", "a/b.yaml": "y: 1\n",
                                       "a/c.yaml": "y: 2\n"}))
    assert not mode_stays_unset(hydra.config_loader.get_sources(), "config", [])


def test_another_hydra_version_is_left_alone(monkeypatch):
    import hydra
    from hydra._internal.hydra import Hydra

    import runner.shared.run_mode as run_mode

    original = Hydra.get_mode
    monkeypatch.setattr(Hydra, "get_mode", original)
    monkeypatch.setattr(hydra, "__version__", "1.4.0")
    run_mode.install()
    assert Hydra.get_mode is original


def test_install_wraps_get_mode_once_and_falls_back_on_errors(hydra_app, monkeypatch):
    from hydra._internal.hydra import Hydra

    import runner.shared.run_mode as run_mode

    original = Hydra.get_mode
    monkeypatch.setattr(Hydra, "get_mode", original)  # restored after the test
    run_mode.install()
    run_mode.install()
    assert Hydra.get_mode.__wrapped__ is original
    hydra = hydra_app()
    assert hydra.get_mode("config", ["+ci=pr"]).name == "MULTIRUN"
    assert hydra.get_mode("config", []) is None

    def broken(*_: Any) -> bool:
        raise RuntimeError("unexpected")

    monkeypatch.setattr(run_mode, "mode_stays_unset", broken)
    assert hydra.get_mode("config", ["+ci=pr"]).name == "MULTIRUN"  # Hydra's own way


# -- the command line: every route that sets or reads the mode still works ----------------------


def folders(cwd: Path) -> tuple[int, int]:
    """(run folders, sweep folders) the command left under outputs/."""
    return (len(list((cwd / "outputs" / "runs").glob("*/*"))),
            len(list((cwd / "outputs" / "sweeps").glob("*/*"))))


SLOW = pytest.mark.slow  # the other routes of the same kind; the decisions are checked above


@pytest.mark.parametrize(("args", "expected"), [
    pytest.param(["plan_only=true"], (1, 0), marks=SLOW),
    (["-m", "plan_only=true"], (0, 1)),
    pytest.param(["--multirun", "plan_only=true"], (0, 1), marks=SLOW),
    pytest.param(["hydra.mode=MULTIRUN", "plan_only=true"], (0, 1), marks=SLOW),
    (["+ci=pr", "plan_only=true"], (0, 1)),
])
def test_run_and_multirun_routes(tmp_path, args, expected):
    """(A plan_only sweep exits 1 whatever the mode route: its jobs write no result.json.)"""
    done = run_cli(*args, cwd=tmp_path)
    assert "Traceback" not in done.stderr and "error:" not in done.stderr, done.stderr
    assert folders(tmp_path) == expected
    if "+ci=pr" in args:  # its sweep: phases x error rates
        assert len(list((tmp_path / "outputs" / "sweeps").glob("*/*/*/plan.json"))) == 4


@pytest.mark.parametrize(("args", "shows"), [
    pytest.param(["--cfg", "job"], "plan_only: false", marks=SLOW),
    (["--cfg", "hydra", "+ci=pr"], "mode: MULTIRUN"),
    pytest.param(["-p", "seed", "--cfg", "job"], "42", marks=SLOW),
    pytest.param(["--info", "defaults"], "env/dev", marks=SLOW),
    pytest.param(["--help"], "== Commands ==", marks=SLOW),
    pytest.param(["-sc", "install=bash"], "hydra_bash_completion", marks=SLOW),
])
def test_commands_that_compose_without_running(tmp_path, args, shows):
    done = run_cli(*args, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert shows in done.stdout
    assert folders(tmp_path) == (0, 0)


@SLOW
def test_shell_completion_query(tmp_path):
    line = "pre-exec-runner env="  # Hydra cannot strip `python -m runner` from a line
    done = subprocess.run([sys.executable, "-m", "runner", "-sc", "query=bash"], cwd=tmp_path,
                          env=cli_env(COMP_LINE=line, COMP_POINT=str(len(line))),
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "env=live" in done.stdout.split()
