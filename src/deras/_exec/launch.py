"""Creating a run record for a plan and executing it in this process."""

from __future__ import annotations

import time
import uuid
from collections.abc import Mapping
from typing import Any

from .._core.errors import RunFailedError
from .._core.records import RunRecord
from .._core.status import RunStatus
from .._plan.plan import RunPlan
from .coordinator import coordinate
from .result import ExecutionResult


def new_run_id() -> str:
    return str(uuid.uuid4())


def execute_run(
    instance: Any,
    plan: RunPlan,
    resources: Mapping[str, Any],
    *,
    target: str,
    job_name: str | None = None,
    tags: Mapping[str, str] | None = None,
    run_config: Mapping[str, Any] | None = None,
    code_location: dict[str, str] | None = None,
    parent_run_id: str | None = None,
    root_run_id: str | None = None,
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

    With ``run`` (a stored, queued run a worker picked up) no new record is made: the run's
    own id, tags and config are used and the other record arguments are ignored.
    """
    from .executor_choice import choose_executor

    executor = choose_executor(executor, instance=instance)
    stored = run is not None
    run = run or RunRecord(
        run_id=new_run_id(),
        target=target,
        status=RunStatus.STARTED,
        job_name=job_name,
        partition_key=plan.partition_key,
        partition_range=plan.partition_range,
        tags=dict(tags or {}),
        run_config=dict(run_config or {}),
        selection=list(plan.node_ids),
        code_location=code_location,
        parent_run_id=parent_run_id,
        root_run_id=root_run_id,
        create_time=time.time(),
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
