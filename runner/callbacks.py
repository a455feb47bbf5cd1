"""Hydra callbacks. They run in the process that launches the jobs, whatever the launcher
(basic, joblib, Ray, SLURM), so the sweep report is written where the sweep root is known."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hydra.experimental.callback import Callback

# Sweep roots started in this process; runner.__main__ writes their reports when Hydra returns
# (also when a job failed, when Hydra skips on_multirun_end).
SWEEP_DIRS: list[Path] = []


class RememberSweep(Callback):
    def on_multirun_start(self, config: Any, **kwargs: Any) -> None:
        from runner.shared.hydra_cli import COMMAND

        COMMAND.started()  # composition succeeded: from here on, stderr is the user's
        SWEEP_DIRS.append(Path(config.hydra.sweep.dir))
