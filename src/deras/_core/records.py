"""What storage hands back: runs, attempts, materializations, check results, ticks, backfills."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from . import tags as deras_tags
from .status import BackfillStatus, NodeStatus, RunStatus, TickStatus, UnitStatus


class TargetKind(StrEnum):
    """What a run is of: a selection of assets, an asset job, or a DAG."""

    ASSETS = "assets"
    JOB = "job"
    DAG = "dag"


@dataclass(frozen=True, slots=True)
class RunTarget:
    """What a run is of: ``RunTarget.assets()``, ``RunTarget.job("daily")``, ``RunTarget.dag("etl")``.

    ``name`` is the job's name or the DAG's id (None for assets: the run's ``selection`` says
    which). ``label`` is the text runs show when nothing more telling is given.

    >>> RunTarget.dag("etl").label
    'dag:etl'
    """

    kind: TargetKind
    name: str | None = None

    def __post_init__(self) -> None:
        if (self.kind is TargetKind.ASSETS) != (self.name is None):
            raise ValueError(f"a {self.kind} target {'has no' if self.name else 'needs a'} name")

    @classmethod
    def assets(cls) -> RunTarget:
        return cls(TargetKind.ASSETS)

    @classmethod
    def job(cls, name: str) -> RunTarget:
        return cls(TargetKind.JOB, name)

    @classmethod
    def dag(cls, dag_id: str) -> RunTarget:
        return cls(TargetKind.DAG, dag_id)

    @property
    def label(self) -> str:
        return f"{self.kind}:{self.name or '*'}"


@dataclass(slots=True)
class RunRecord:
    """A run: what it targets, for which partition, and how it ended.

    ``target`` is a label for people (``"job:daily"``, ``"assets:a,b"``, ``"dag:etl"``); code
    decides by :attr:`run_target` (from ``dag_id`` and ``job_name``), never by the label.
    ``selection`` the node ids planned; ``code_location`` how to load the code again
    (``{"file": ...}`` or ``{"module": ...}``) for re-execution and debugging.

    A DAG run has ``dag_id``, ``logical_date`` (aware, in UTC: the DAG's own calendar is
    ``in_dag_timezone``) and ``run_type`` (``manual``, ``scheduled``, ``backfill``,
    ``asset_triggered``); other runs have None. Runs are built by ``_core/new_runs.py``.

    The last fields serve the daemon: ``idempotency_key`` makes creating the same run twice
    (a tick or backfill step retried after a crash) a no-op; the run queue launches higher
    ``priority`` first; the process executing the run (a worker, ``deras materialize``) says who it
    is in ``worker`` (``{"host", "pid", "started", "pidns"}``) and refreshes ``heartbeat``, so a
    run whose process died can be found and failed.
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
    idempotency_key: str | None = None
    priority: int = 0
    heartbeat: float | None = None
    worker: dict[str, Any] | None = None
    dag_id: str | None = None
    logical_date: datetime | None = None
    run_type: str | None = None

    @property
    def run_target(self) -> RunTarget:
        if self.dag_id is not None:
            return RunTarget.dag(self.dag_id)
        return RunTarget.job(self.job_name) if self.job_name else RunTarget.assets()

    @property
    def logical_date_text(self) -> str | None:
        """A DAG run's logical date as its DAG's calendar writes it (the tag deras set), else ISO UTC."""
        if self.logical_date is None:
            return None
        return self.tags.get(deras_tags.LOGICAL_DATE) or self.logical_date.isoformat()

    @property
    def scope(self) -> str:
        """What the run was for: its partition, its range (``first…last``), or a DAG run's
        logical date; empty for a run of everything."""
        if self.partition_key:
            return self.partition_key
        if self.partition_range:
            return "…".join(self.partition_range)
        return self.logical_date_text or ""

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
            "priority": self.priority,
            "dag_id": self.dag_id,
            "run_type": self.run_type,
            "logical_date": self.logical_date_text,
        }


@dataclass(slots=True)
class AttemptRecord:
    """One attempt of one node in one run (attempt 0 is the first try).

    ``start_time`` is None for an attempt that never started: a node skipped before it ran
    (an upstream failed, a blocking check, a branch, a cancel) has a row but had no try.
    """

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


@dataclass(slots=True)
class TickRecord:
    """One evaluation of a schedule or sensor (``instigator``, e.g. ``"schedule:nightly"``).

    ``(instigator, tick_time)`` is unique: ``tick_time`` is the scheduled instant of a schedule
    tick or the evaluation slot of a sensor, so a tick happens at most once whoever evaluates
    it. While ``started``, ``owner`` holds it until ``lease_until``; after that another daemon
    may take it over.
    """

    id: int
    instigator: str
    tick_time: float
    status: TickStatus
    run_ids: list[str] = field(default_factory=list)
    skip_reason: str | None = None
    error: str | None = None
    cursor: str | None = None
    owner: str | None = None
    lease_until: float | None = None
    start_time: float | None = None
    end_time: float | None = None


@dataclass(slots=True)
class InstigatorState:
    """A schedule's, sensor's or DAG's stored state: on/off (None: its definition's default), cursor."""

    name: str
    status: str | None = None
    cursor: str | None = None
    updated_time: float | None = None


@dataclass(slots=True)
class BackfillRecord:
    """A request to run a target over many partitions, done as units (:class:`BackfillUnit`)."""

    backfill_id: str
    status: BackfillStatus
    target: dict[str, Any]
    code_location: dict[str, Any] | None = None
    tags: dict[str, str] = field(default_factory=dict)
    run_config: dict[str, Any] = field(default_factory=dict)
    policy: dict[str, Any] | None = None
    parent_backfill_id: str | None = None
    num_units: int = 0
    create_time: float = 0.0
    end_time: float | None = None
    error: str | None = None


@dataclass(slots=True)
class BackfillUnit:
    """One run's worth of a backfill: ``partition_key`` (to ``partition_last`` for a range).

    ``(backfill_id, stage, partition_key)`` is unique, so a partition is queued once per stage;
    ``idx`` orders the units within their stage.
    """

    backfill_id: str
    stage: int
    partition_key: str
    partition_last: str | None
    idx: int
    status: UnitStatus = UnitStatus.PENDING
    run_id: str | None = None
