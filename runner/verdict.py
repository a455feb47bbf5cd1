"""The run's verdict — result.json's `status` and the exit code — decided here and nowhere else.

The inputs are the facts at the run's end: how the phases ended (the executor's outcome, which
also carries a signal), whether an order's outcome stayed unknown (runner/order_book.py), and the
report phase's SLO summary (ctx.data.slo).  One code must tell the worst thing that happened, so
the rules apply strongest first:

| what happened                                          | status        | exit code  |
|--------------------------------------------------------|---------------|------------|
| a signal stopped the run (also after the last phase)   | `interrupted` | 130 / 143  |
| a phase aborted the run                                | `failed`      | 1          |
| an order's outcome is unknown after reconciliation     | `failed`      | 1          |
| an SLO is breached and `slo.fail_on_breach` is true    | `succeeded`   | 3          |
| otherwise                                              | `succeeded`   | 0          |

An SLO breach keeps `succeeded`: the run did everything it should; its error budget is what
failed.  A phase that failed with `on_failure: continue` does not fail the run.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from runner.shared.errors import (
    EXIT_OK,
    EXIT_RUN_FAILED,
    EXIT_SIGINT,
    EXIT_SIGTERM,
    EXIT_SLO_BREACHED,
)
from runner.shared.run_end import ENDED, FAILED, INTERRUPTED, SUCCEEDED

if TYPE_CHECKING:
    from runner.run_data import SloSummary

STATUSES = ENDED  # result.json's statuses, named in runner/shared/run_end.py


@dataclass(frozen=True)
class Verdict:
    status: str
    exit_code: int
    signal: str | None = None
    # What the verdict adds to the log (one error line each); the phases' own failures are
    # already logged by the executor.
    reasons: tuple[str, ...] = ()

    def interrupted_by(self, signal: str | None) -> Verdict:
        """The same run after a signal that came once the phases were over: a signal wins."""
        if self.status == INTERRUPTED:
            return self
        return replace(self, status=INTERRUPTED, exit_code=signal_exit_code(signal),
                       signal=signal)


def signal_exit_code(signal: str | None) -> int:
    """143 after SIGTERM; 130 after SIGINT or a stop requested without a signal (ctx.stop)."""
    return EXIT_SIGTERM if signal == "SIGTERM" else EXIT_SIGINT


def decide(phases: str, *, signal: str | None = None, unresolved: str | None = None,
           slo: SloSummary | None = None) -> Verdict:
    """`phases`: the executor's outcome status; `signal`: the signal that stopped them;
    `unresolved`: runner/order_book.py's unresolved_line; `slo`: the report phase's summary."""
    if phases not in STATUSES:
        raise ValueError(f"unknown phase outcome '{phases}'; allowed: {', '.join(STATUSES)}")
    reasons = (unresolved,) if unresolved else ()
    if phases == INTERRUPTED:
        return Verdict(INTERRUPTED, signal_exit_code(signal), signal, reasons)
    if phases == FAILED or unresolved:
        return Verdict(FAILED, EXIT_RUN_FAILED, None, reasons)
    if slo is not None and slo.fails_run:
        return Verdict(SUCCEEDED, EXIT_SLO_BREACHED, None, (
            f"SLO breached ({', '.join(slo.breached)}) and slo.fail_on_breach=true: exit 3",))
    return Verdict(SUCCEEDED, EXIT_OK)
