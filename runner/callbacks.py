"""Hydra callbacks. They run in the process that launches the jobs, whatever the launcher
(basic, joblib, Ray, SLURM), so the sweep report is written where the sweep root is known.

Before launching, Hydra's sweeper composes every job's config once to find a bad one early
(`Sweeper.validate_batch_is_legal`, about 0.1-0.3 s per job: half a minute for 100 jobs).
`RememberSweep` makes that step show its progress (`validating sweep jobs: 12/100 ...`, a bar on
a terminal: runner/shared/progress.py); what it checks is unchanged.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from hydra.experimental.callback import Callback

# Sweep roots started in this process; runner.__main__ writes their reports when Hydra returns
# (also when a job failed, when Hydra skips on_multirun_end).
SWEEP_DIRS: list[Path] = []
VALIDATING = "validating sweep jobs"


class RememberSweep(Callback):
    def on_multirun_start(self, config: Any, **kwargs: Any) -> None:
        from runner.shared.hydra_cli import COMMAND

        COMMAND.started()  # composition succeeded: from here on, stderr is the user's
        SWEEP_DIRS.append(Path(config.hydra.sweep.dir))
        show_validation()


def show_validation() -> None:
    """Make every sweeper's validation of a batch report its progress (idempotent)."""
    from hydra.plugins.sweeper import Sweeper

    current = Sweeper.validate_batch_is_legal
    if getattr(current, "__module__", None) != __name__:
        _validate.original = current  # type: ignore[attr-defined]
        Sweeper.validate_batch_is_legal = _validate  # type: ignore[method-assign]


def _validate(self: Any, batch: Sequence[Sequence[str]]) -> None:
    """Hydra's own check, one job at a time, counting."""
    from runner.shared.logs import ensure_console
    from runner.shared.progress import Progress

    ensure_console()
    with Progress(VALIDATING, len(batch), unit="jobs") as progress:
        for number, overrides in enumerate(batch):
            try:
                _validate.original(self, [overrides])  # type: ignore[attr-defined]
            except Exception as exc:  # one job's config cannot be composed: one line, exit 2
                raise SystemExit(_refuse(number, overrides, exc)) from None
            progress.update()


def _refuse(number: int, overrides: Sequence[str], exc: Exception) -> int:
    """Print the one `error:` line for sweep job `number` (nothing has run yet); exit 2."""
    import sys

    from runner.shared.errors import EXIT_INVALID
    from runner.shared.hydra_errors import launcher_hint, one_line, shorten
    from runner.shared.secrets import mask

    _forget_empty_sweep()
    line = one_line(str(exc)).removeprefix("error: ")
    print(shorten(mask(launcher_hint(f"error: sweep job #{number} ({' '.join(overrides)}): "
                                     f"{line}; nothing was run"))), file=sys.stderr)
    return EXIT_INVALID


def _forget_empty_sweep() -> None:
    """The refused sweep's root holds only Hydra's multirun.yaml: no report, no folder left."""
    import contextlib

    if not SWEEP_DIRS:
        return
    root = SWEEP_DIRS.pop()
    with contextlib.suppress(OSError):
        if {p.name for p in root.iterdir()} <= {"multirun.yaml"}:
            (root / "multirun.yaml").unlink(missing_ok=True)
            root.rmdir()
            root.parent.rmdir()  # the date folder, when this sweep was all it held
