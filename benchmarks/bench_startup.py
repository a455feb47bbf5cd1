"""Startup wall time of `python -m runner` against a bare Hydra app, measured in the same run.

Every command runs as a subprocess in a fresh temporary directory (so outputs/ lands there), with
hydra.run.dir left at its default; runs are interleaved (bare, runner, plan_only, bare, ...) so
machine noise hits all of them equally.  `--baseline DIR` also times the runner of another source
tree (e.g. `git archive HEAD | tar -x -C DIR`), interleaved with the rest: a before/after in one
run.  `--cached-bytecode` gives every command a fresh PYTHONPYCACHEPREFIX, so the warm-up writes
.pyc files even where PYTHONDONTWRITEBYTECODE is set (as after `pip install`, which compiles them).
Usage: python benchmarks/bench_startup.py [--quick] [-n N] [--baseline DIR] [--cached-bytecode]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BARE_CONFIG = "greeting: hello\n"
BARE_APP = '''import hydra
from omegaconf import DictConfig


@hydra.main(version_base="1.3", config_path=".", config_name="config")
def main(cfg: DictConfig) -> None:
    print(cfg.greeting)


if __name__ == "__main__":
    main()
'''
# The same do-nothing app, composing the runner's own conf/: separates Hydra's cost of loading
# our config tree (composed twice per start by Hydra) from the runner's own imports and work.
BARE_CONF_APP = BARE_APP.replace('config_path="."', "config_path=CONF").replace(
    "print(cfg.greeting)", "pass").replace("import hydra\n", "import hydra\n\nCONF = {conf!r}\n")
# ... and importing the libraries every run needs (polars: recording, market data, SLO report;
# loguru: logging): the floor of any run that composes conf/ and uses them, before our own code.
BARE_LIBS_APP = BARE_CONF_APP.replace("    pass", "    import loguru  # noqa: F401\n"
                                      "    import polars  # noqa: F401")
CONF = str(Path(__file__).resolve().parents[1] / "conf")
# name -> (target ratio to bare, or None for a baseline)
TARGETS: dict[str, float | None] = {"bare": None, "bare_conf": None, "bare_libs": None,
                                    "runner": 2.0,
                                    "plan_only": 1.3, "runner@baseline": None,
                                    "plan_only@baseline": None}
# A command: its argv and the extra environment it runs with.
Command = tuple[list[str], dict[str, str]]


def commands(bare_dir: Path, baseline: Path | None) -> dict[str, Command]:
    runner, plan_only = [sys.executable, "-m", "runner"], [sys.executable, "-m", "runner",
                                                           "plan_only=true"]
    found: dict[str, Command] = {
        "bare": ([sys.executable, str(bare_dir / "app.py")], {}),
        "bare_conf": ([sys.executable, str(bare_dir / "app_conf.py")], {}),
        "bare_libs": ([sys.executable, str(bare_dir / "app_libs.py")], {}),
        "runner": (runner, {}),
        "plan_only": (plan_only, {}),
    }
    if baseline is not None:  # first on sys.path: before the editable install's finder
        found["runner@baseline"] = (runner, {"PYTHONPATH": str(baseline)})
        found["plan_only@baseline"] = (plan_only, {"PYTHONPATH": str(baseline)})
    return found


def time_once(command: Command, base_env: dict[str, str]) -> float:
    cmd, extra = command
    with tempfile.TemporaryDirectory(prefix="bench-startup-") as cwd:
        started = time.perf_counter()
        proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True,
                              env={**base_env, **extra})
        elapsed = time.perf_counter() - started
    if proc.returncode != 0:
        sys.exit(f"{' '.join(cmd)} exited {proc.returncode}:\n{proc.stderr[-2000:]}")
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="3 runs per command instead of 7")
    parser.add_argument("-n", type=int, default=None, help="runs per command")
    parser.add_argument("--baseline", type=Path, default=None, metavar="DIR",
                        help="also time the runner of this source tree (before/after)")
    parser.add_argument("--cached-bytecode", action="store_true",
                        help="let the warm-up write .pyc files (fresh PYTHONPYCACHEPREFIX)")
    args = parser.parse_args()
    runs = args.n or (3 if args.quick else 7)
    if args.baseline is not None and not (args.baseline / "runner" / "__main__.py").is_file():
        sys.exit(f"--baseline {args.baseline}: no runner/__main__.py there")

    with tempfile.TemporaryDirectory(prefix="bench-bare-app-") as tmp:
        bare_dir = Path(tmp)
        (bare_dir / "config.yaml").write_text(BARE_CONFIG)
        (bare_dir / "app.py").write_text(BARE_APP)
        (bare_dir / "app_conf.py").write_text(BARE_CONF_APP.format(conf=CONF))
        (bare_dir / "app_libs.py").write_text(BARE_LIBS_APP.format(conf=CONF))
        base_env = dict(os.environ)
        if args.cached_bytecode:
            base_env.pop("PYTHONDONTWRITEBYTECODE", None)
            base_env["PYTHONPYCACHEPREFIX"] = str(bare_dir / "pycache")
        cmds = commands(bare_dir, args.baseline and args.baseline.resolve())
        for cmd in cmds.values():  # warm-up: page cache (and .pyc files, see --cached-bytecode)
            time_once(cmd, base_env)
        times: dict[str, list[float]] = {name: [] for name in cmds}
        for _ in range(runs):
            for name, cmd in cmds.items():
                times[name].append(time_once(cmd, base_env))

    base = statistics.median(times["bare"])
    bytecode = ("cached (--cached-bytecode)" if args.cached_bytecode else
                "not written (PYTHONDONTWRITEBYTECODE)" if os.environ.get(
                    "PYTHONDONTWRITEBYTECODE") else "as the environment caches it")
    print(f"startup wall time, median of {runs} interleaved runs ({sys.version.split()[0]}; "
          f"bytecode {bytecode})")
    print(f"{'command':<44} {'median s':>9} {'min s':>7} {'ratio':>6} {'target':>7}  verdict")
    results: list[str] = []
    for name, (cmd, _) in cmds.items():
        median, target = statistics.median(times[name]), TARGETS[name]
        ratio = median / base
        label = {"bare": "bare hydra app", "bare_conf": "bare hydra app on conf/",
                 "bare_libs": "... + import polars, loguru"}.get(
            name, " ".join(["python", *cmd[1:]]) + (" (baseline)" if "@" in name else ""))
        verdict = "baseline" if target is None else ("PASS" if ratio <= target else "MISS")
        target_txt = "-" if target is None else f"<={target}x"
        print(f"{label:<44} {median:>9.3f} {min(times[name]):>7.3f} {ratio:>5.2f}x "
              f"{target_txt:>7}  {verdict}")
        if target is not None:
            results.append(f"RESULT startup_{name}_ratio {ratio:.2f} x_bare target <={target} "
                           f"{verdict}")
    own = statistics.median(times["plan_only"]) / statistics.median(times["bare_conf"])
    print(f"plan_only vs the bare app on the same conf/ (the runner's own cost): {own:.2f}x")
    floor = statistics.median(times["bare_libs"]) / base
    print(f"floor of a run (bare app on conf/ + polars + loguru imports): {floor:.2f}x; the "
          f"run's own work on top: {statistics.median(times['runner']) / base - floor:.2f}x")
    if args.baseline is not None:
        for name in ("runner", "plan_only"):
            after, before = (statistics.median(times[n]) for n in (name, f"{name}@baseline"))
            print(f"{name}: {before:.3f} s (baseline) -> {after:.3f} s = {after / before:.2f}x")
    print("\n".join(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
