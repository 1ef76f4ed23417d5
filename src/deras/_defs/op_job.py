"""Op jobs: ``@job`` and ``graph.to_job()``; their ops lowered to the nodes every run executes.

An op job is an ``AssetJob`` whose nodes are its own op steps (ids ``job.op``), so schedules,
sensors, the daemon, the CLI and re-execution run it as they run asset jobs.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, overload

from .._core.errors import DefinitionError
from .._graph.node import Node, NodeInput, NodeKind, NodeOutput
from .graph import GraphDefinition, Invocation, OutputHandle
from .job import AssetJob
from .op_types import is_nothing
from .return_type import return_type_of
from .run_config import NodeConfig, normalize_run_config


@dataclass(frozen=True, slots=True)
class OpStep:
    """What a node of an op job executes (``Node.definition``): the op, as invoked in the job."""

    job_name: str
    handle: str
    op: Any
    fan_in: frozenset[str] = frozenset()

    @property
    def source(self) -> str:
        return f"op '{self.handle}' of job '{self.job_name}'"


@dataclass(slots=True, eq=False)
class JobDefinition(AssetJob):
    """A job of ops; ``execute_in_process()`` runs it here, ``Definitions(jobs=[...])`` deploys it."""

    graph_def: Any = None
    resource_defs: dict[str, Any] = field(default_factory=dict)
    invocations: list[Invocation] = field(default_factory=list)

    @classmethod
    def from_graph(
        cls,
        graph_def: GraphDefinition,
        *,
        name: str,
        config: Any = None,
        resource_defs: Mapping[str, Any] | None = None,
        tags: Mapping[str, str] | None = None,
        description: str | None = None,
        executor: Any = None,
        run_retry_policy: Any = None,
    ) -> JobDefinition:
        from .executor_choice import executor_from

        invocations = graph_def.compose()
        job = cls(
            name=name,
            selection=None,
            tags=dict(tags or {}),
            executor=executor_from(executor, where=f"job '{name}'"),
            description=description,
            run_retry_policy=run_retry_policy,
            node_ids=frozenset(f"{name}.{i.handle}" for i in invocations),
            graph_def=graph_def,
            config=normalize_run_config(config, where=f"job '{name}' config"),
            resource_defs=dict(resource_defs or {}),
            invocations=invocations,
        )
        job.op_nodes()  # wiring problems show where the job is defined
        return job

    def op_nodes(self) -> list[Node]:
        """One OP node per invocation; value inputs are data edges, ``Nothing`` ones order edges."""
        name = self.name
        nodes = []
        memo: dict[Any, Any] = {}
        for call in self.invocations:
            op = call.op
            node = Node(
                id=f"{name}.{call.handle}",
                kind=NodeKind.OP,
                fn=op.fn,
                definition=OpStep(name, call.handle, op, frozenset(call.fan_in)),
                outputs=[
                    NodeOutput(out, None)
                    for out, spec in op.outs.items()
                    if not is_nothing(spec.dagster_type)
                ],
                resources=dict(op.resource_params),
                return_type=return_type_of(op.fn, memo),
                context_param=op.context_param,
                retry_policy=op.retry_policy,
                tags=dict(op.tags),
                config=NodeConfig(
                    tuple(call.handle.split(".")),
                    f"op '{call.handle}'",
                    _schema(op),
                    op.config_param,
                ),
            )
            for param, handles in call.inputs.items():
                self._wire(node, call, param, handles)
            nodes.append(node)
        return nodes

    def _wire(self, node: Node, call: Invocation, param: str, handles: list[OutputHandle]) -> None:
        nothing = is_nothing(call.op.ins[param].dagster_type)
        for h in handles:
            upstream = f"{self.name}.{h.handle}"
            if nothing:
                node.deps.append(upstream)
            elif h.output_name in _value_outputs(self, h.handle):
                node.inputs.append(NodeInput(param, upstream, None, output_name=h.output_name))
            else:
                raise DefinitionError(
                    f"job '{self.name}': op '{call.handle}' input '{param}' takes a value, but output "
                    f"'{h.output_name}' of '{h.handle}' is dg.Nothing. Fix: give the input "
                    "dg.In(dg.Nothing) and drop its parameter."
                )

    def execute_in_process(
        self,
        run_config: Any = None,
        *,
        instance: Any = None,
        resources: Mapping[str, Any] | None = None,
        raise_on_error: bool = True,
        tags: Mapping[str, str] | None = None,
        op_selection: list[str] | None = None,
    ) -> Any:
        """Run the job in this process (on an in-memory instance unless ``instance=``).

        ``run_config`` goes over the job's own config; ``resources`` over its ``resource_defs``.
        A config that does not validate raises ``dg.ConfigError`` before anything runs; with
        ``raise_on_error`` a failed op raises ``dg.RunFailedError`` after the run is recorded.
        """
        from .._instance.job_execution import execute_job_in_process

        return execute_job_in_process(
            self,
            run_config=run_config,
            instance=instance,
            resources=resources,
            raise_on_error=raise_on_error,
            tags=tags,
            op_selection=op_selection,
        )

    def __repr__(self) -> str:
        return f"<JobDefinition {self.name}>"


def missing_resources(job: JobDefinition, resources: Mapping[str, Any]) -> list[str]:
    """A problem per resource an op of ``job`` needs that ``resources`` lacks."""
    problems = []
    for call in job.invocations:
        for key in sorted(call.op.resource_keys):
            if key not in resources and key != "io_manager":
                problems.append(
                    f"op '{call.handle}' of job '{job.name}' needs resource '{key}', which nothing provides. "
                    f"Fix: add resource_defs={{'{key}': ...}} to the job or resources={{'{key}': ...}} to "
                    "Definitions."
                )
    return problems


def _schema(op: Any) -> Any:
    from .config import schema_from

    return schema_from(op.config_schema, f"op '{op.name}'") if op.config_schema is not None else None


def _value_outputs(job: JobDefinition, handle: str) -> set[str]:
    for call in job.invocations:
        if call.handle == handle:
            return {o for o, spec in call.op.outs.items() if not is_nothing(spec.dagster_type)}
    return set()


@overload
def job(fn: Callable[..., Any], /) -> JobDefinition: ...
@overload
def job(
    fn: None = None,
    /,
    *,
    name: str | None = None,
    config: Any = None,
    resource_defs: Mapping[str, Any] | None = None,
    tags: Mapping[str, str] | None = None,
    description: str | None = None,
    executor_def: Any = None,
    run_retry_policy: Any = None,
) -> Callable[[Callable[..., Any]], JobDefinition]: ...


def job(
    fn: Callable[..., Any] | None = None,
    /,
    *,
    name: str | None = None,
    config: Any = None,
    resource_defs: Mapping[str, Any] | None = None,
    tags: Mapping[str, str] | None = None,
    description: str | None = None,
    executor_def: Any = None,
    run_retry_policy: Any = None,
) -> JobDefinition | Callable[[Callable[..., Any]], JobDefinition]:
    """A job whose body wires ops, as a ``@graph`` body does; ``config`` is its default run config.

    >>> import deras as dg
    >>> @dg.op
    ... def hello(context: dg.OpExecutionContext) -> str:
    ...     context.log.info("hello")
    ...     return "hi"
    >>> @dg.job
    ... def greet():
    ...     hello()
    >>> greet.execute_in_process().success
    True
    """

    def decorate(f: Callable[..., Any]) -> JobDefinition:
        return GraphDefinition(f, name=name or f.__name__, description=description).to_job(
            name or f.__name__,
            config=config,
            resource_defs=resource_defs,
            tags=tags,
            description=description,
            executor_def=executor_def,
            run_retry_policy=run_retry_policy,
        )

    return decorate(fn) if fn is not None else decorate
