"""Safety (docs/SAFETY.md): no secret in any log line or output file, however
it was given, and no real-money order without env=live, dry_run=false and PXR_LIVE_CONFIRM."""

from __future__ import annotations

import json
import os
import secrets as stdlib_secrets
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import polars as pl
import pytest
from conftest import cli_env

from runner import live_guard
from runner.phases.preflight import LIVE_MODE, mode
from runner.shared import dotenv_file, hydra_secrets
from runner.shared import secrets as pxr_secrets
from runner.shared.hydra_secrets import scrub_yaml
from runner.shared.secrets import MASK, SecretRegistry, is_secret_name, redact

CONFIRM = {live_guard.CONFIRM_VAR: live_guard.CONFIRM_VALUE}
LEAK_ENV = ["PXR_CANARY_API_KEY", "PXR_CANARY_SECRET"]


def canary() -> str:
    return "cnry" + stdlib_secrets.token_hex(10)


def run(*args: str, cwd: Path, env: dict[str, str] | None = None,
        unset: tuple[str, ...] = (live_guard.CONFIRM_VAR,)) -> subprocess.CompletedProcess:
    """`python -m runner` in `cwd`, with `unset` removed from the inherited environment."""
    environ = cli_env(**(env or {}))
    for name in unset:
        if name not in (env or {}):
            environ.pop(name, None)
    return subprocess.run([sys.executable, "-m", "runner", *args], cwd=cwd, env=environ,
                          capture_output=True, text=True, timeout=120)


def leak_plan(tmp_path: Path) -> str:
    """A plan of preflight + the leak_secrets fake phase; returns the --config-dir argument."""
    folder = tmp_path / "extra_conf" / "phases"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "leaky.yaml").write_text(
        "preflight:\n  callable: preflight\n"
        "leak:\n  callable: fake_phases:leak_secrets\n  needs: [preflight]\n"
        f"  params:\n    token: null\n    env_vars: {json.dumps(LEAK_ENV)}\n")
    return f"--config-dir={folder.parent}"


def occurrences(root: Path, values: list[str]) -> list[str]:
    """Every place under `root` where a value appears: names, bytes, parquet cells."""
    found = []
    for path in sorted(root.rglob("*")):
        hits = [v for v in values if v in path.name]
        if path.is_file():
            data = path.read_bytes()
            hits += [v for v in values if v.encode() in data]
            if path.suffix == ".parquet":
                text = pl.read_parquet(path).cast(pl.String).write_csv()
                hits += [v for v in values if v in text]
        found += [f"{path.relative_to(root)}: {v}" for v in set(hits)]
    return found


def assert_nowhere(done: subprocess.CompletedProcess, cwd: Path, values: list[str]) -> None:
    leaks = occurrences(cwd / "outputs", values) if (cwd / "outputs").exists() else []
    leaks += [f"stdout: {v}" for v in values if v in done.stdout]
    leaks += [f"stderr: {v}" for v in values if v in done.stderr]
    assert leaks == []


def found_in_runs(cwd: Path) -> list[int]:
    """How many secrets each run's leak phase had in hand (proves there was something to leak)."""
    return [int(p.read_text()) for p in sorted((cwd / "outputs").rglob("secrets.found"))]


# -- the registry and masking ---------------------------------------------------------------------


@pytest.fixture
def clean_registry():
    """The process-wide registry and environment as they were, after the test."""
    saved = dict(os.environ)
    yield pxr_secrets.REGISTRY
    pxr_secrets.REGISTRY.clear()
    os.environ.clear()
    os.environ.update(saved)


@pytest.mark.parametrize(("name", "secret"), [
    ("api_key", True), ("secret", True), ("password", True), ("token", True),
    ("passphrase", True), ("private_key", True), ("apiKey", True), ("api-secret", True),
    ("BINANCE_API_KEY", True), ("BINANCE_TESTNET_API_SECRET", True), ("GITHUB_TOKEN", True),
    ("DB_PASSWORD", True), ("OKX_PASSPHRASE", True), ("secret_key", True),
    ("tokens", False), ("api_keys_path", False), ("secretary", False), ("name", False),
    ("PXR_LIVE_CONFIRM", False), ("HYDRA_FULL_ERROR", False), ("sandbox", False),
])
def test_secret_names(name, secret):
    assert is_secret_name(name) is secret


def test_mask_replaces_every_registered_value_and_only_those():
    registry = SecretRegistry()
    assert registry.mask("nothing registered") == "nothing registered"
    assert registry.add("abcdEFGH1234")
    assert registry.add(12345678)  # a numeric override arrives as an int
    assert not registry.add("abc")  # too short to mask safely
    assert not registry.add("true") and not registry.add(None) and not registry.add(True)
    assert not registry.add("${oc.env:BINANCE_API_KEY,null}")  # a reference, not a value
    assert not registry.add("abcdEFGH1234")  # already there
    registry.add("abcdEFGH1234-and-more")  # contains the first: masked whole, longest first
    registry.add("a+b/c=d e")
    text = ("key=abcdEFGH1234 id=12345678 long=abcdEFGH1234-and-more abc "
            "url=a%2Bb%2Fc%3Dd%20e json=\"a+b/c=d e\"")
    assert registry.mask(text) == f'key={MASK} id={MASK} long={MASK} abc url={MASK} json="{MASK}"'


def test_mask_is_fast_enough_for_every_log_line():
    registry = SecretRegistry()
    for _ in range(20):
        registry.add(canary())
    line = "12:00:00.000 | DEBUG   | GET /api/v3/ticker/price?symbol=BTCUSDT 200 OK " * 3
    started = time.perf_counter()
    for _ in range(20_000):
        registry.mask(line)
    assert time.perf_counter() - started < 2.0  # ~10 µs a line; typically far less


def test_environment_and_config_secrets_are_registered(clean_registry):
    key, nested, token = canary(), canary(), canary()
    registered = pxr_secrets.register_environ({"X_API_KEY": key, "HOME": "/home/someone",
                                               "X_TOKEN": "true"})
    assert registered == 1
    pxr_secrets.register_config({"adapter": {"name": "x", "secret": nested,
                                             "options": [{"token": token}]}})
    assert pxr_secrets.mask(f"{key} {nested} {token} /home/someone") == \
        f"{MASK} {MASK} {MASK} /home/someone"


def test_dotenv_never_overrides_and_never_gives_the_live_confirmation(tmp_path, clean_registry,
                                                                     capsys):
    dotenv = tmp_path / ".env"
    dotenv.write_text(f"PXR_T_API_KEY=from-file-1234\nPXR_T_SECRET=from-file-5678\n"
                      f"{live_guard.CONFIRM_VAR}={live_guard.CONFIRM_VALUE}\n")
    os.environ["PXR_T_SECRET"] = "from-shell-9999"
    os.environ.pop(live_guard.CONFIRM_VAR, None)
    assert dotenv_file.load_dotenv(dotenv) == ["PXR_T_API_KEY"]
    assert os.environ["PXR_T_API_KEY"] == "from-file-1234"
    assert os.environ["PXR_T_SECRET"] == "from-shell-9999"
    assert live_guard.CONFIRM_VAR not in os.environ
    assert "ignored in a .env file" in capsys.readouterr().err
    assert dotenv_file.load_dotenv(tmp_path / "missing.env") == []


def test_secret_overrides_reach_hydra_as_environment_references(clean_registry):
    key, first, second = canary(), canary(), canary()
    argv = ["-m", f"+adapter.api_key={key}", "seed=1,2", f"phases.x.params.token='{first}'",
            f"adapter.secret={first},{second}", "adapter.api_key=${oc.env:MINE}",
            "adapter.password=null", "--cfg", "job"]
    out = hydra_secrets.protect_argv(argv)
    assert out[0] == "-m" and out[2] == "seed=1,2" and out[-3:] == argv[-3:]
    assert out[1] == "+adapter.api_key=${oc.env:PXR_SECRET_ADAPTER_API_KEY}"
    assert os.environ["PXR_SECRET_ADAPTER_API_KEY"] == key
    assert out[3] == "phases.x.params.token=${oc.env:PXR_SECRET_PHASES_X_PARAMS_TOKEN}"
    assert os.environ["PXR_SECRET_PHASES_X_PARAMS_TOKEN"] == first  # quotes removed
    assert out[4] == argv[4]  # a sweep stays Hydra's; its values are masked and scrubbed
    assert pxr_secrets.mask(" ".join(argv)).count(MASK) == 4


def test_scrub_rewrites_only_files_that_hold_a_secret(tmp_path, clean_registry):
    key = canary()
    pxr_secrets.register(key)
    clean = tmp_path / "hydra.yaml"
    clean.write_text("hydra:\n  run:\n    dir: outputs/${now:%H}\n  overrides:\n    task:\n"
                     "    - seed=1\n  job:\n    override_dirname: seed=1\n")
    before = clean.read_bytes()
    assert not scrub_yaml(clean) and clean.read_bytes() == before
    dirty = tmp_path / "config.yaml"
    dirty.write_text(f"adapter:\n  api_key: literal-in-a-file\n  secret: ${{oc.env:X,null}}\n"
                     f"  password: null\n  note: uses {key}\nhydra_overrides:\n"
                     f"- adapter.token=short\n- +x.private_key=abcd,efgh\n")
    assert scrub_yaml(dirty)
    text = dirty.read_text()
    assert "literal-in-a-file" not in text and key not in text and "short" not in text
    assert "abcd" not in text and "${oc.env:X,null}" in text and "password: null" in text
    overrides = tmp_path / "overrides.yaml"
    overrides.write_text(f"- adapter.api_key={key}\n- seed=1\n")
    assert scrub_yaml(overrides)
    assert overrides.read_text() == f"- adapter.api_key={MASK}\n- seed=1\n"


def test_redact_keeps_references_and_nulls():
    data = {"a": {"api_key": "${oc.env:K,null}", "secret": None, "token": "", "password": 1234,
                  "x": "adapter.secret=abcdefgh,seed=2"}}
    assert redact(data) == {"a": {"api_key": "${oc.env:K,null}", "secret": None, "token": "",
                                  "password": MASK, "x": f"adapter.secret={MASK},seed=2"}}


# -- no secret anywhere, however given -----------------------------------------------------------


def test_secrets_from_the_environment_appear_nowhere_even_at_debug(tmp_path):
    values = [canary(), canary()]
    done = run(leak_plan(tmp_path), "phases=leaky", "log_level=DEBUG", cwd=tmp_path,
               env=dict(zip(LEAK_ENV, values, strict=True)))
    assert done.returncode == 1, done.stderr  # the leak phase fails, quoting the secrets
    assert found_in_runs(tmp_path) == [2]
    assert_nowhere(done, tmp_path, values)
    log = next((tmp_path / "outputs").rglob("run.log")).read_text()
    assert f"'X-MBX-APIKEY': '{MASK}'" in log and "PermissionError" in log  # logged, masked
    assert f"loguru sees {MASK}" in done.stderr and "Traceback" in done.stderr


def test_secrets_from_a_dotenv_file_appear_nowhere(tmp_path):
    values = [canary(), canary()]
    pairs = zip(LEAK_ENV, values, strict=True)
    (tmp_path / ".env").write_text("".join(f"{name}={value}\n" for name, value in pairs))
    done = run(leak_plan(tmp_path), "phases=leaky", "log_level=DEBUG", cwd=tmp_path,
               unset=(live_guard.CONFIRM_VAR, *LEAK_ENV))
    assert done.returncode == 1, done.stderr
    assert found_in_runs(tmp_path) == [2], "the .env values reached the run"
    assert_nowhere(done, tmp_path, values)


def test_a_secret_override_appears_nowhere_not_even_in_the_hydra_snapshot(tmp_path):
    value = canary()
    done = run(leak_plan(tmp_path), "phases=leaky", "log_level=DEBUG",
               f"phases.leak.params.token={value}", cwd=tmp_path)
    assert done.returncode == 1, done.stderr
    assert found_in_runs(tmp_path) == [1]
    assert_nowhere(done, tmp_path, [value])
    hydra = next((tmp_path / "outputs").rglob(".hydra"))
    assert "${oc.env:PXR_SECRET_PHASES_LEAK_PARAMS_TOKEN}" in (hydra / "overrides.yaml").read_text()
    plan = json.loads(next((tmp_path / "outputs").rglob("plan.json")).read_text())
    assert plan["phases"][1]["params"]["token"] == MASK


@pytest.mark.slow
def test_a_sweep_over_secret_values_is_scrubbed_from_every_snapshot(tmp_path):
    values = [canary(), str(10**9 + stdlib_secrets.randbelow(10**9))]  # the 2nd one is an int
    done = run(leak_plan(tmp_path), "-m", "phases=leaky",
               f"phases.leak.params.token={','.join(values)}", cwd=tmp_path)
    assert done.returncode == 1, done.stderr
    assert found_in_runs(tmp_path) == [1, 1]
    assert_nowhere(done, tmp_path, values)
    sweep = next((tmp_path / "outputs" / "sweeps").glob("*/*"))
    assert f"phases.leak.params.token={MASK}" in (sweep / "multirun.yaml").read_text()
    assert (sweep / "sweep_report.md").exists()


@pytest.mark.slow
def test_jobs_in_launcher_worker_processes_mask_too(tmp_path):
    values = [canary(), canary(), canary(), canary()]
    done = run(leak_plan(tmp_path), "-m", "hydra/launcher=joblib", "hydra.launcher.n_jobs=2",
               "phases=leaky", "log_level=DEBUG",
               f"phases.leak.params.token={values[0]},{values[1]}", cwd=tmp_path,
               env=dict(zip(LEAK_ENV, values[2:], strict=True)))
    assert done.returncode == 1, done.stderr
    assert found_in_runs(tmp_path) == [3, 3]
    assert_nowhere(done, tmp_path, values)


@pytest.mark.parametrize("plus", ["+", ""])
def test_a_refused_secret_override_is_masked_in_the_error_line(tmp_path, plus):
    key, secret = canary(), canary()
    done = run(f"{plus}adapter.api_key={key}", f"{plus}adapter.secret={secret}", cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr.startswith("error: ") and "adapter.api_key" in done.stderr
    assert_nowhere(done, tmp_path, [key, secret])
    assert not list(tmp_path.rglob("*.yaml")), "no run folder, no snapshot"


# -- the live guard -----------------------------------------------------------------------------


@pytest.mark.parametrize("dry_run", [pytest.param("true", marks=pytest.mark.slow), "false"])
@pytest.mark.parametrize("confirm", [None, "yes", live_guard.CONFIRM_VALUE])
def test_live_orders_need_all_three_switches(tmp_path, dry_run, confirm):
    env = {} if confirm is None else {live_guard.CONFIRM_VAR: confirm}
    done = run("env=live", "adapter=paper", f"dry_run={dry_run}",
               "phases.strategy.callable=fake_phases:intend_buy", cwd=tmp_path, env=env)
    orders_files = list((tmp_path / "outputs").rglob("orders.parquet"))
    statuses = set(pl.read_parquet(orders_files[0])["status"]) if orders_files else set()
    if dry_run == "false" and confirm != live_guard.CONFIRM_VALUE:
        assert done.returncode == 2
        assert statuses == set()
        missing = "is not set" if confirm is None else "is set, but not to exactly"
        line, = done.stderr.splitlines()
        assert line.startswith("error: live guard:") and live_guard.CONFIRM_VAR in line
        assert missing in line and f"{live_guard.CONFIRM_VAR}={live_guard.CONFIRM_VALUE}" in line
    elif dry_run == "true":
        assert done.returncode == 0, done.stderr
        assert statuses and statuses <= {"test", "rejected_locally"}
        assert "mode: DRY-RUN" in done.stderr
    else:
        assert done.returncode == 0, done.stderr
        assert statuses == {"closed"}
        assert f"mode: {LIVE_MODE}" in done.stderr


def test_a_config_cannot_give_the_live_confirmation(tmp_path):
    (tmp_path / ".env").write_text(f"{live_guard.CONFIRM_VAR}={live_guard.CONFIRM_VALUE}\n")
    done = run("env=live", "adapter=paper", "dry_run=false", cwd=tmp_path)
    assert done.returncode == 2 and "is not set" in done.stderr
    assert "ignored in a .env file" in done.stderr
    done = run("env=live", "adapter=paper", "dry_run=false",
               f"+hydra.job.env_set.{live_guard.CONFIRM_VAR}={live_guard.CONFIRM_VALUE}",
               cwd=tmp_path)
    assert done.returncode == 2 and "hydra.job.env_set" in done.stderr
    assert not list((tmp_path / "outputs").rglob("orders.parquet"))


def test_plan_only_is_not_guarded_because_it_executes_nothing(tmp_path):
    done = run("env=live", "adapter=paper", "dry_run=false", "plan_only=true", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert not list((tmp_path / "outputs").rglob("orders.parquet"))


def _config(env: str, dry_run: bool, **adapter: object) -> dict:
    return {"dry_run": dry_run, "env": {"name": env},
            "adapter": {"name": "binance", "_target_": "adapters.ccxt_exchange.CcxtExchange",
                        **adapter}}


def test_a_real_money_endpoint_needs_env_live_whatever_the_env_is_called():
    real = _config("dev", False, sandbox=False, simulator=None, base_url=None)
    assert live_guard.problems(real, {}) and "needs env=live" in live_guard.problems(real, {})[0]
    assert live_guard.problems(_config("dev", True, sandbox=False), {}) == []
    assert live_guard.problems(_config("testnet", False, sandbox=True), {}) == []
    assert live_guard.problems(_config("local", False, simulator={"seed": 1}), {}) == []
    assert live_guard.problems(_config("x", False, base_url="http://127.0.0.1:8765"), {}) == []
    assert live_guard.problems(_config("x", False, base_url="https://api.binance.com"), {})
    paper = {"dry_run": False, "env": {"name": "dev"},
             "adapter": {"name": "paper", "_target_": "adapters.paper.PaperExchange"}}
    assert live_guard.problems(paper, {}) == []
    assert live_guard.problems(_config("live", False), CONFIRM) == []
    assert "is not set" in live_guard.problems(_config("live", False, sandbox=True), {})[0]


@pytest.mark.parametrize(("env", "dry_run", "expected"), [
    ("dev", True, "DRY-RUN"), ("dev", False, "ORDERS ENABLED (non-live)"),
    ("testnet", True, "TESTNET DRY-RUN"), ("testnet", False, "TESTNET"),
    ("live", True, "DRY-RUN"), ("live", False, LIVE_MODE),
])
def test_preflight_states_the_mode(env, dry_run, expected):
    assert mode(SimpleNamespace(env=env, dry_run=dry_run)) == expected


def test_the_snapshot_precheck_is_conservative():
    from runner.shared.hydra_secrets import might_hold_secret

    assert not might_hold_secret("adapter:\n  api_key: ${oc.env:BINANCE_API_KEY,null}\n")
    assert not might_hold_secret("adapter:\n  secret: null\n  name: binance\n")
    assert might_hold_secret("adapter:\n  api_key: AbCdEf123456\n")
    assert might_hold_secret("adapter:\n  secret:\n  - one\n  - two\n")
    assert might_hold_secret("- adapter.api_key=AbCdEf123456\n")
