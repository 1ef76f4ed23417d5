"""What storage hands back: runs, attempts, materializations, check results."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .status import NodeStatus, RunStatus


@dataclass(slots=True)
class RunRecord:
    """A run: what it targets, for which partition, and how it ended.

    ``target`` is a human label (``"job:daily"``, ``"assets:a,b"``, ``"dag:etl"``);
    ``selection`` the node ids planned; ``code_location`` how to load the code again
    (``{"file": ...}`` or ``{"module": ...}``) for re-execution and debugging.
    """

    run_id: str
    target: str
    status: RunStatus = RunStatus.QUEUED
    job_name: str | None = None
    partition_key: str | None = None
    partition_range: tuple[str, str] | None = None
    tags: dict[str, str] = field(default_factory=dict)
    run_config: dict[str, Any] = field(default_factory=dict)
    selection: list[str] | None = None
    code_location: dict[str, str] | None = None
    parent_run_id: str | None = None
    root_run_id: str | None = None
    backfill_id: str | None = None
    create_time: float = 0.0
    start_time: float | None = None
    end_time: float | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "target": self.target,
            "status": str(self.status),
            "job_name": self.job_name,
            "partition_key": self.partition_key,
            "partition_range": list(self.partition_range) if self.partition_range else None,
            "tags": self.tags,
            "parent_run_id": self.parent_run_id,
            "root_run_id": self.root_run_id,
            "backfill_id": self.backfill_id,
            "create_time": self.create_time,
            "start_time": self.start_time,
            "end_time": self.end_time,
        }


@dataclass(slots=True)
class AttemptRecord:
    """One attempt of one node in one run (attempt 0 is the first try)."""

    run_id: str
    node: str
    attempt: int
    status: NodeStatus
    start_time: float | None
    end_time: float | None
    error: str | None = None


@dataclass(slots=True)
class MaterializationRecord:
    asset_key: str
    partition: str | None
    run_id: str
    timestamp: float
    metadata: dict[str, Any]
    event_id: int


@dataclass(slots=True)
class CheckResultRecord:
    asset_key: str
    check_name: str
    passed: bool
    severity: str
    run_id: str
    timestamp: float
    metadata: dict[str, Any]
    partition: str | None = None
