"""Clearing task instances: running them again in the same DAG run, with the next try number."""

from __future__ import annotations

from typing import Any

from .._core.errors import DerasError
from .._core.status import NodeStatus


def clear_task_instances(
    dag: Any, instance: Any, run_id: str, task_ids: list[str], *, downstream: bool = False
) -> Any:
    """Run ``task_ids`` (and with ``downstream`` every task after them) again in run ``run_id``.

    Tasks not cleared keep their outcome and XComs; each cleared task's next attempt has the
    next try number. The run's state is decided again from all its tasks.
    """
    from .._exec.coordinator import Resume, coordinate
    from .._exec.dag_run_info import DagRunInfo
    from .._plan.plan import plan_run
    from .dag_run import DagRun, in_dag_timezone

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
    from .._defs.params import resolve_params

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
    return DagRun(dag, instance.get_run(run_id), instance)
