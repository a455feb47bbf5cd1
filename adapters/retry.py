"""Retry timing for idempotent exchange calls: exponential backoff with full jitter."""

from __future__ import annotations

import random
from dataclasses import dataclass


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with full jitter for idempotent calls (AWS architecture blog style)."""

    max_attempts: int = 3
    base_delay_s: float = 0.05
    max_delay_s: float = 2.0

    def delay(self, attempt: int, rng: random.Random) -> float:
        """Sleep before attempt `attempt + 1`; never longer than max_delay_s."""
        return rng.uniform(0, min(self.max_delay_s, self.base_delay_s * 2 ** (attempt - 1)))
