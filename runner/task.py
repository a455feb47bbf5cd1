"""The Hydra task of `python -m runner`, in an importable module: launchers that run jobs in
other processes (joblib, Ray, SLURM) pickle it by reference instead of by value.

After a multirun sweep, the sweep root gets sweep_report.json/.md, also when jobs failed, and the
command's exit code is the worst of its jobs' (read from their folders, whatever the launcher).

In a sweep, the job's console lines carry its number (`[#3] `: runner/shared/logs.py), set here
for the job's duration, so the lines of parallel jobs can be told apart.

Each job first scrubs Hydra's snapshot (`.hydra/*.yaml`, the sweep's `multirun.yaml`) of secret
values (runner/shared/secrets.py), in the job's own process, so it works with every launcher.
"""

from __future__ import annotations

import sys
from pathlib import Path

import hydra
from omegaconf import DictConfig

from runner.shared.hydra_cli import COMMAND, config_path


@hydra.main(version_base="1.3", config_path=config_path(), config_name="config")
def task(cfg: DictConfig) -> int:
    from hydra.core.hydra_config import HydraConfig
    from hydra.types import RunMode

    from runner.pipeline import main as run_main
    from runner.shared import logs, signals
    from runner.shared.hydra_secrets import register_hydra_config, scrub_snapshot
    from runner.shared.secrets import install_stream_masks, register_environ

    signals.install()  # a launcher's worker process (SLURM, Ray) never ran runner/__main__.py
    COMMAND.started()
    hydra_config = HydraConfig.get()
    run_dir = Path(hydra_config.runtime.output_dir)
    sweep_job = hydra_config.mode == RunMode.MULTIRUN
    register_environ()  # again: a launcher's worker process never ran runner/__main__.py
    register_hydra_config(cfg)
    install_stream_masks()
    subdir = hydra_config.output_subdir
    scrub_snapshot(run_dir / subdir if subdir else None,
                   Path(hydra_config.sweep.dir) if sweep_job else None)
    if sweep_job:
        launcher = str(hydra_config.launcher.get("_target_") or "")
        logs.set_job(hydra_config.job.num, parallel=not launcher.endswith(".BasicLauncher"))
    try:
        return COMMAND.finished(run_main(cfg, run_dir, sweep_job=sweep_job))
    finally:
        logs.set_job(None)  # the basic launcher's next `#N` line is not this job's


def sweep_reports() -> list[int]:
    """Compare each sweep's jobs at its root; returns the jobs' exit codes."""
    from runner.callbacks import SWEEP_DIRS
    from runner.shared.hydra_secrets import scrub_snapshot

    codes: list[int] = []
    for sweep_dir in SWEEP_DIRS:
        try:
            scrub_snapshot(None, sweep_dir)  # also when no job started (each job scrubs it too)
            from slo.report import write_report
            from slo.sweep import sweep_report

            report = sweep_report(sweep_dir)
            written = write_report(report, sweep_dir / "sweep_report")
            readable = next((p for p in written if p.suffix == ".md"), written[0])
            print(f"sweep report: {readable}")
            codes += [1 if j["exit_code"] is None else j["exit_code"] for j in report["jobs"]]
        except Exception as exc:  # reported, never fatal: the job folders are intact
            print(f"error: sweep report for {sweep_dir} failed: {type(exc).__name__}: {exc}",
                  file=sys.stderr)
            codes.append(1)
    return codes
