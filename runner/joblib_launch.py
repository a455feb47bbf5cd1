"""`hydra/launcher=joblib`, made to survive a dead worker and to stop on a signal.

hydra-joblib-launcher hands every job to one `joblib.Parallel` call on loky.  Three failures follow
from that, and this launch function (put in place by runner/sweep_signals.py) removes them:

- A worker killed (kill -9, the OOM killer): loky kills every other worker with SIGKILL and
  Parallel raises TerminatedWorkerError; Hydra prints its traceback and the jobs that had not
  started are lost from the sweep.  Here results are taken as they come, so only the jobs that
  were running die with the pool (the sweep report shows them crashed: a folder without
  result.json); the jobs that had not started are launched again in a fresh pool.
- Ctrl-C reaches every process of the group, idle workers too.  An idle loky worker dies of
  KeyboardInterrupt, which breaks the pool and SIGKILLs the running jobs before their cleanup.
  Here every worker installs the runner's signal handlers when it starts (loky initializer).
- Jobs queued behind the running ones would still start after Ctrl-C.  Here a job dispatched
  after the stop request carries it and does not start (runner.pipeline.not_started: its folder gets
  interrupted.txt, so the report lists it); the first signal is also forwarded to the workers, so
  `kill -TERM <sweep pid>` stops the running jobs like Ctrl-C does.
"""

from __future__ import annotations

import contextlib
import logging
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from runner.shared import signals

log = logging.getLogger(__name__)


def _worker_started() -> None:
    """loky initializer: the runner's handlers in every worker, so an idle one survives Ctrl-C
    (quiet: the launching process says what happens)."""
    signals.install(announce=False)


def _forward(signum: int) -> None:
    """Pass the sweep's first signal on to its worker processes (they may not have had it)."""
    import psutil

    for child in psutil.Process().children():
        with contextlib.suppress(psutil.Error):
            child.send_signal(signum)


def run_one(idx: int, overrides: Sequence[str], hydra_context: Any, config: Any,
            task_function: Any, singleton_state: dict[Any, Any], started: str,
            stop_signal: int | None) -> tuple[int, Any]:
    """One job, in a worker: mark it started (for the parent, should the pool die), then run it
    as hydra-joblib-launcher does; a stop requested before dispatch makes it return unstarted."""
    from hydra_plugins.hydra_joblib_launcher._core import execute_job

    Path(started, str(idx)).touch()
    if stop_signal is not None:
        signals.note(stop_signal)
    return idx, execute_job(idx, overrides, hydra_context, config, task_function,
                            singleton_state)


def launch(launcher: Any, job_overrides: Sequence[Sequence[str]],
           initial_job_idx: int) -> list[Any]:
    """hydra_joblib_launcher._core.launch, with the three changes above; returns the JobReturns
    of the jobs that returned (a crashed job has none; its folder tells the report)."""
    from hydra.core.singleton import Singleton
    from hydra.core.utils import configure_log, filter_overrides, setup_globals
    from hydra_plugins.hydra_joblib_launcher._core import process_joblib_cfg
    from joblib import Parallel, delayed, parallel_config
    from joblib.externals.loky.process_executor import BrokenProcessPool

    setup_globals()
    config = launcher.config
    configure_log(config.hydra.hydra_logging, config.hydra.verbose)
    sweep_dir = Path(str(config.hydra.sweep.dir))
    sweep_dir.mkdir(parents=True, exist_ok=True)
    joblib_cfg = {k: v for k, v in launcher.joblib.items() if k != "backend"}  # always loky
    process_joblib_cfg(joblib_cfg)
    log.info(f"Joblib.Parallel({','.join(f'{k}={v}' for k, v in joblib_cfg.items())}) is "
             f"launching {len(job_overrides)} jobs")
    log.info(f"Launching jobs, sweep output dir : {sweep_dir}")
    pending = {initial_job_idx + i: list(o) for i, o in enumerate(job_overrides)}
    for idx, overrides in pending.items():
        log.info(f"\t#{idx} : {' '.join(filter_overrides(overrides))}")
    state = Singleton.get_state()
    returns: dict[int, Any] = {}
    with tempfile.TemporaryDirectory(prefix="runner-joblib-") as started, \
            signals.on_stop(_forward), \
            parallel_config(backend="loky", initializer=_worker_started):
        while pending:
            jobs = (delayed(run_one)(idx, overrides, launcher.hydra_context, config,
                                     launcher.task_function, state, started, signals.received())
                    for idx, overrides in list(pending.items()))  # received(): at dispatch
            parallel = Parallel(**joblib_cfg, return_as="generator_unordered")
            try:
                for idx, job_return in parallel(jobs):
                    returns[idx] = job_return
                    del pending[idx]
            except BrokenProcessPool:
                lost = sorted(i for i in pending if Path(started, str(i)).exists())
                for idx in lost:
                    del pending[idx]
                print(f"error: a joblib worker died (killed or out of memory) and took the pool "
                      f"down; job(s) {', '.join(map(str, lost)) or 'none'} ended with it "
                      "(crashed in the sweep report)"
                      + (f"; launching the {len(pending)} job(s) that had not started again"
                         if lost and pending else ""), file=sys.stderr)
                if not lost and pending:  # no job got going: the pool cannot start at all
                    print(f"error: job(s) {', '.join(map(str, pending))} never started",
                          file=sys.stderr)
                    break
    return [returns[idx] for idx in sorted(returns)]


def patch() -> None:
    """Make hydra-joblib-launcher's JoblibLauncher use launch() (idempotent)."""
    from hydra_plugins.hydra_joblib_launcher.joblib_launcher import JoblibLauncher

    if getattr(JoblibLauncher.launch, "__module__", None) != __name__:
        JoblibLauncher.launch = _launch_method  # type: ignore[method-assign]


def _launch_method(self: Any, job_overrides: Sequence[Sequence[str]],
                   initial_job_idx: int) -> list[Any]:
    return launch(self, job_overrides, initial_job_idx)
