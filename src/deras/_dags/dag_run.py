"""A DAG run as Airflow shows it: its state and task instances, read from the run's record.

Running and clearing DAG runs is execution's business: ``_exec/dag_runs.py``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from .._core.records import RunRecord
from .._core.status import NodeStatus, RunStatus

RUN_TYPES = ("manual", "scheduled", "backfill", "asset_triggered")

_DAG_RUN_STATE = {
    RunStatus.QUEUED: "queued",
    RunStatus.STARTING: "queued",
    RunStatus.STARTED: "running",
    RunStatus.SUCCESS: "success",
    RunStatus.FAILURE: "failed",
    RunStatus.CANCELING: "running",
    RunStatus.CANCELED: "failed",
}


@dataclass(frozen=True, slots=True)
class TaskInstance:
    """One task of one DAG run (``map_index`` ≥ 0 for an instance of a mapped task)."""

    task_id: str
    state: str
    try_number: int
    start_date: datetime | None
    end_date: datetime | None
    map_index: int = -1


class DagRun:
    """A run of a DAG, in Airflow's words: ``state`` is queued, running, success or failed."""

    def __init__(self, dag: Any, run: RunRecord, instance: Any, result: Any = None) -> None:
        self.dag = dag
        self.dag_id: str = dag.dag_id
        self.run_id = run.run_id
        self._run = run
        self._instance = instance
        self.result = result
        if run.logical_date is None:
            raise ValueError(f"run {run.run_id} is not a DAG run: it has no logical date")
        self.run_type = run.run_type or "manual"
        self.logical_date = in_dag_timezone(dag, run.logical_date)
        self.conf = dict(run.run_config.get("conf", {}))

    @property
    def state(self) -> str:
        run = self._instance.get_run(self.run_id) or self._run
        return _DAG_RUN_STATE[run.status]

    @property
    def task_instances(self) -> list[TaskInstance]:
        latest: dict[str, Any] = {}
        for attempt in self._instance.get_attempts(self.run_id):
            latest[attempt.node] = attempt  # attempts come in order: the last one wins
        prefix = f"{self.dag_id}."
        out = []
        for node, a in latest.items():
            if not node.startswith(prefix):
                continue
            task_id, map_index = _split_map_index(node[len(prefix) :])
            # As in Airflow, try_number counts the tries made: a task skipped before it ran
            # (upstream failed, a branch) had none, so it keeps the count it had (0 at first).
            ran = a.start_time is not None
            out.append(
                TaskInstance(
                    task_id,
                    _ti_state(a.status),
                    a.attempt + 1 if ran else a.attempt,
                    _dt(a.start_time if ran else a.end_time),
                    _dt(a.end_time),
                    map_index,
                )
            )
        return out

    def get_task_instance(self, task_id: str, map_index: int = -1) -> TaskInstance:
        for ti in self.task_instances:
            if ti.task_id == task_id and ti.map_index == map_index:
                return ti
        raise KeyError(
            f"DAG run {self.run_id} has no task instance '{task_id}'"
            + (f" [{map_index}]" if map_index >= 0 else "")
        )

    def xcom(self, task_id: str, key: str = "return_value", map_index: int = -1) -> Any:
        """A task's stored XCom value in this run."""
        return self._instance.xcom_store.get(self.dag_id, self.run_id, task_id, key, map_index)

    def __repr__(self) -> str:
        return f"<DagRun {self.dag_id} @ {self.logical_date.isoformat()}: {self.state}>"


def in_dag_timezone(dag: Any, moment: datetime) -> datetime:
    """A naive datetime is a wall time in the DAG's timezone; any datetime comes back in it,
    so ``ds`` is the date of the DAG's own calendar (2025-03-30 in Berlin, not 03-29 in UTC)."""
    from .._defs.wall_clock import resolve

    tz = dag.schedule.tz
    # A wall time in a DST gap means the first valid instant after it, as for schedules.
    return (resolve(moment, tz) if moment.tzinfo is None else moment).astimezone(tz)


def _split_map_index(name: str) -> tuple[str, int]:
    if name.endswith("]") and "[" in name:
        base, _, index = name[:-1].rpartition("[")
        return base, int(index)
    return name, -1


def _ti_state(status: NodeStatus) -> str:
    return {NodeStatus.PENDING: "scheduled"}.get(status, status.value)


def _dt(ts: float | None) -> datetime | None:
    return datetime.fromtimestamp(ts, UTC) if ts is not None else None
