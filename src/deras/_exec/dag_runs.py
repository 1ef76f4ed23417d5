"""Running a DAG: a new DAG run of all (or some) of its tasks, or clearing tasks of a past one.

Both execute through the run loop; ``_dags/dag_run.py`` reads the outcome as Airflow shows it.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from .._core.errors import DerasError
from .._core.records import RunTarget
from .._core.status import NodeStatus
from .._dags.dag_run import RUN_TYPES, DagRun, in_dag_timezone
from .._dags.run_window import check_in_window
from .._defs.params import resolve_params
from .._plan.plan import plan_run
from .coordinator import Resume, coordinate
from .dag_run_info import DagRunInfo
from .launch import execute_run
from .ports import InstanceLike
from .step import call_with_context


def run_dag(
    dag: Any,
    instance: InstanceLike,
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
    if run_type not in RUN_TYPES:
        raise ValueError(f"run_type {run_type!r}: expected one of {RUN_TYPES}")
    params = resolve_params(dag.params, conf, where=f"DAG '{dag.dag_id}'")
    now = now or datetime.now(UTC)
    if logical_date is None:
        logical_date = dag.schedule.infer_logical_date(now)
    logical_date = in_dag_timezone(dag, logical_date)
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


def clear_task_instances(
    dag: Any, instance: InstanceLike, run_id: str, task_ids: list[str], *, downstream: bool = False
) -> Any:
    """Run ``task_ids`` (and with ``downstream`` every task after them) again in run ``run_id``.

    Tasks not cleared keep their outcome and XComs; each cleared task's next attempt has the
    next try number. The run's state is decided again from all its tasks.
    """
    run = instance.get_run(run_id)
    if run is None:
        raise DerasError(f"no run with id {run_id}")
    if run.dag_id != dag.dag_id or run.logical_date is None:
        raise DerasError(f"run {run_id} is not a run of DAG '{dag.dag_id}'")
    for task_id in task_ids:
        dag.get_task(task_id)
    graph = dag.graph
    cleared = {f"{dag.dag_id}.{t}" for t in task_ids}
    if downstream:
        cleared = graph.closure(cleared, upstream=False)
    resume = Resume({}, {}, {})
    for attempt in instance.get_attempts(run_id):
        base = attempt.node.split("[", 1)[0]
        if base in cleared:
            resume.first_attempts[attempt.node] = max(
                resume.first_attempts.get(attempt.node, 0), attempt.attempt + 1
            )
        else:
            resume.outcomes[attempt.node] = attempt.status
        if attempt.node.endswith("]"):
            index = int(attempt.node[attempt.node.index("[") + 1 : -1])
            resume.map_counts[base] = max(resume.map_counts.get(base, 0), index + 1)
    for base, count in resume.map_counts.items():  # a mapped node's outcome, from its instances
        if base not in cleared:
            states = [resume.outcomes.get(f"{base}[{i}]") for i in range(count)]
            resume.outcomes[base] = NodeStatus.FAILED if NodeStatus.FAILED in states else NodeStatus.SUCCESS
    for base in cleared:  # a cleared mapped node is mapped anew, with tries after the old ones
        for name, first in list(resume.first_attempts.items()):
            if name.startswith(f"{base}["):
                resume.first_attempts[name] = first
        resume.map_counts.pop(base, None)
    logical_date = in_dag_timezone(dag, run.logical_date)
    start, end = dag.schedule.data_interval(logical_date)
    conf = dict(run.run_config.get("conf", {}))
    info = DagRunInfo(
        dag.dag_id,
        logical_date,
        start,
        end,
        run.run_type or "manual",
        conf,
        resolve_params(dag.params, conf, where=f"DAG '{dag.dag_id}'"),
    )
    order = [nid for nid in graph.order if nid in cleared]
    plan = plan_run(graph, node_ids=order)
    coordinate(run, plan, instance, {}, dag_run=info, resume=resume)
    return DagRun(dag, instance.get_run(run_id) or run, instance)


def _dag_callback(dag: Any, dag_run: DagRun, result: Any) -> None:
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
    for one in callback if isinstance(callback, list | tuple) else [callback]:  # Airflow takes lists too
        try:
            call_with_context(one, context)
        except Exception:
            logging.getLogger("deras.dags").exception("DAG %s callback raised (ignored)", dag.dag_id)


def _reason(result: Any) -> str:
    """Why the run ended as it did: "success", or the run's failure message."""
    if result.success:
        return "success"
    failure = next((e for e in result.events if e.event_type.value == "run_failure"), None)
    return failure.message if failure is not None else "failure"
