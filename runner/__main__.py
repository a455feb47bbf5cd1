"""`python -m runner`: the thin entry point (task: runner/task.py; exit codes:
runner/shared/hydra_cli.py).

Secrets are taken care of here, before Hydra composes (runner/shared/secrets.py): `./.env` is loaded
(variables already set win), secret values are registered for masking, secret values given as
overrides are moved into the environment so Hydra's snapshot never holds them, stdout/stderr
mask them, and each config Hydra composes has its secret-named values registered before Hydra
can print it (`--cfg`, `--info`, `--help` exit without starting the task).  It has to happen
here: `${oc.env:...}` is resolved from os.environ during the run, and Hydra writes `.hydra/` and
logs the overrides before the task function (runner/task.py) starts.

Signals come first of all (runner/shared/signals.py): SIGINT/SIGTERM are stop requests from the
first line on, so no moment of the process is left to Python's KeyboardInterrupt.

Start-up: Hydra's second composition (only to learn RUN vs MULTIRUN) is skipped when no config
can set `hydra.mode` (runner/shared/run_mode.py).
"""

from __future__ import annotations

import sys


def main() -> None:
    from runner.shared import signals

    signals.install()  # first: a Ctrl-C from here on is a stop request, never a traceback
    if sys.argv[1:] == ["--version"]:
        from runner import __version__

        print(f"pre-execution-runner {__version__}")
        sys.exit(0)
    from runner.shared.hydra_secrets import protect_process

    sys.argv[1:] = protect_process(sys.argv[1:])
    from runner.shared import run_mode

    run_mode.install()  # Hydra composes once, not twice, when no config can set hydra.mode
    from runner.shared.hydra_cli import COMMAND  # after protect_process: it keeps the masked stderr
    from runner.task import sweep_reports, task

    code = COMMAND.run(task, after=sweep_reports)
    sys.exit(signals.finish(code))  # a signal at any point before: 130 / 143


if __name__ == "__main__":
    main()
