"""`python -m runner`: the thin Hydra entry point.

Hydra exits 1 by itself when composition fails (unknown option, unknown key, bad override); such a
failure happens before the run starts, so it is mapped to exit 2 like every other invalid input.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import ClassVar

import hydra
from omegaconf import DictConfig

from runner.errors import EXIT_INVALID, EXIT_OK


def config_path() -> str:
    """conf/ of the source tree when present, else the copy shipped inside the wheel."""
    source = Path(__file__).resolve().parents[1] / "conf"
    return str(source) if (source / "config.yaml").is_file() else "pkg://runner.conf"


class _Exit:
    """What the task function saw: whether a run started, and each job's exit code."""

    started = False
    codes: ClassVar[list[int]] = []


@hydra.main(version_base="1.3", config_path=config_path(), config_name="config")
def _task(cfg: DictConfig) -> int:
    from hydra.core.hydra_config import HydraConfig

    from runner.app import main as run_main

    _Exit.started = True
    code = run_main(cfg, Path(HydraConfig.get().runtime.output_dir))
    _Exit.codes.append(code)
    return code


def worst(codes: list[int]) -> int:
    """A sweep's exit code: interrupted > invalid > failed > SLO breach > ok."""
    for code in (143, 130, 2, 1, 3):
        if code in codes:
            return code
    return EXIT_OK


def main() -> None:
    try:
        _task()
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        if code != EXIT_OK and not _Exit.started:
            code = EXIT_INVALID
        sys.exit(code)
    sys.exit(worst(_Exit.codes))


if __name__ == "__main__":
    main()
