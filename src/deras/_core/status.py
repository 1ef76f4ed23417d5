"""Run, node, tick and backfill statuses, as string enums so they store and print as plain words."""

from __future__ import annotations

from enum import StrEnum


class RunStatus(StrEnum):
    QUEUED = "queued"
    STARTING = "starting"
    STARTED = "started"
    SUCCESS = "success"
    FAILURE = "failure"
    CANCELING = "canceling"
    CANCELED = "canceled"

    @property
    def is_finished(self) -> bool:
        return self in (RunStatus.SUCCESS, RunStatus.FAILURE, RunStatus.CANCELED)

    @property
    def is_active(self) -> bool:
        """Claimed and not finished: some process owns the run (or is about to)."""
        return self in (RunStatus.STARTING, RunStatus.STARTED, RunStatus.CANCELING)


class NodeStatus(StrEnum):
    """Outcome of one node (asset, check or task) within one run."""

    PENDING = "pending"
    RUNNING = "running"
    UP_FOR_RETRY = "up_for_retry"
    SUCCESS = "success"
    FAILED = "failed"
    SKIPPED = "skipped"
    UPSTREAM_FAILED = "upstream_failed"

    @property
    def is_finished(self) -> bool:
        return self in (
            NodeStatus.SUCCESS,
            NodeStatus.FAILED,
            NodeStatus.SKIPPED,
            NodeStatus.UPSTREAM_FAILED,
        )


class PartitionState(StrEnum):
    MATERIALIZED = "materialized"
    FAILED = "failed"
    IN_PROGRESS = "in_progress"


class TickStatus(StrEnum):
    """Outcome of one evaluation of a schedule or sensor (a tick)."""

    STARTED = "started"
    SUCCESS = "success"
    SKIPPED = "skipped"
    FAILURE = "failure"

    @property
    def is_finished(self) -> bool:
        return self is not TickStatus.STARTED


class BackfillStatus(StrEnum):
    REQUESTED = "requested"
    COMPLETED = "completed"
    COMPLETED_WITH_FAILURES = "completed_with_failures"
    FAILED = "failed"
    CANCELING = "canceling"
    CANCELED = "canceled"

    @property
    def is_finished(self) -> bool:
        return self in (
            BackfillStatus.COMPLETED,
            BackfillStatus.COMPLETED_WITH_FAILURES,
            BackfillStatus.FAILED,
            BackfillStatus.CANCELED,
        )


class UnitStatus(StrEnum):
    """State of one unit of a backfill: a partition, or a range of them run as one run."""

    PENDING = "pending"
    QUEUED = "queued"
    SUCCESS = "success"
    FAILURE = "failure"
    CANCELED = "canceled"
    SKIPPED = "skipped"

    @property
    def is_finished(self) -> bool:
        return self in (UnitStatus.SUCCESS, UnitStatus.FAILURE, UnitStatus.CANCELED, UnitStatus.SKIPPED)
