"""Retry policies for node attempts."""

from __future__ import annotations

import random
from dataclasses import dataclass
from enum import StrEnum


class Backoff(StrEnum):
    LINEAR = "linear"
    EXPONENTIAL = "exponential"


class Jitter(StrEnum):
    FULL = "full"  # uniform in [0, delay]
    PLUS_MINUS = "plus_minus"  # uniform in [delay/2, 3*delay/2]


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How often and how long to wait before retrying a failed attempt.

    >>> p = RetryPolicy(max_retries=3, delay=2, backoff=Backoff.EXPONENTIAL)
    >>> [p.delay_for(n) for n in (1, 2, 3)]
    [2.0, 4.0, 8.0]
    """

    max_retries: int = 0
    delay: float = 0
    backoff: Backoff | None = None
    jitter: Jitter | None = None
    max_delay: float | None = None

    def __post_init__(self) -> None:
        if self.max_retries < 0:
            raise ValueError(f"RetryPolicy(max_retries={self.max_retries}): must be 0 or more")
        if self.delay < 0:
            raise ValueError(f"RetryPolicy(delay={self.delay}): must be 0 or more seconds")

    def delay_for(self, retry_number: int, rng: random.Random | None = None) -> float:
        """Seconds to wait before retry ``retry_number`` (1 for the first retry)."""
        base = float(self.delay)
        if self.backoff == Backoff.LINEAR:
            base *= retry_number
        elif self.backoff == Backoff.EXPONENTIAL:
            base *= 2 ** (retry_number - 1)
        if self.max_delay is not None:
            base = min(base, self.max_delay)
        if self.jitter == Jitter.FULL:
            base = (rng or random).uniform(0, base)
        elif self.jitter == Jitter.PLUS_MINUS:
            base = (rng or random).uniform(base / 2, base * 1.5)
        return base
