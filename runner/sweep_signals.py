"""Signals in a multirun sweep: what Ctrl-C means for the jobs, whatever the launcher.

A Hydra callback (conf/hydra/default.yaml), because callbacks run in the process that launches
the jobs, before the first one starts.  After a stop request no further job starts: with the
basic launcher the jobs run in this process and each later one returns at once as not started
(runner.pipeline.not_started, interrupted.txt in its folder); with joblib, runner/joblib_launch.py
takes over the launch so that workers survive Ctrl-C, queued jobs do not start and a killed
worker costs only the jobs it took down.  The sweep report is written either way (runner/task.py).
"""

from __future__ import annotations

from typing import Any

from hydra.experimental.callback import Callback

from runner.shared import signals

SWEEP = ("no further sweep job starts; running jobs stop after their current step; the sweep "
         "report is still written")
JOBLIB = "hydra_joblib_launcher.joblib_launcher.JoblibLauncher"


class GuardSweep(Callback):
    def on_multirun_start(self, config: Any, **kwargs: Any) -> None:
        from omegaconf import OmegaConf

        signals.set_stage(SWEEP)
        if str(OmegaConf.select(config, "hydra.launcher._target_") or "").endswith(JOBLIB):
            from runner.joblib_launch import patch

            patch()
