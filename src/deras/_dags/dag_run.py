"""Running a DAG: the DAG run record, its task instances, and ``dag.test()``."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from .._core.records import RunRecord, RunTarget
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


def run_dag(
    dag: Any,
    instance: Any,
    *,
    logical_date: datetime | None = None,
    conf: Mapping[str, Any] | None = None,
    run_type: str = "manual",
    now: datetime | None = None,
    echo_output: bool = False,
    on_node_done: Any = None,
    extra_tags: Mapping[str, str] | None = None,
    only_tasks: list[str] | None = None,
    run: Any = None,
    control: Any = None,
    executor: Any = None,
) -> DagRun:
    """Run every task of ``dag`` once and record it as a DAG run.

    The conf is validated against the DAG's params before anything runs. ``run`` is a stored
    (queued) run record to execute instead of creating one: a run worker's DAG run. Tasks run
    on ``executor``, else the DAG's own, else deras.yaml's, else in this process.
    """
    from .._defs.params import resolve_params
    from .._exec.dag_run_info import DagRunInfo
    from .._exec.launch import execute_run
    from .._plan.plan import plan_run

    if run_type not in RUN_TYPES:
        raise ValueError(f"run_type {run_type!r}: expected one of {RUN_TYPES}")
    params = resolve_params(dag.params, conf, where=f"DAG '{dag.dag_id}'")
    now = now or datetime.now(UTC)
    if logical_date is None:
        logical_date = dag.schedule.infer_logical_date(now)
    logical_date = in_dag_timezone(dag, logical_date)
    from .run_window import check_in_window

    check_in_window(dag, logical_date)  # every DAG run executes here: nothing runs outside it
    start, end = dag.schedule.data_interval(logical_date)
    timeout = dag.dagrun_timeout.total_seconds() if dag.dagrun_timeout is not None else None
    info = DagRunInfo(dag.dag_id, logical_date, start, end, run_type, dict(conf or {}), params, timeout)
    node_ids = [f"{dag.dag_id}.{t}" for t in only_tasks] if only_tasks else list(dag.graph.nodes)
    plan = plan_run(dag.graph, node_ids=node_ids)
    result = execute_run(
        instance,
        plan,
        {},
        target=RunTarget.dag(dag.dag_id),
        tags=extra_tags,
        run_config={"conf": dict(conf or {})},
        echo_output=echo_output,
        on_node_done=on_node_done,
        dag_run=info,
        run=run,
        control=control,
        executor=executor if executor is not None else dag.executor,
    )
    dag_run = DagRun(dag, result.run, instance, result)
    _dag_callback(dag, dag_run, result)
    return dag_run


def in_dag_timezone(dag: Any, moment: datetime) -> datetime:
    """A naive datetime is a wall time in the DAG's timezone; any datetime comes back in it,
    so ``ds`` is the date of the DAG's own calendar (2025-03-30 in Berlin, not 03-29 in UTC)."""
    from .._defs.wall_clock import resolve

    tz = dag.schedule.tz
    # A wall time in a DST gap means the first valid instant after it, as for schedules.
    return (resolve(moment, tz) if moment.tzinfo is None else moment).astimezone(tz)


def _dag_callback(dag: Any, dag_run: DagRun, result: Any) -> None:
    from .._exec.step import call_with_context

    callback = dag.on_success_callback if result.success else dag.on_failure_callback
    if callback is None:
        return
    context = {
        "dag": dag,
        "dag_run": dag_run,
        "run_id": dag_run.run_id,
        "logical_date": dag_run.logical_date,
        "reason": _reason(result),
    }
    try:
        call_with_context(callback, context)
    except Exception:
        import logging

        logging.getLogger("deras.dags").exception("DAG %s callback raised (ignored)", dag.dag_id)


def _reason(result: Any) -> str:
    """Why the run ended as it did: "success", or the run's failure message."""
    if result.success:
        return "success"
    failure = next((e for e in result.events if e.event_type.value == "run_failure"), None)
    return failure.message if failure is not None else "failure"


def _split_map_index(name: str) -> tuple[str, int]:
    if name.endswith("]") and "[" in name:
        base, _, index = name[:-1].rpartition("[")
        return base, int(index)
    return name, -1


def _ti_state(status: NodeStatus) -> str:
    return {NodeStatus.PENDING: "scheduled"}.get(status, status.value)


def _dt(ts: float | None) -> datetime | None:
    return datetime.fromtimestamp(ts, UTC) if ts is not None else None
