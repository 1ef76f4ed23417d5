"""Creating a run record for a plan and executing it in this process."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .._core.errors import RunFailedError
from .._core.new_runs import new_run
from .._core.records import RunRecord, RunTarget
from .._core.status import RunStatus
from .._defs.run_config import check_run_config
from .._plan.plan import RunPlan
from .coordinator import coordinate
from .ports import InstanceLike
from .result import ExecutionResult


def execute_run(
    instance: InstanceLike,
    plan: RunPlan,
    resources: Mapping[str, Any],
    *,
    target: RunTarget,
    label: str | None = None,
    tags: Mapping[str, str] | None = None,
    run_config: Mapping[str, Any] | None = None,
    code_location: dict[str, str] | None = None,
    parent: RunRecord | None = None,
    executor: Any = None,
    echo_output: bool = False,
    on_node_done: Any = None,
    raise_on_error: bool = False,
    writer: Any = None,
    dag_run: Any = None,
    run: RunRecord | None = None,
    control: Any = None,
) -> ExecutionResult:
    """Record a run of ``plan`` and execute it; the result says how it ended.

    The new run record is of ``target`` (shown as ``label``); a DAG run's logical date and
    type come from ``dag_run``. With ``run`` (a stored, queued run a worker picked up) no new
    record is made: the run's own id, tags and config are used and the other record arguments
    are ignored.
    """
    from .._defs.executor_choice import choose_executor

    executor = choose_executor(executor, instance=instance)
    stored = run is not None
    # Checked before anything is recorded or runs: a bad config is the caller's error, not a run's.
    nodes = plan.graph.nodes
    checked = check_run_config(
        (nodes[n].config for n in plan.node_ids),
        run.run_config if run is not None else run_config,
        known=(n.config for n in nodes.values()),  # a re-execution keeps config of steps it skips
    )
    if run is None:
        run_config = checked
    run = run or new_run(
        target,
        label=label,
        status=RunStatus.STARTED,
        selection=plan.node_ids,
        partition_key=plan.partition_key,
        partition_range=plan.partition_range,
        logical_date=None if dag_run is None else dag_run.logical_date,
        run_type=None if dag_run is None else dag_run.run_type,
        tags=tags,
        run_config=run_config,
        code_location=code_location,
        parent=parent,
    )
    execution = coordinate(
        run,
        plan,
        instance,
        dict(resources),
        executor=executor,
        echo_output=echo_output,
        on_node_done=on_node_done,
        writer=writer,
        dag_run=dag_run,
        control=control,
        stored=stored,
    )
    result = ExecutionResult(execution)
    if raise_on_error and not result.success:
        failures = result.failure_events()
        non_check = [e for e in failures if not _is_check(plan, e.node)]
        if non_check:
            first = non_check[0]
            raise RunFailedError(
                f"run {run.run_id} failed: {first.node}: {first.data.get('error')}\n"
                + first.data.get("traceback", ""),
                run.run_id,
            )
    return result


def _is_check(plan: RunPlan, node_id: str | None) -> bool:
    return node_id is not None and node_id in plan.graph.nodes and plan.graph.nodes[node_id].check is not None
