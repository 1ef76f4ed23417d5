"""``job.execute_in_process()``: run an op job in this process, as Dagster's tests do."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .._core.errors import DefinitionError
from .._core.records import RunTarget
from .._defs.op_job import JobDefinition, missing_resources
from .._defs.run_config import merge_run_config, normalize_run_config
from .._exec.in_process import InProcessExecutor
from .._exec.launch import execute_run
from .._exec.result import ExecutionResult
from .._graph.graph import Graph
from .._plan.plan import plan_run
from .instance import DerasInstance


def execute_job_in_process(
    job: JobDefinition,
    *,
    run_config: Any = None,
    instance: DerasInstance | None = None,
    resources: Mapping[str, Any] | None = None,
    raise_on_error: bool = True,
    tags: Mapping[str, str] | None = None,
    op_selection: list[str] | None = None,
) -> ExecutionResult:
    """Run ``job``'s ops (all, or ``op_selection``'s) here, whatever executor the job names."""
    bound = {**job.resource_defs, **(resources or {})}
    problems = missing_resources(job, bound)
    if problems:
        raise DefinitionError(problems)
    graph = Graph(job.op_nodes())
    node_ids = list(graph.nodes)
    if op_selection is not None:
        wanted = {f"{job.name}.{handle}" for handle in op_selection}
        unknown = sorted(h for h in op_selection if f"{job.name}.{h}" not in graph.nodes)
        if unknown:
            handles = sorted(n.split(".", 1)[1] for n in graph.nodes)
            raise DefinitionError(
                f"op_selection names {unknown}, not ops of job '{job.name}' (ops: {handles})"
            )
        node_ids = [n for n in node_ids if n in wanted]
    config = merge_run_config(job.config, normalize_run_config(run_config))
    return execute_run(
        instance if instance is not None else DerasInstance.ephemeral(),
        plan_run(graph, node_ids=node_ids),
        bound,
        target=RunTarget.job(job.name),
        label=f"job:{job.name}",
        tags={**job.tags, **(tags or {})},
        run_config=config,
        executor=InProcessExecutor(),
        raise_on_error=raise_on_error,
    )
