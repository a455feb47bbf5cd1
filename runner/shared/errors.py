"""Exit codes (the same for every command) and the errors that map onto them."""

from __future__ import annotations

EXIT_OK = 0
EXIT_RUN_FAILED = 1
EXIT_INVALID = 2
EXIT_SLO_BREACHED = 3
EXIT_SIGINT = 130
EXIT_SIGTERM = 143


class ConfigError(Exception):
    """Invalid configuration, plan or input: exit 2 with one line per problem, no traceback."""

    def __init__(self, problems: list[str] | str) -> None:
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        super().__init__("; ".join(self.problems))


class PhaseSkipped(Exception):
    """A phase that cannot apply here (e.g. it needs API keys there are none of): `skipped`,
    with this message as the reason, and not a failure."""


class PhaseError(Exception):
    """A phase found something wrong that it reports in its own words (not retried)."""
