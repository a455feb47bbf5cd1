"""No secret on stdout/stderr from Hydra's own commands (`--cfg`, `--info`, `--help`, `--resolve`,
`-p`), whatever route it came by: a literal in conf/local/default.yaml or in any other config file
the composition reads (conf/**.yaml, `--config-dir`, `hydra.searchpath`, `--config-path`), an
override, the environment.  Hydra prints the composed config and exits without starting the task,
so runner/shared/secrets.py registers secret-named values as each config is composed.

The CLI runs on a temporary copy of the project (runner/ and conf/), so no conf/local/default.yaml
is ever written into the working tree.
"""

from __future__ import annotations

import os
import secrets as stdlib_secrets
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT, cli_env

from runner.shared import hydra_secrets
from runner.shared import secrets as pxr_secrets
from runner.shared.secrets import MASK


def canary() -> str:
    return "cnry" + stdlib_secrets.token_hex(10)


# One canary per route, each under its own secret-named key, so no route hides another.
C = {name: canary() for name in (
    "local_key", "local_secret", "local_token", "local_password", "local_list_1",
    "local_list_2", "local_referenced", "local_hydra", "group_file", "config_dir",
    "searchpath", "override", "dict_override", "plain_env")}
PLAIN = "visible-" + stdlib_secrets.token_hex(4)  # an ordinary value: must still show

LOCAL = f"""# @package _global_
adapter:
  api_key: {C["local_key"]}
  secret: {C["local_secret"]}
  passphrase: ${{creds.plain}}
foo_token: {C["local_token"]}
plain_setting: {PLAIN}
accounts:
  - name: main
    password: {C["local_password"]}
listy:
  token: [{C["local_list_1"]}, {C["local_list_2"]}]
creds:
  plain: {C["local_referenced"]}
hydra:
  job:
    env_set:
      OTHER_PASSWORD: {C["local_hydra"]}
"""

FLAGS = [
    ["--cfg", "job"], ["--cfg", "all", "--resolve"], ["--cfg", "hydra"],
    ["-p", "adapter", "--cfg", "job"],
    *(pytest.param(flags, marks=pytest.mark.slow) for flags in (
        ["--info"], ["--help"], ["--cfg", "all"], ["--cfg", "job", "--resolve"],
        ["--info", "all"], ["--info", "config"],
        ["--info", "defaults"], ["--info", "defaults-tree"], ["--info", "plugins"],
        ["--info", "searchpath"], ["--help", "--resolve"],
        ["--cfg", "job", "--package", "adapter.api_key"])),
]
# Flags that print the job's config, so every route's key shows there, masked.
# (--help is still checked for leaks, but it shows the commands, not the config.)
PRINTS_JOB = {"--cfg job", "--cfg all", "--cfg job --resolve", "--cfg all --resolve", "--info",
              "--info all", "--info config"}


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """runner/ and conf/ copied, with a secret literal in conf/local/default.yaml and in
    conf/adapter/binance.yaml, plus a `--config-dir` and a searchpath folder with one each."""
    root = tmp_path_factory.mktemp("project")
    for name in ("runner", "conf"):  # never a real conf/local/default.yaml
        shutil.copytree(ROOT / name, root / name, ignore=lambda folder, names: [
            n for n in names if n == "__pycache__"
            or (Path(folder).name == "local" and n == "default.yaml")])
    (root / "conf" / "local" / "default.yaml").write_text(LOCAL)
    binance = root / "conf" / "adapter" / "binance.yaml"
    binance.write_text(binance.read_text() + f"private_key: {C['group_file']}\n")
    for folder, group, key in (("extra", "experiment", "config_dir"),
                               ("searched", "debug", "searchpath")):
        (root / folder / group).mkdir(parents=True)
        (root / folder / group / "leaky.yaml").write_text(
            f"# @package _global_\n{key}_token: {C[key]}\n")
    return root


def run_copy(root: Path, *args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess:
    """`python -m runner` of the project copy at `root` (its runner/ first on the path)."""
    environ = cli_env(**env)
    environ["PYTHONPATH"] = os.pathsep.join([str(root), environ["PYTHONPATH"]])
    return subprocess.run([sys.executable, "-m", "runner", *args], cwd=cwd, env=environ,
                          capture_output=True, text=True, timeout=120)


def leaks(done: subprocess.CompletedProcess, values: dict[str, str]) -> list[str]:
    return [f"{stream}: {name}" for name, value in values.items()
            for stream, text in (("stdout", done.stdout), ("stderr", done.stderr))
            if value in text]


@pytest.mark.parametrize("flags", FLAGS, ids=" ".join)
def test_no_route_of_a_secret_reaches_hydras_printouts(project, tmp_path, flags):
    done = run_copy(
        project, f"--config-dir={project / 'extra'}", "env=local", "experiment=leaky",
        f"hydra.searchpath=[file://{project / 'searched'}]", "debug=leaky",
        f"+cli.api_secret={C['override']}", f"+nested={{deep: {{token: {C['dict_override']}}}}}",
        "+routes.passphrase=${oc.env:PXR_PLAIN_VALUE}", *flags,
        cwd=tmp_path, PXR_PLAIN_VALUE=C["plain_env"])
    assert done.returncode == 0, done.stderr
    assert leaks(done, C) == []
    out = done.stdout
    if flags[0] == "-p":
        assert "api_key: ***" in out and "private_key: ***" in out and "exchange_id: binance" in out
    elif flags[-1] == "adapter.api_key":
        assert out.strip().endswith(MASK)
    elif " ".join(flags) in PRINTS_JOB:  # each route did reach the config
        for line in ("api_key: ***", "secret: ***", "foo_token: ***", "password: ***",
                     "private_key: ***", "config_dir_token: ***", "searchpath_token: ***",
                     "token: ***", f"plain_setting: {PLAIN}", "exchange_id: binance"):
            assert line in out, line
        assert ("passphrase: ***" in out) == ("--resolve" in flags)
    if flags == ["--cfg", "hydra"]:
        assert f"OTHER_PASSWORD: {MASK}" in out and "+cli.api_secret=${oc.env:" in out


def test_a_structured_override_is_masked_even_when_argparse_refuses_the_command_line(
        project, tmp_path):
    done = run_copy(project, "env=local", "--cfg", "job",
                    f"+nested={{deep: {{token: {C['dict_override']}}}}}", cwd=tmp_path)
    assert done.returncode == 2 and "unrecognized arguments" in done.stderr
    assert leaks(done, C) == [] and f"token: {MASK}" in done.stderr


def test_a_secret_in_a_config_path_given_on_the_command_line_is_masked(tmp_path):
    conf = tmp_path / "myconf"
    conf.mkdir()
    secret = canary()
    (conf / "mine.yaml").write_text(f"db:\n  host: db.example\n  password: {secret}\n")
    done = subprocess.run([sys.executable, "-m", "runner", f"--config-path={conf}",
                           "--config-name=mine", "--cfg", "job"], cwd=tmp_path, env=cli_env(),
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert secret not in done.stdout + done.stderr
    assert "host: db.example" in done.stdout and f"password: {MASK}" in done.stdout


def test_keys_from_the_environment_are_masked_by_cfg_resolve(tmp_path):
    key, secret = canary(), canary()
    done = subprocess.run(
        [sys.executable, "-m", "runner", "adapter=binance", "--cfg", "job", "--resolve"],
        cwd=tmp_path, env=cli_env(BINANCE_API_KEY=key, BINANCE_API_SECRET=secret),
        capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert key not in done.stdout + done.stderr and secret not in done.stdout + done.stderr
    assert f"api_key: {MASK}" in done.stdout and f"secret: {MASK}" in done.stdout


# -- registering a composed config, in-process ---------------------------------------------------


@pytest.fixture
def registry():
    saved = dict(os.environ)
    pxr_secrets.REGISTRY.clear()
    yield pxr_secrets.REGISTRY
    pxr_secrets.REGISTRY.clear()
    os.environ.clear()
    os.environ.update(saved)


def test_register_composed_takes_literals_lists_and_resolvable_references(registry):
    from omegaconf import OmegaConf

    literal, item, referenced, from_env, plain = canary(), canary(), canary(), canary(), canary()
    os.environ["PXR_T_PLAIN"] = from_env
    cfg = OmegaConf.create({
        "a": {"api_key": literal, "secret": None, "token": "???", "password": "abc",
              "flag_token": True, "b": [{"passphrase": "${creds.x}"}]},
        "creds": {"x": referenced}, "tokens": [plain],
        "private_key": [item, "${oc.env:PXR_T_PLAIN}"],
        "x_secret": "${oc.env:PXR_T_UNSET_VARIABLE}", "y_token": "${hydra:runtime.cwd}",
        "z_api_key": "${oc.env:PXR_T_PLAIN}"})
    assert hydra_secrets.register_composed(cfg) == 4
    assert pxr_secrets.mask(f"{literal} {item} {referenced} {from_env} {plain} abc") == \
        f"{MASK} {MASK} {MASK} {MASK} {plain} abc"


def test_register_composed_never_breaks_composition(registry, monkeypatch):
    from omegaconf import OmegaConf

    assert hydra_secrets.register_composed(object()) == 0
    value = canary()

    def changed_internals(node):
        raise AttributeError("_content")

    monkeypatch.setattr(hydra_secrets, "_secret_leaves", changed_internals)
    assert hydra_secrets.register_composed(OmegaConf.create({"a": {"token": value}})) == 1
    assert pxr_secrets.mask(value) == MASK


def test_every_composition_registers_its_secrets_first(registry, monkeypatch, tmp_path):
    from hydra import compose, initialize_config_dir
    from hydra._internal.config_loader_impl import ConfigLoaderImpl

    monkeypatch.setattr(ConfigLoaderImpl, "load_configuration",
                        ConfigLoaderImpl.load_configuration)  # restored after the test
    hydra_secrets.protect_composition()
    wrapped = ConfigLoaderImpl.load_configuration
    hydra_secrets.protect_composition()
    assert ConfigLoaderImpl.load_configuration is wrapped, "wrapped once"
    value = canary()
    (tmp_path / "config.yaml").write_text(f"service:\n  url: x\n  api_token: {value}\n")
    with initialize_config_dir(config_dir=str(tmp_path), version_base="1.3"):
        cfg = compose(config_name="config")
    assert cfg.service.api_token == value and pxr_secrets.mask(value) == MASK


def test_secrets_inside_a_structured_override_are_registered(registry):
    token, key, first, second = canary(), canary(), canary(), canary()
    argv = [f"+x={{db: {{token: {token}}}, apiKey: '{key}', password: [{first}, \"{second}\"], "
            "name: visible-name}", "seed=1"]
    assert hydra_secrets.protect_argv(argv) == argv  # left to Hydra; only registered
    assert pxr_secrets.mask(" ".join(argv)).count(MASK) == 4
    assert "visible-name" in pxr_secrets.mask(argv[0])
