"""What every Hydra command of this project shares: where the configs are, and the project's
exit codes (`python -m runner`, `python -m slo`).

Hydra exits 1 by itself when composition fails (unknown option, unknown key, bad override); such a
failure happens before the task starts, so it is mapped to exit 2 like every other invalid input,
with Hydra's message or traceback worded as one line (runner/shared/hydra_errors.py;
HYDRA_FULL_ERROR=1 shows it all).
"""

from __future__ import annotations

import io
import os
import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

from runner.shared.errors import EXIT_INVALID, EXIT_OK, ConfigError
from runner.shared.hydra_errors import (
    config_file_of,
    failure_line,
    launcher_hint,
    one_line,
    shorten,
)


def config_path() -> str:
    """conf/ of the source tree when present, else the copy shipped inside the wheel."""
    source = Path(__file__).resolve().parents[2] / "conf"
    return str(source) if (source / "config.yaml").is_file() else "pkg://runner.conf"


# Hydra's default sweeper: it expands lists, range() and choice(), and raises on interval().
BASIC_SWEEPER = "hydra._internal.core_plugins.basic_sweeper.BasicSweeper"


def unsupported_sweep(config: Any) -> str | None:
    """Why the configured sweeper cannot take the sweep overrides, or None.

    BasicSweeper raises on interval() only once the sweep has begun, as a traceback and exit 1;
    checked in on_multirun_start it is one line and exit 2 like any other invalid input.
    """
    from hydra.core.override_parser.overrides_parser import OverridesParser

    if config.hydra.sweeper.get("_target_") != BASIC_SWEEPER:
        return None
    overrides = OverridesParser.create().parse_overrides(list(config.hydra.overrides.task))
    for override in overrides:
        if override.is_sweep_override() and not override.is_discrete_sweep():
            return (f"{override.input_line}: interval() needs a sweeper that samples it, e.g. "
                    "hydra/sweeper=optuna or ax (its plugin installed); allowed with the basic "
                    "sweeper: a list a,b,c, range(start,stop,step) or choice(a,b,c)")
    return None


def worst(codes: list[int]) -> int:
    """Several jobs' exit code: interrupted > invalid > failed > SLO breach > ok."""
    for code in (143, 130, 2, 1, 3):
        if code in codes:
            return code
    return EXIT_OK


class HydraCommand:  # one per process: COMMAND below
    """Runs a `@hydra.main` function and turns what happened into the project's exit code.

    The task function calls `started()` first thing, then returns its exit code to `finished()`.
    """

    def __init__(self) -> None:
        self.has_started = False
        self.codes: list[int] = []
        self._held = io.StringIO()  # Hydra's stderr until the first job starts
        self._stderr = sys.stderr

    def started(self) -> None:
        self.has_started = True
        self._release()

    def finished(self, code: int) -> int:
        self.codes.append(code)
        return code

    def _failure(self, exc: SystemExit) -> str:
        """The one line for a composition failure: Hydra's own message folded, or, when Hydra
        printed a traceback, the exception it exited on (the SystemExit's context)."""
        from runner.shared.secrets import mask

        line = one_line(self._held.getvalue())
        try:
            from hydra.errors import CompactHydraException

            cause = exc.__context__
            if isinstance(cause, Exception) and not isinstance(cause, CompactHydraException):
                line = failure_line(cause, sys.argv[1:])
            elif isinstance(cause, Exception):  # e.g. a bad ${...} in a file: name the file
                source = config_file_of(cause)
                if source and source not in line:
                    line = f"error: {source}: {line.removeprefix('error: ')}"
        except Exception:  # describing the failure must never become the failure
            pass
        return shorten(mask(launcher_hint(line)))

    def _release(self) -> None:
        """Give stderr back and pass on whatever Hydra wrote while it was held."""
        if sys.stderr is self._held:
            sys.stderr = self._stderr
            sys.stderr.write(self._held.getvalue())

    def run(self, hydra_main: Callable[[], Any],
            after: Callable[[], list[int]] | None = None) -> int:
        """Call Hydra's entry point; returns the exit code (the caller passes it to sys.exit).

        `after` runs once Hydra has returned (or failed) and may add exit codes, e.g. those of
        sweep jobs that ran in other processes.
        """
        if os.environ.get("HYDRA_FULL_ERROR") != "1":
            sys.stderr = self._held
        try:
            hydra_main()
            code = worst(self.codes)
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
            if code != EXIT_OK and not self.has_started:
                code = EXIT_INVALID
                if sys.stderr is self._held:
                    sys.stderr = self._stderr
                    print(self._failure(exc), file=sys.stderr)
            else:
                code = worst([*self.codes, code])
        except Exception:  # HYDRA_FULL_ERROR=1: Hydra re-raises instead of exiting
            if self.has_started:
                raise
            self._release()
            traceback.print_exc()
            code = EXIT_INVALID
        finally:
            self._release()
        if after is not None and self.has_started:
            code = worst([code, *after()])
        return code


# The command of this process. A sweep's launching process never runs a job itself with
# launchers such as joblib, so runner.callbacks marks it started when the sweep begins.
COMMAND = HydraCommand()


def resolve(cfg: Any) -> dict[str, Any]:
    """The composed config as plain data; an interpolation that cannot resolve is a config error."""
    from omegaconf import OmegaConf
    from omegaconf.errors import OmegaConfBaseException

    try:
        return OmegaConf.to_container(cfg, resolve=True, throw_on_missing=True)
    except OmegaConfBaseException as exc:
        key = getattr(exc, "full_key", None) or "<config>"
        message = str(exc).splitlines()[0]
        raise ConfigError(f"{key}: {message}; set it on the command line or in conf/") from None


def report_config_error(error: ConfigError) -> int:
    from runner.shared.secrets import mask

    for problem in error.problems:
        print(shorten(mask(f"error: {problem}")), file=sys.stderr)
    return EXIT_INVALID
