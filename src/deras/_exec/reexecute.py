"""Re-executing a past run, optionally only from its failure."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .._core import tags as deras_tags
from .._core.errors import DerasError
from .._core.records import RunRecord
from .._plan.plan import RunPlan, plan_from_failure, plan_run, run_partition_keys
from .launch import execute_run
from .ports import InstanceLike
from .result import ExecutionResult


@dataclass(slots=True)
class Reexecution:
    """What re-executing ``parent`` runs: its plan, tags and the definitions it was checked with."""

    parent: RunRecord
    plan: RunPlan
    tags: dict[str, str]
    definitions: Any


def plan_reexecution(
    instance: InstanceLike, run_id: str, *, from_failure: bool = True, definitions: Any = None
) -> Reexecution:
    """Check that run ``run_id`` can run again and plan it (raises ``DerasError`` saying why not).

    Used by ``reexecute_run`` (here, now) and by launches that queue the re-execution as a
    child run for the daemon (the code server's ``{"reexecute": run_id}``).
    """
    parent = instance.get_run(run_id)
    if parent is None:
        raise DerasError(f"no run with id {run_id}")
    if parent.dag_id is not None:
        dag_id = parent.dag_id
        raise DerasError(
            f"run {run_id} is a run of DAG '{dag_id}': re-run its tasks in the same run with "
            f"`deras tasks clear {dag_id} --run {run_id} --task TASK [--downstream]`"
        )
    if definitions is None:
        if not parent.code_location:
            raise DerasError(
                f"run {run_id} recorded no code location; pass definitions= (or -f/-m on the CLI)"
            )
        from .._defs.loader import load_definitions

        definitions = load_definitions(**parent.code_location).definitions
    graph = definitions.asset_graph
    parent_nodes = [n for n in (parent.selection or []) if n in graph.nodes]
    if from_failure:
        if parent.status.value not in ("failure", "canceled"):
            raise DerasError(
                f"run {run_id} is {parent.status}; only a failed or canceled run re-executes from failure"
            )
        node_ids = plan_from_failure(graph, parent_nodes, instance.store.get_node_outcomes(run_id))
    else:
        node_ids = parent_nodes
    keys = run_partition_keys(graph, parent_nodes, parent.partition_key, parent.partition_range)
    plan = plan_run(
        graph,
        node_ids=node_ids,
        partition_keys=keys,
        dynamic_partitions_store=instance.dynamic_partitions_store,
    )
    tags = dict(parent.tags)
    tags[deras_tags.PARENT_RUN_ID] = parent.run_id
    if from_failure:
        tags[deras_tags.FROM_FAILURE] = "true"
    return Reexecution(parent, plan, tags, definitions)


def reexecute_run(
    instance: InstanceLike,
    run_id: str,
    *,
    from_failure: bool = True,
    definitions: Any = None,
    echo_output: bool = False,
    on_node_done: Any = None,
    executor: Any = None,
) -> ExecutionResult:
    again = plan_reexecution(instance, run_id, from_failure=from_failure, definitions=definitions)
    parent = again.parent
    return execute_run(
        instance,
        again.plan,
        again.definitions.resources,
        target=parent.run_target,
        label=parent.target,
        tags=again.tags,
        run_config=parent.run_config,
        code_location=parent.code_location,
        parent=parent,
        echo_output=echo_output,
        on_node_done=on_node_done,
        executor=_executor(executor, again.definitions, parent.job_name),
    )


def _executor(explicit: Any, definitions: Any, job_name: str | None) -> Any:
    """The call's executor, else the job's (a re-execution runs as the job ran), else the code's."""
    job = next((j for j in definitions.jobs if j.name == job_name), None) if job_name else None
    return explicit or getattr(job, "executor", None) or definitions.executor
