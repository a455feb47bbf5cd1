"""The order gate: the live guard at the exchange boundary, asked at every order request.

Every request that can create, change or cancel an order passes here at the moment it would
leave the process — from the instrumented wrapper (built-in and `module:function` phases alike)
and again from the HTTP transport of network adapters (so a caller that reaches past the wrapper
to the raw client is judged too).  A validate-only test order is always allowed: it places
nothing.  Anything else needs:

- dry_run=false (with dry_run=true the wrapper turns placements into test orders and the
  transport refuses whatever still tries to place one), and
- for an endpoint that may hold real money — or any run of env=live — env=live plus a
  confirmation that only the shell can give, read afresh at every request.

The confirmation is injected (`confirmation`), so this module knows no config system.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from adapters.endpoints import REAL_MONEY
from adapters.errors import OrderRefused

LIVE_ENV = "live"


def _no_confirmation() -> str | None:
    return "is not available (no confirmation source was given to the order gate)"


@dataclass(frozen=True)
class OrderGate:
    """Decides whether a state-changing order request may leave the process."""

    dry_run: bool = True
    env_name: str | None = None
    # Returns None when the live confirmation is given, else why not (in words).
    confirmation: Callable[[], str | None] = _no_confirmation
    # How to give the confirmation, appended to a refusal.
    hint: str = "real-money orders need env=live, dry_run=false and the live confirmation"

    @property
    def live(self) -> bool:
        return self.env_name == LIVE_ENV

    def refusal(self, action: str, endpoint: str) -> str | None:
        """Why `action` (a non-test order request to an `endpoint` kind) may not leave, or None."""
        if self.dry_run:
            return (f"order guard: {action} refused: dry_run=true lets only test orders leave "
                    "the process (set dry_run=false to place orders)")
        if endpoint == REAL_MONEY or self.live:
            if not self.live:
                return (f"order guard: {action} refused: the endpoint may hold real money and "
                        f"env is {self.env_name or 'not set'}; {self.hint}")
            missing = self.confirmation()
            if missing is not None:
                return f"order guard: {action} refused: the live confirmation {missing}; " \
                       f"{self.hint}"
        return None

    def check(self, action: str, endpoint: str) -> None:
        """Raise OrderRefused unless `action` may leave now."""
        problem = self.refusal(action, endpoint)
        if problem is not None:
            raise OrderRefused(problem)


# What a library user gets without configuring a gate: orders go to loopback and sandbox
# endpoints only; a real-money endpoint is refused (no env=live, no confirmation source).
DEFAULT_GATE = OrderGate(dry_run=False)
