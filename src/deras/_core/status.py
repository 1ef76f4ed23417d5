"""Run and node statuses, as string enums so they store and print as plain words."""

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
