"""``RunRetryPolicy``: how the daemon re-launches a failed run of a job or DAG."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from .._core.errors import DefinitionError


@dataclass(frozen=True, slots=True)
class RunRetryPolicy:
    """Re-launch a run that failed (or whose process died) up to ``max_retries`` times.

    ``from_failure`` re-runs only what did not succeed (succeeded steps' outputs are loaded);
    ``delay`` is the wait before each re-launch, in seconds (a ``timedelta`` is converted).
    Set it with ``define_asset_job(..., run_retry_policy=...)`` or ``DAG(..., run_retry_policy=...)``.

    >>> RunRetryPolicy(max_retries=2, delay=timedelta(minutes=1))
    RunRetryPolicy(max_retries=2, from_failure=True, delay=60.0)
    """

    max_retries: int = 1
    from_failure: bool = True
    delay: float | None = None

    def __post_init__(self) -> None:
        if (
            isinstance(self.max_retries, bool)
            or not isinstance(self.max_retries, int)
            or self.max_retries < 0
        ):
            raise DefinitionError(
                f"RunRetryPolicy(max_retries={self.max_retries!r}): must be an integer >= 0"
            )
        if not isinstance(self.from_failure, bool):
            raise DefinitionError(
                f"RunRetryPolicy(from_failure={self.from_failure!r}): must be True or False"
            )
        delay = self.delay
        if isinstance(delay, timedelta):
            delay = delay.total_seconds()
        if delay is not None:
            if isinstance(delay, bool) or not isinstance(delay, int | float) or delay < 0:
                raise DefinitionError(
                    f"RunRetryPolicy(delay={self.delay!r}): must be seconds >= 0 (or a timedelta), or None"
                )
            delay = float(delay)
        object.__setattr__(self, "delay", delay)


def check_run_retry_policy(policy: object, where: str) -> RunRetryPolicy | None:
    """``policy`` if it is None or a ``RunRetryPolicy``; a ``DefinitionError`` naming ``where`` otherwise."""
    if policy is None or isinstance(policy, RunRetryPolicy):
        return policy
    hint = (
        " (RetryPolicy retries one step; a run takes RunRetryPolicy)"
        if type(policy).__name__ == "RetryPolicy"
        else ""
    )
    raise DefinitionError(f"{where}: run_retry_policy={policy!r} is not a dg.RunRetryPolicy{hint}")
