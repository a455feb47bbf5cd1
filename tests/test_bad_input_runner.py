"""Bad input to `python -m runner`, one row per case: exit 2, exactly one `error:` line, never a
traceback, nothing half-written (no run folder, not even one holding only `.hydra/`).

Rows run in-process where the command line is not the point: the pipeline's `main` on a config
composed with Hydra's compose API, with the run folder Hydra would have made (`.hydra/`) already
there, so "nothing left behind" is checked too.  Rows that need the entry point itself (Hydra's
own failures, the run folder's claim, file modes) run it as a subprocess in a temp directory; a
fast few of them run by default, the rest with `-m slow`.  File-mode rows need a process without
root's power over modes: as root, `setpriv` drops CAP_DAC_OVERRIDE (root keeps its uid, so the
interpreter under /root stays reachable), else setuid(65534) where that user can run Python;
otherwise those rows are skipped.

A further test sets every number of the composed config, one at a time, to NaN and ±Infinity:
a numeric key added to conf/ later is covered without a new row.
"""

from __future__ import annotations

import math
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from conftest import CONF, CONFIG_MODULE, cli_env

from runner.shared.errors import ConfigError
from runner.shared.schemas import non_finite_problems
from runner.validate import validate_config

NOBODY = 65534
SLO_OK = "service: x\nalerting: {min_events: 1, tiers: []}\nobjectives: {}\n"


@dataclass(frozen=True)
class Case:
    """One bad input.  `setup(tmp)` prepares the case's working directory (modules, config files,
    folders); `absent` are paths (relative to it) that must not exist afterwards."""

    id: str
    args: tuple[str, ...]
    line: str  # regex the (one) stderr line must match
    setup: Callable[[Path], Any] | None = None
    patch: Callable[[pytest.MonkeyPatch], Any] | None = None  # in-process: make a check raise
    code: int = 2
    absent: tuple[str, ...] = ()
    unprivileged: bool = False  # file modes must bind: not as root
    slow: bool = False


# -- setups ---------------------------------------------------------------------------------------


def module(name: str, text: str) -> Callable[[Path], None]:
    """A module `name` in <tmp>/modules (on sys.path for the case)."""
    def setup(tmp: Path) -> None:
        (tmp / "modules").mkdir(exist_ok=True)
        (tmp / "modules" / f"{name}.py").write_text(text, encoding="utf-8")
    return setup


def conf_copy(local: bytes, mode: int | None = None) -> Callable[[Path], None]:
    """A copy of conf/ in <tmp>/conf whose local/default.yaml holds `local` (the CLI gets
    `--config-path <tmp>/conf`), so nothing is written into the project's conf/."""
    def setup(tmp: Path) -> None:
        shutil.copytree(CONF, tmp / "conf")
        for old in (tmp / "conf" / "local").glob("*.yaml"):
            old.unlink()  # a developer's own overrides are not the case's
        path = tmp / "conf" / "local" / "default.yaml"
        path.write_bytes(local)
        if mode is not None:
            path.chmod(mode)
    return setup


def slo_file(data: bytes, mode: int | None = None) -> Callable[[Path], None]:
    """<tmp>/extra/slo/bad.yaml, for `--config-dir extra slo=bad`."""
    def setup(tmp: Path) -> None:
        (tmp / "extra" / "slo").mkdir(parents=True)
        path = tmp / "extra" / "slo" / "bad.yaml"
        path.write_bytes(data)
        if mode is not None:
            path.chmod(mode)
    return setup


def a_file(name: str) -> Callable[[Path], None]:
    def setup(tmp: Path) -> None:
        (tmp / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp / name).write_text("not a folder\n")
    return setup


def read_only(name: str) -> Callable[[Path], None]:
    def setup(tmp: Path) -> None:
        (tmp / name).mkdir(parents=True)
        (tmp / name).chmod(0o555)
    return setup


def raising(target: str, exc: BaseException) -> Callable[[pytest.MonkeyPatch], None]:
    """Make `module.attribute` raise `exc`: a check that fails instead of answering."""
    def patch(monkeypatch: pytest.MonkeyPatch) -> None:
        def boom(*args: Any, **kwargs: Any) -> Any:
            raise exc
        monkeypatch.setattr(target, boom)
    return patch


LONG = "a" * 10_000
RAISES = module("pxr_raises", "raise RuntimeError('no phases for you\\nsecond line')\n")
SYNTAX = module("pxr_syntax", "def run(ctx:\n")
EXITS = module("pxr_exits", "import sys\nsys.exit(3)\n")
NEEDS_PARAM = module("pxr_needs", "def run(ctx, *, must):\n    return {}\n")

# -- in-process rows: the pipeline on a composed config --------------------------------------------

FINITE = r"is not allowed; allowed: .*"
IN_PROCESS = [
    # 1. NaN / ±Infinity, wherever the number sits (schema keys, adapter keywords, params, slo)
    Case("heartbeat nan", ("heartbeat_s=nan",),
         r"^error: heartbeat_s: nan is not allowed; allowed: a finite number > 0 and <= 3600$"),
    Case("journal flush nan", ("journal_flush_s=nan",), rf"^error: journal_flush_s: nan {FINITE}"),
    Case("phase timeout nan", ("phases.connect.timeout_s=nan",),
         rf"^error: phases\.connect\.timeout_s: nan {FINITE}"),
    Case("disk check nan", ("health.checks.disk_space.min_free_mb=nan",),
         rf"^error: health\.checks\.disk_space\.min_free_mb: nan {FINITE}"),
    Case("min notional nan", ("adapter.min_notional=nan",),
         rf"^error: adapter\.min_notional: nan {FINITE}"),
    Case("latency sigma nan", ("adapter.latency.sigma=nan",),
         rf"^error: adapter\.latency\.sigma: nan {FINITE}"),
    Case("retry delay nan", ("adapter.retry.max_delay_s=nan",),
         rf"^error: adapter\.retry\.max_delay_s: nan {FINITE}"),
    Case("order quote nan", ("strategy.order_quote=nan",),
         rf"^error: strategy\.order_quote: nan {FINITE}"),
    Case("slo target nan", ("slo.objectives.error_rate.target=nan",),
         r"^error: slo\.objectives\.error_rate\.target: nan is not allowed; allowed: a number "
         r"between 0 and 1 \(exclusive\)$"),
    Case("heartbeat inf", ("heartbeat_s=inf",), rf"^error: heartbeat_s: inf {FINITE}"),
    Case("min free -inf (no upper bound)", ("health.checks.memory.min_available_mb=-inf",),
         rf"^error: health\.checks\.memory\.min_available_mb: -inf {FINITE}"),
    Case("fault rate inf", ("adapter.faults.error_rate=inf",),
         rf"^error: adapter\.faults\.error_rate: inf {FINITE}"),
    Case("seed -inf, interpolated into adapter.seed: one line", ("seed=-inf",),
         r"^error: seed: -inf is not allowed; allowed: a whole number >= 0$"),
    Case("phase param nan (no schema)", ("phases.market_data.params.limit=nan",),
         r"^error: phases\.market_data\.params\.limit: nan is not allowed; allowed: a finite "
         r"number$"),
    Case("new adapter key inf", ("+adapter.drift=inf",), rf"^error: adapter\.drift: inf {FINITE}"),
    Case("slo budget fraction nan", ("slo.alerting.tiers.0.budget_fraction=nan",),
         rf"^error: slo\.alerting\.tiers\[0\]\.budget_fraction: nan {FINITE}"),
    # 2. checks that raised: the phase's module, its signature, the adapter's settings
    Case("callable raises at import", ("phases.connect.callable=pxr_raises:run",),
         r"^error: phases\.connect\.callable: importing module 'pxr_raises' failed \(RuntimeError: "
         r"no phases for you\); allowed: ", setup=RAISES),
    Case("callable has a syntax error", ("phases.connect.callable=pxr_syntax:run",),
         r"^error: phases\.connect\.callable: importing module 'pxr_syntax' failed \(SyntaxError: ",
         setup=SYNTAX),
    Case("callable exits at import", ("phases.connect.callable=pxr_exits:run",),
         r"^error: phases\.connect\.callable: importing module 'pxr_exits' failed "
         r"\(SystemExit: 3\)", setup=EXITS),
    Case("builtin without a signature", ("phases.connect.callable=builtins:dict",),
         r"^error: phases\.connect\.callable: 'builtins:dict' has no signature to check .*; "
         r"allowed: a function run\(ctx, \*, <params>\)"),
    Case("function that is no phase", ("phases.connect.callable=os:getcwd",),
         r"^error: phases\.connect\.callable: 'os:getcwd' cannot be called as this phase "
         r"\(too many positional arguments\)"),
    Case("required param not given", ("phases.connect.callable=pxr_needs:run",),
         r"^error: phases\.connect\.callable: 'pxr_needs:run' cannot be called as this phase "
         r"\(missing a required argument: 'must'\)", setup=NEEDS_PARAM),
    Case("balances not a mapping", ("adapter.balances=5",),
         r"^error: adapter\.balances: 5 is not allowed; allowed: currency -> amount >= 0"),
    Case("negative balance", ("adapter.balances.USDT=-5",),
         r"^error: adapter\.balances\.USDT: -5 is not allowed; allowed: a number >= 0$"),
    Case("latency not a mapping", ("adapter.latency=3",),
         r"^error: adapter\.latency: 3 is not allowed; allowed: a value of type object$"),
    Case("per-endpoint faults a list", ("+adapter.faults.per_endpoint=[1]",),
         r"^error: adapter\.faults\.per_endpoint: \[1\] is not allowed; allowed: endpoint -> "),
    Case("per-endpoint rates a number", ("+adapter.faults.per_endpoint={create_order:1}",),
         r"^error: adapter\.faults\.per_endpoint\.create_order: 1 is not allowed; allowed: rates"),
    Case("markets entry a number", ("+adapter.markets={BTC/USDT:1}",),
         r"^error: adapter\.markets\.BTC/USDT: 1 is not allowed; allowed: a value of type object"),
    Case("adapter check raises", (),
         r"^error: adapter: these settings could not be checked \(LookupError: surprise\); "
         r"allowed: the settings docs/ADAPTERS\.md lists for adapters\.paper\.PaperExchange$",
         patch=raising("adapters.paper.PaperExchange.check_config", LookupError("surprise"))),
    Case("slo check raises", (),
         r"^error: slo: these settings could not be checked \(KeyError: 'x'\); allowed: ",
         patch=raising("slo.spec.load_objectives", KeyError("x"))),
    Case("plan raises", (),
         r"^error: config: it could not be checked \(IndexError: deep\); allowed: .*"
         r"HYDRA_FULL_ERROR=1 shows the traceback\)$",
         patch=raising("runner.pipeline.build_plan", IndexError("deep"))),
    # 5. symbols, plans, nulls, long values
    Case("no symbols", ("symbols=[]",),
         r"^error: symbols: \[\] is not allowed; allowed: at least 1 item\(s\)$"),
    Case("symbol without a slash", ("symbols=[BTCUSDT]",),
         r"^error: symbols\[0\]: 'BTCUSDT' is not allowed; allowed: BASE/QUOTE"),
    Case("unknown symbol", ("symbols=[DOGE/USDT]",), r"^error: symbols: no start price for "
                                                     r"DOGE/USDT; allowed: a symbol the simulator "
                                                     r"lists \(BTC/USDT, "),
    Case("symbol twice", ("symbols=[BTC/USDT,BTC/USDT]",), r"^error: symbols: .* is not allowed"),
    Case("needs cycle", ("phases.preflight.needs=[cleanup]", "phases.cleanup.needs=[preflight]"),
         r"^error: phases: dependency cycle preflight -> cleanup -> preflight; "),
    Case("unknown need", ("phases.connect.needs=[nope]",),
         r"^error: phases\.connect\.needs: unknown phase 'nope'; known phases: "),
    Case("unknown param", ("+phases.connect.params.x=1",),
         r"^error: phases\.connect\.params\.x: unknown parameter of 'connect'; allowed: none$"),
    Case("param of the wrong kind", ("phases.connect.params=5",),
         r"^error: phases\.connect\.params: 5 is not allowed; allowed: a value of type object$"),
    Case("null number", ("heartbeat_s=null",), r"^error: heartbeat_s: None is not allowed; "),
    Case("null env name", ("env.name=null",), r"^error: env\.name: None is not allowed; "),
    Case("null callable", ("phases.connect.callable=null",),
         r"^error: phases\.connect\.callable: None is not allowed; "),
    Case("null balances", ("adapter.balances=null",), r"^error: adapter\.balances: None is not "),
    Case("long env name", (f"env.name={LONG}",),
         r"^error: env\.name: 'a{50,}\.\.\. is not allowed; allowed: 1 to 64 letters, digits"),
]


@pytest.fixture
def hydra_compose() -> Iterator[Callable[..., Any]]:
    from hydra import compose, initialize_config_module

    with initialize_config_module(config_module=CONFIG_MODULE, version_base="1.3"):
        yield lambda *overrides: compose(config_name="config", overrides=list(overrides))


@pytest.mark.parametrize("case", [pytest.param(c, id=c.id) for c in IN_PROCESS])
def test_bad_config_in_process(case: Case, tmp_path: Path, hydra_compose: Callable[..., Any],
                               monkeypatch: pytest.MonkeyPatch,
                               capsys: pytest.CaptureFixture[str]) -> None:
    from runner import pipeline

    if case.patch is not None:
        case.patch(monkeypatch)
    if case.setup is not None:
        case.setup(tmp_path)
        monkeypatch.syspath_prepend(str(tmp_path / "modules"))
    cfg = hydra_compose(*case.args, "plan_only=true")
    run_dir = tmp_path / "outputs" / "runs" / "day" / "run"
    (run_dir / ".hydra").mkdir(parents=True)  # as Hydra leaves it before the task starts
    code = pipeline.main(cfg, run_dir)
    out, err = capsys.readouterr()
    assert code == case.code, err
    assert "Traceback" not in out + err
    assert len(err.splitlines()) == 1 and err.startswith("error: "), err
    assert re.search(case.line, err.splitlines()[0]), err
    assert not (tmp_path / "outputs" / "runs" / "day").exists(), "run folder left behind"


# -- every number, automatically ------------------------------------------------------------------


def numeric_keys(data: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Paths of every int/float (not bool) leaf."""
    if isinstance(data, dict):
        for key, value in data.items():
            yield from numeric_keys(value, (*path, key))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            yield from numeric_keys(value, (*path, index))
    elif isinstance(data, (int, float)) and not isinstance(data, bool):
        yield path


def dotted_key(path: tuple[Any, ...]) -> str:
    return "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path).lstrip(".")


@pytest.mark.parametrize("overrides", [(), ("adapter=binance", "env=testnet"), ("slo=strict",),
                                       ("experiment=fault_drill", "phases.load.enabled=true")])
def test_every_number_of_the_config_refuses_nan_and_infinity(compose, overrides) -> None:
    """New numeric keys in conf/ are covered without a new row or a schema change."""
    import copy

    base = compose(*overrides)
    keys = list(numeric_keys(base))
    assert len(keys) > 40, keys  # the walk found the config's numbers
    for path in keys:
        for bad in (math.nan, math.inf, -math.inf):
            config = copy.deepcopy(base)
            node = config
            for part in path[:-1]:
                node = node[part]
            node[path[-1]] = bad
            with pytest.raises(ConfigError) as caught:
                validate_config(config)
            assert caught.value.problems[0].startswith(f"{dotted_key(path)}: {bad!r} is not "
                                                       "allowed; allowed: "), caught.value.problems
            assert len(caught.value.problems) == 1, caught.value.problems


def test_a_key_nobody_described_yet_is_covered_and_a_schema_can_allow_non_finite() -> None:
    schema = {"type": "object", "properties": {
        "limit": {"type": "number", "x-allow-non-finite": True,
                  "description": "a number, or inf for no limit"},
        "nested": {"$ref": "#/$defs/nested"}},
        "$defs": {"nested": {"type": "object", "additionalProperties": {"maximum": 5}}}}
    data = {"limit": math.inf, "brand_new": math.nan, "nested": {"x": -math.inf},
            "list": [1.0, math.inf]}
    assert non_finite_problems(data, schema) == [
        "brand_new: nan is not allowed; allowed: a finite number",
        "nested.x: -inf is not allowed; allowed: a finite number <= 5",
        "list[1]: inf is not allowed; allowed: a finite number",
    ]


# -- subprocess rows: the entry point itself -----------------------------------------------------


CLI = [
    # fast: one of each family the CLI alone shows
    Case("cli heartbeat nan (no spin)", ("heartbeat_s=nan",),
         r"^error: heartbeat_s: nan is not allowed; allowed: a finite number > 0 and <= 3600$"),
    Case("cli callable raises", ("phases.connect.callable=pxr_raises:run",),
         r"^error: phases\.connect\.callable: importing module 'pxr_raises' failed", setup=RAISES),
    Case("cli local yaml tab", ("--config-path", "{tmp}/conf"),
         r"^error: conf/local/default\.yaml: line 2, column 11: found character '\\t' that "
         r"cannot start any token \(while scanning for the next token\); allowed: YAML with spaces",
         setup=conf_copy(b"# @package _global_\nlog_level:\tDEBUG\n")),
    Case("cli empty run dir", ("hydra.run.dir=",),
         r"^error: hydra\.run\.dir: '' is not allowed; allowed: a folder path such as "
         r"outputs/runs/mine"),
    Case("cli empty sweep subdir", ("-m", "hydra.sweep.subdir=", "seed=1,2"),
         r"^error: hydra\.sweep\.subdir: '' is not allowed; allowed: a folder name per job"),
    Case("cli group null", ("adapter=null",),
         r"^error: adapter: null is not allowed; allowed: one of binance, paper$"),
    Case("cli run dir under a file", ("hydra.run.dir=blocker/run",),
         r"^error: hydra\.run\.dir: cannot create blocker/run: a file is in the way \(blocker\)$",
         setup=a_file("blocker"), absent=("blocker/run",)),
    Case("cli read-only outputs", (), r"^error: hydra\.run\.dir: cannot create outputs/runs/\S+: "
                                      r"Permission denied \(outputs/runs\)$",
         setup=read_only("outputs"), unprivileged=True),
    # slow: the rest
    Case("cli slo duplicate key", ("--config-dir", "{tmp}/extra", "slo=bad"),
         r"^error: extra/slo/bad\.yaml: line 2, column 1: found duplicate key service "
         r"\(while constructing a mapping\); allowed: YAML",
         setup=slo_file(b"service: a\nservice: b\n"), slow=True),
    Case("cli slo unclosed bracket", ("--config-dir", "{tmp}/extra", "slo=bad"),
         r"^error: extra/slo/bad\.yaml: line 2, column 1: expected ',' or '\]', but got "
         r"'<stream end>'", setup=slo_file(b"service: [a\n"), slow=True),
    Case("cli slo binary", ("--config-dir", "{tmp}/extra", "slo=bad"),
         r"^error: extra/slo/bad\.yaml: offset 3: byte 0xff is not UTF-8 \(invalid start byte\); "
         r"allowed: a UTF-8 text file of YAML", setup=slo_file(b"a: \xff\xfe\x00\n"), slow=True),
    Case("cli slo control character", ("--config-dir", "{tmp}/extra", "slo=bad"),
         r"^error: extra/slo/bad\.yaml: offset 5: unacceptable character #x0000",
         setup=slo_file(b"a: 1\n\x00"), slow=True),
    Case("cli slo unreadable", ("--config-dir", "{tmp}/extra", "slo=bad"),
         r"^error: extra/slo/bad\.yaml: cannot be read \(Permission denied\); ",
         setup=slo_file(SLO_OK.encode(), mode=0), unprivileged=True, slow=True),
    Case("cli local unreadable", ("--config-path", "{tmp}/conf"),
         r"^error: conf/local/default\.yaml: cannot be read \(Permission denied\); ",
         setup=conf_copy(b"log_level: DEBUG\n", mode=0), unprivileged=True, slow=True),
    Case("cli local nan", ("--config-path", "{tmp}/conf"),
         r"^error: heartbeat_s: nan is not allowed",
         setup=conf_copy(b"# @package _global_\nheartbeat_s: .nan\n"), slow=True),
    Case("cli run dir is a file", ("hydra.run.dir=blocker",),
         r"^error: hydra\.run\.dir: blocker is a file, not a folder; pass a new folder$",
         setup=a_file("blocker"), slow=True),
    Case("cli run dir under /proc", ("hydra.run.dir=/proc/pxr-run",),
         r"^error: hydra\.run\.dir: cannot create /proc/pxr-run: No such file or directory: "
         r"/proc does not take new folders$", absent=("/proc/pxr-run",), slow=True),
    Case("cli long env name", (f"env.name={LONG}",),
         r"^error: hydra\.run\.dir: cannot create outputs/runs/\S+\.\.\.a+ \(\d+ characters\): "
         r"File name too long", slow=True),
    Case("cli long key", (f"{'k' * 10_000}=1",),
         r"^error: k+\.\.\.k+ \(10000 characters\): not a key or config group of this config "
         r"\(File name too long\)", slow=True),
    Case("cli empty sweep dir", ("-m", "hydra.sweep.dir=", "phases=smoke"),
         r"^error: hydra\.sweep\.dir: '' is not allowed", slow=True),
    Case("cli override syntax", ("symbols=[a",), r"^error: .*no viable alternative", slow=True),
    Case("cli unknown option", ("env=nope",),
         r"^error: In 'config': Could not find 'env/nope'; Available options in 'env': ",
         slow=True),
    Case("cli unknown key", ("foo=1",), r"^error: Could not override 'foo'", slow=True),
    Case("cli group a number", ("phases=5",),
         r"^error: phases: 5 is not allowed; allowed: one of smoke, soak, standard$", slow=True),
    Case("cli unknown flag", ("--nope",),
         r"^error: unrecognized arguments: --nope; allowed: ", slow=True),
]


PROBE = ("import os\nos.listdir('.')\ntry:\n    os.listdir('.pxr-locked')\n"
         "except PermissionError:\n    print('bound')\n")


def _drop_to_nobody() -> None:
    os.setgid(NOBODY)
    os.setuid(NOBODY)


def unprivileged_launch(cwd: Path) -> dict[str, Any] | None:
    """How to start a process in `cwd` that file modes bind: {} when not root; as root,
    `setpriv` without CAP_DAC_OVERRIDE/CAP_DAC_READ_SEARCH, else setuid(nobody) when that user
    can run this Python in `cwd`; None when neither works (the row is skipped)."""
    if os.geteuid() != 0:
        return {}
    ways: list[dict[str, Any]] = []
    if shutil.which("setpriv"):
        ways.append({"prefix": [shutil.which("setpriv"),
                                "--bounding-set=-dac_override,-dac_read_search", "--"]})
    ways.append({"preexec_fn": _drop_to_nobody})
    locked = cwd / ".pxr-locked"
    locked.mkdir(mode=0)
    try:
        for way in ways:
            if way.get("preexec_fn"):
                shutil.chown(cwd, NOBODY, NOBODY)
            done = subprocess.run([*way.get("prefix", []), sys.executable, "-c", PROBE],
                                  cwd=cwd, capture_output=True, text=True,
                                  preexec_fn=way.get("preexec_fn"))
            if done.stdout.strip() == "bound":  # Python ran there, and the mode bound it
                return way
    finally:
        locked.rmdir()
    return None


def tree(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*") if "__pycache__" not in p.parts}


# Empty roots a refused run may leave (as `mkdir -p` would): never a run folder or a file.
ROOTS = {"outputs", "outputs/runs", "outputs/sweeps"}


def run_case(case: Case, tmp: Path) -> subprocess.CompletedProcess[str]:
    launch: dict[str, Any] = {}
    if case.unprivileged:
        found = unprivileged_launch(tmp)
        if found is None:
            pytest.skip("file modes cannot bind here (root without setpriv or a usable nobody)")
        launch = found
    env = cli_env()
    env["PYTHONPATH"] = os.pathsep.join([str(tmp / "modules"), env["PYTHONPATH"]])
    args = [arg.replace("{tmp}", str(tmp)) for arg in case.args]
    return subprocess.run([*launch.get("prefix", []), sys.executable, "-m", "runner", *args],
                          cwd=tmp, env=env, capture_output=True, text=True, timeout=60,
                          preexec_fn=launch.get("preexec_fn"))


@pytest.mark.slow  # each row starts `python -m runner` as a subprocess
@pytest.mark.parametrize("case", [pytest.param(c, id=c.id)
                                  for c in CLI])
def test_bad_input_on_the_command_line(case: Case, tmp_path: Path) -> None:
    if case.setup is not None:
        case.setup(tmp_path)
    before = tree(tmp_path)
    try:
        done = run_case(case, tmp_path)
    finally:
        for path in tmp_path.rglob("*"):  # let pytest clean up what the case locked
            if not path.is_symlink():
                path.chmod(0o755 if path.is_dir() else 0o644)
    assert done.returncode == case.code, done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    assert len(done.stderr.splitlines()) == 1 and done.stderr.startswith("error: "), done.stderr
    assert re.search(case.line, done.stderr.splitlines()[0]), done.stderr
    assert len(done.stderr) < 600, "one short line"
    added = tree(tmp_path) - before
    assert added <= ROOTS and all((tmp_path / p).is_dir() for p in added), added
    for path in case.absent:
        assert not (tmp_path / path).exists(), path
