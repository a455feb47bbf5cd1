"""`python -m runner`: the thin Hydra entry point.

Hydra exits 1 by itself when composition fails (unknown option, unknown key, bad override); such a
failure happens before the run starts, so it is mapped to exit 2 like every other invalid input,
and Hydra's several-line message is folded into one line (HYDRA_FULL_ERROR=1 shows it all).
"""

from __future__ import annotations

import io
import os
import sys
import traceback
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
    held = io.StringIO()  # Hydra's stderr until the first job starts
    stderr = sys.stderr


def _release_stderr() -> None:
    """Give stderr back and pass on whatever Hydra wrote while it was held."""
    if sys.stderr is _Exit.held:
        sys.stderr = _Exit.stderr
        sys.stderr.write(_Exit.held.getvalue())


def one_line(message: str) -> str:
    """Fold Hydra's composition error into one line: the problem and the options it offers."""
    noise = ("Set the environment variable HYDRA_FULL_ERROR", "full_key:", "object_type=")
    head: list[str] = []
    options: list[str] = []
    for raw in message.splitlines():
        line = raw.strip()
        if line.startswith("Config search path:"):
            break
        if not line or line.startswith(noise) or set(line) <= {"^"}:
            continue
        (options if raw.startswith("\t") else head).append(line)
    text = "; ".join(line.rstrip(".") for line in head) or "invalid command line"
    return "error: " + text + (" " + ", ".join(options) if options else "")


@hydra.main(version_base="1.3", config_path=config_path(), config_name="config")
def _task(cfg: DictConfig) -> int:
    from hydra.core.hydra_config import HydraConfig

    from runner.app import main as run_main

    _Exit.started = True
    _release_stderr()
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
    if os.environ.get("HYDRA_FULL_ERROR") != "1":
        sys.stderr = _Exit.held
    try:
        _task()
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        if code != EXIT_OK and not _Exit.started:
            code = EXIT_INVALID
            if sys.stderr is _Exit.held:
                sys.stderr = _Exit.stderr
                print(one_line(_Exit.held.getvalue()), file=sys.stderr)
        sys.exit(code)
    except Exception:  # HYDRA_FULL_ERROR=1: Hydra re-raises instead of exiting
        if _Exit.started:
            raise
        _release_stderr()
        traceback.print_exc()
        sys.exit(EXIT_INVALID)
    finally:
        _release_stderr()
    sys.exit(worst(_Exit.codes))


if __name__ == "__main__":
    main()
