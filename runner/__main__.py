"""`python -m runner`: the thin entry point (task: runner/entry.py; exit codes: runner/cli.py).

Secrets are taken care of here, before Hydra composes (runner/secrets.py): `./.env` is loaded
(variables already set win), secret values are registered for masking, secret values given as
overrides are moved into the environment so Hydra's snapshot never holds them, and stdout/stderr
mask them.  It has to happen here: `${oc.env:...}` is resolved from os.environ during the run, and
Hydra writes `.hydra/` and logs the overrides before the task function (runner/entry.py) starts.
"""

from __future__ import annotations

import sys


def main() -> None:
    if sys.argv[1:] == ["--version"]:
        from runner import __version__

        print(f"pre-execution-runner {__version__}")
        sys.exit(0)
    from runner.secrets import protect_process

    sys.argv[1:] = protect_process(sys.argv[1:])
    from runner.cli import COMMAND  # after protect_process: it keeps the masked stderr
    from runner.entry import sweep_reports, task

    sys.exit(COMMAND.run(task, after=sweep_reports))


if __name__ == "__main__":
    main()
