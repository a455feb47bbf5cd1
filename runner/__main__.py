"""`python -m runner`: the thin Hydra entry point (exit codes and errors: runner/cli.py).

After a multirun sweep, the sweep root gets sweep_report.json/.md, also when jobs failed.
"""

from __future__ import annotations

import sys
from pathlib import Path

import hydra
from omegaconf import DictConfig

from runner.cli import HydraCommand, config_path

COMMAND = HydraCommand()
SWEEP_DIRS: list[Path] = []


@hydra.main(version_base="1.3", config_path=config_path(), config_name="config")
def _task(cfg: DictConfig) -> int:
    from hydra.core.hydra_config import HydraConfig
    from hydra.types import RunMode

    from runner.app import main as run_main

    COMMAND.started()
    hydra_config = HydraConfig.get()
    sweep_job = hydra_config.mode == RunMode.MULTIRUN
    if sweep_job and not SWEEP_DIRS:
        SWEEP_DIRS.append(Path(hydra_config.sweep.dir))
    return COMMAND.finished(run_main(cfg, Path(hydra_config.runtime.output_dir),
                                     sweep_job=sweep_job))


def _sweep_report() -> None:
    """Compare the sweep's jobs at its root; a failure here must not hide the jobs' exit code."""
    for sweep_dir in SWEEP_DIRS:
        try:
            from slo.sweep import write_sweep_report

            written = write_sweep_report(sweep_dir)
            print(f"sweep report: {written[0]}")
        except Exception as exc:  # reported, never fatal: the job folders are intact
            print(f"error: sweep report for {sweep_dir} failed: {type(exc).__name__}: {exc}",
                  file=sys.stderr)


def main() -> None:
    sys.exit(COMMAND.run(_task, after=_sweep_report))


if __name__ == "__main__":
    main()
