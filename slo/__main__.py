"""`python -m slo`: nightly error-budget report, one run's report, or an OpenSLO export.

SIGINT/SIGTERM are handled as in `python -m runner` (runner/shared/signals.py): no traceback,
exit 130 /
143; the nightly report stops reading run folders at once and writes nothing.
"""

from __future__ import annotations

import sys

import hydra
from omegaconf import DictConfig

from runner.shared.hydra_cli import COMMAND, config_path


@hydra.main(version_base="1.3", config_path=config_path(), config_name="nightly")
def _task(cfg: DictConfig) -> int:
    from slo.nightly import main as nightly_main

    COMMAND.started()
    return COMMAND.finished(nightly_main(cfg))


def main() -> None:
    from runner.shared import signals

    signals.install()
    if sys.argv[1:] == ["--version"]:  # the project's version, not Hydra's (Hydra owns the flag)
        from runner import __version__

        print(f"pre-execution-runner {__version__}")
        sys.exit(0)
    signals.set_stage("stopping: no report is written")
    sys.exit(signals.finish(COMMAND.run(_task)))


if __name__ == "__main__":
    main()
