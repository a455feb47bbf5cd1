"""Every option of every config group composes, resolves and validates as `python -m runner` would
take it (runner.pipeline.prepare: resolve, validate, live guard, plan).

The options are listed from the installed config package (runner.conf) itself, so a new YAML file
is covered without editing this test; the launcher presets are composed only where the Hydra
plugin they build on is installed.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from importlib import resources
from typing import TYPE_CHECKING, Any

import pytest
from conftest import CONFIG_MODULE
from hydra import compose, initialize_config_module
from hydra.core.global_hydra import GlobalHydra
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.types import RunMode
from hydra.utils import get_class
from omegaconf import DictConfig, OmegaConf, open_dict

from runner import live_guard
from runner.plan import Plan, build_plan
from runner.shared.errors import ConfigError
from runner.shared.hydra_cli import resolve
from runner.validate import validate_config

if TYPE_CHECKING:
    from importlib.resources.abc import Traversable

PRIMARY = "config"
LAUNCHER = "hydra/launcher"
# Not options anyone selects: local/ holds a developer's own overrides (optional, git-ignored and
# left out of the wheel); the YAML files directly in hydra/ are the hydra node that config.yaml
# always reads (`hydra: default`), so every composition below covers them.
NOT_GROUPS = ("local", "hydra")
# What discovery must find at least, so that it cannot silently find nothing (it may find more:
# those are tested too).
KNOWN = {
    "adapter": {"paper", "binance"},
    "ci": {"pr", "nightly"},
    "debug": {"default"},
    "env": {"dev", "ci", "local", "testnet", "live"},
    "experiment": {"soak", "fault_drill"},
    "phases": {"standard", "smoke", "soak"},
    "slo": {"default", "strict"},
    "strategy": {"sma_cross"},
    LAUNCHER: {"ray_cluster", "slurm"},
    "hydra/hydra_logging": {"loguru"},
    "hydra/job_logging": {"loguru"},
    "hydra/help": {"runner", "slo"},
}
# A group whose options name themselves: env.name is what the live guard and the run folder go by.
NAME_KEY = {"env": "env.name", "adapter": "adapter.name", "strategy": "strategy.name",
            "ci": "ci.name"}
# Exchange keys the configs read with ${oc.env:...}: fake values, so every interpolation resolves
# to a real string (and a developer's own keys never reach this test).
FAKE_KEYS = {"BINANCE_API_KEY": "cfgtest-key-1234", "BINANCE_API_SECRET": "cfgtest-secret-1234",
             "BINANCE_TESTNET_API_KEY": "cfgtest-tkey-1234",
             "BINANCE_TESTNET_API_SECRET": "cfgtest-tsecret-1234"}


def package_options() -> dict[str, set[str]]:
    """group -> options: every YAML file of the config package that lies in a group folder."""
    found: dict[str, set[str]] = {}

    def walk(folder: Traversable, group: str) -> None:
        for entry in folder.iterdir():
            if entry.is_dir():
                sub = f"{group}/{entry.name}" if group else entry.name
                if sub != "local" and entry.name != "__pycache__":
                    walk(entry, sub)
            elif group and group not in NOT_GROUPS and entry.name.endswith(".yaml"):
                found.setdefault(group, set()).add(entry.name[: -len(".yaml")])

    walk(resources.files(CONFIG_MODULE), "")
    return found


def primary_groups() -> set[str]:
    """Groups the primary config's defaults list selects (the others need `+group=option`)."""
    text = resources.files(CONFIG_MODULE).joinpath(f"{PRIMARY}.yaml").read_text(encoding="utf-8")
    groups = set()
    for entry in OmegaConf.create(text).defaults:
        if isinstance(entry, DictConfig):  # {group: option}; '_self_' is a plain string
            for key in entry:
                groups.add(key.split()[-1].split("@")[0].lstrip("/"))  # 'optional local' etc.
    return groups


def installed_launchers() -> set[str]:
    """hydra/launcher options the installed Hydra plugins provide (basic, joblib, ...)."""
    with initialize_config_module(config_module=CONFIG_MODULE, version_base="1.3"):
        return set(GlobalHydra.instance().hydra.config_loader.get_group_options(LAUNCHER))


OPTIONS = package_options()
PRIMARY_GROUPS = primary_groups()
CASES = sorted({(group, option) for group, options in OPTIONS.items() for option in options}
               | {(LAUNCHER, option) for option in installed_launchers()})


def override(group: str, option: str) -> str:
    """How the command line selects it: Hydra's own groups and the primary's are in a defaults
    list already; any other group is appended (`+ci=pr`)."""
    selected = group.startswith("hydra/") or group in PRIMARY_GROUPS
    return f"{'' if selected else '+'}{group}={option}"


@pytest.fixture(scope="module")
def loader() -> Iterator[Any]:
    """Hydra initialised on the installed config package, as the compose API of a wheel has it."""
    with initialize_config_module(config_module=CONFIG_MODULE, version_base="1.3"):
        yield GlobalHydra.instance().hydra.config_loader


@pytest.fixture
def fake_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in FAKE_KEYS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv(live_guard.CONFIRM_VAR, raising=False)


def missing_plugin_base(loader: Any, group: str, option: str) -> str | None:
    """The plugin config a launcher preset of ours builds on (its defaults list names it, e.g.
    `ray`), when no installed Hydra plugin provides it; else None."""
    preset = resources.files(CONFIG_MODULE)
    for part in [*group.split("/"), f"{option}.yaml"]:
        preset = preset.joinpath(part)
    if group != LAUNCHER or not preset.is_file():
        return None
    available = set(loader.get_group_options(group))
    for base in OmegaConf.create(preset.read_text(encoding="utf-8")).get("defaults") or []:
        if isinstance(base, str) and base != "_self_" and base not in available:
            return base
    return None


def class_names(node: Any) -> list[str]:
    """Every `_target_` (Hydra) and `class` (logging) in a node: what is imported at run time."""
    if isinstance(node, dict):
        own = [v for k, v in node.items() if k in ("_target_", "class") and isinstance(v, str)]
        return own + [name for value in node.values() for name in class_names(value)]
    if isinstance(node, list):
        return [name for value in node for name in class_names(value)]
    return []


def sweep_jobs(cfg: DictConfig) -> list[list[str]]:
    """The overrides of each job a multirun config launches (hydra.sweeper.params expanded as
    the basic sweeper does); [[]] for a single run."""
    params = cfg.hydra.sweeper.get("params") or {}
    if cfg.hydra.mode != RunMode.MULTIRUN or not params:
        return [[]]
    parsed = OverridesParser.create().parse_overrides([f"{k}={v}" for k, v in params.items()])
    choices = [[f"{o.get_key_element()}={value}" for value in o.sweep_string_iterator()]
               if o.is_sweep_override() else [o.input_line] for o in parsed]
    return [list(job) for job in itertools.product(*choices)]


def prepare(cfg: DictConfig, label: str) -> tuple[dict[str, Any], Plan]:
    """What runner.pipeline.prepare does before anything runs; a problem fails the test."""
    try:
        config = resolve(cfg)
        validate_config(config)
        guard = [] if config["plan_only"] else live_guard.problems(config, {})
        if guard:
            raise ConfigError(guard)
        return config, build_plan(config)
    except ConfigError as error:
        problems = error.problems
    pytest.fail(f"{label}: " + " | ".join(problems), pytrace=False)


def test_discovery_finds_every_shipped_group_and_option():
    for group, options in KNOWN.items():
        assert options <= OPTIONS.get(group, set()), (group, OPTIONS.get(group))
    assert not {"local", "hydra"} & set(OPTIONS), "not groups anyone selects"
    assert len(CASES) >= sum(len(options) for options in KNOWN.values())


def test_hydra_sees_exactly_the_options_discovered(loader):
    """The package listing and Hydra's own view of runner.conf agree, group by group."""
    for group in loader.list_groups(""):
        if group not in NOT_GROUPS:
            assert set(loader.get_group_options(group)) == OPTIONS.get(group, set()), group
    for group in ("hydra/hydra_logging", "hydra/job_logging", LAUNCHER):
        assert OPTIONS[group] <= set(loader.get_group_options(group)), group


def compose_option(group: str, option: str, *job: str) -> DictConfig:
    return compose(config_name=PRIMARY, overrides=[override(group, option), *job],
                   return_hydra_config=True)


def job_config(cfg: DictConfig) -> DictConfig:
    """The config the task function gets: the composed one without its hydra node."""
    with open_dict(cfg):
        del cfg["hydra"]
    return cfg


@pytest.mark.usefixtures("fake_keys")
@pytest.mark.parametrize(("group", "option"), CASES, ids=[override(*case) for case in CASES])
def test_every_option_composes_resolves_and_validates(loader, group, option):
    base = missing_plugin_base(loader, group, option)
    if base is not None:
        pytest.skip(f"{group}={option} builds on {group}/{base}, which comes from a Hydra "
                    f"launcher plugin that is not installed (see conf/{group}/{option}.yaml)")
    label = override(group, option)
    cfg = compose_option(group, option)
    assert cfg.hydra.runtime.choices[group] == option, f"{label} was not the option composed"
    if group == "hydra/help":  # a --help page: text, nothing for Hydra to instantiate
        assert "== Exit codes ==" in cfg.hydra.help.template, label
    elif group.startswith("hydra/"):
        names = class_names(OmegaConf.to_container(OmegaConf.select(cfg, group.replace("/", "."))))
        assert names, f"{label}: nothing for Hydra to instantiate"
        for name in names:
            get_class(name)  # the launcher's / the logging handler's class is importable
    config, plan = prepare(job_config(cfg), label)
    assert plan.phases, label
    if group in NAME_KEY:
        section, key = NAME_KEY[group].split(".")
        assert config[section][key] == option, f"{label}: {NAME_KEY[group]} is not {option}"


@pytest.mark.slow
@pytest.mark.usefixtures("fake_keys")
def test_every_job_of_every_sweep_option_validates(loader):
    """An option that makes a sweep (`+ci=pr`): each of its jobs, composed as the launcher
    composes it (the option plus the job's sweeper overrides), validates too."""
    sweeps = {}
    for group, option in CASES:
        if not group.startswith("hydra/"):
            jobs = sweep_jobs(compose_option(group, option))
            if jobs != [[]]:
                sweeps[(group, option)] = jobs
    assert {("ci", "pr"), ("ci", "nightly")} <= set(sweeps), "no sweep option was found"
    for (group, option), jobs in sweeps.items():
        for job in jobs:
            label = " ".join([override(group, option), *job])
            _, plan = prepare(job_config(compose_option(group, option, *job)), label)
            assert plan.phases, label
