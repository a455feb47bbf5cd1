"""`python -m runner`: the thin entry point (task: runner/entry.py; exit codes: runner/cli.py)."""

from __future__ import annotations

import sys


def main() -> None:
    if sys.argv[1:] == ["--version"]:
        from runner import __version__

        print(f"pre-execution-runner {__version__}")
        sys.exit(0)
    from runner.cli import COMMAND
    from runner.entry import sweep_reports, task

    sys.exit(COMMAND.run(task, after=sweep_reports))


if __name__ == "__main__":
    main()
