"""One attempt of a DAG task: its context, templated fields, XCom in and out, outlets, branching."""

from __future__ import annotations

import copy
import functools
from typing import Any

from .._core.events import EventType
from .._graph.node import Node
from .step_scope import StepScope
from .step_types import StepSpec


class TaskInstanceHandle:
    """``ti`` in a task's context: who it is, and its XComs.

    >>> # ti.xcom_push("rows", 3); ti.xcom_pull(task_ids="extract")
    """

    def __init__(self, scope: StepScope, spec: StepSpec, node: Node) -> None:
        self._scope = scope
        self._spec = spec
        self._node = node
        self.task_id: str = node.definition.task_id
        self.dag_id: str = node.definition.dag.dag_id
        self.run_id = scope.run_id
        self.try_number = spec.attempt + 1
        self.map_index = spec.map_index

    def xcom_push(self, key: str, value: Any) -> None:
        _put(self._scope, self._node, self.task_id, key, self.map_index, value)

    def xcom_pull(
        self,
        task_ids: str | list[str] | None = None,
        key: str = "return_value",
        map_indexes: int | None = None,
    ) -> Any:
        """One task id gives its value (a list for a mapped task); a list of ids, a list."""
        if task_ids is None:
            task_ids = sorted(self._node.definition.upstream_task_ids)
            if len(task_ids) == 1:
                task_ids = task_ids[0]
        if isinstance(task_ids, str):
            return pull(self._scope, self._spec, self.dag_id, task_ids, key, map_indexes)
        return [pull(self._scope, self._spec, self.dag_id, t, key, map_indexes) for t in task_ids]

    def __repr__(self) -> str:
        return f"<TaskInstance {self.dag_id}.{self.task_id} run={self.run_id} try={self.try_number}>"


def pull(
    scope: StepScope,
    spec: StepSpec,
    dag_id: str,
    task_id: str,
    key: str = "return_value",
    map_index: int | None = None,
) -> Any:
    node_id = f"{dag_id}.{task_id}"
    count = spec.map_counts.get(node_id)
    if count is not None and map_index is None:  # a mapped task: every instance's value, in order
        return [_get(scope, spec, dag_id, task_id, key, i) for i in range(count)]
    return _get(scope, spec, dag_id, task_id, key, -1 if map_index is None else map_index)


def _get(scope: StepScope, spec: StepSpec, dag_id: str, task_id: str, key: str, map_index: int) -> Any:
    cache_key = (f"{dag_id}.{task_id}", key, map_index)
    if cache_key in scope.xcom_cache:
        return scope.xcom_cache[cache_key]
    try:
        return scope.instance.xcom_store.get(dag_id, scope.run_id, task_id, key, map_index)
    except KeyError:
        # An upstream that failed or was skipped left nothing: a task that runs anyway (all_done,
        # one_failed...) gets None for it, as Airflow's xcom_pull gives. A succeeded one must have it.
        if f"{dag_id}.{task_id}" in spec.succeeded_upstream:
            raise
        return None


def _put(scope: StepScope, node: Node, task_id: str, key: str, map_index: int, value: Any) -> None:
    dag_id = node.definition.dag.dag_id
    scope.xcom_cache[(f"{dag_id}.{task_id}", key, map_index)] = value
    scope.instance.xcom_store.put(dag_id, scope.run_id, task_id, key, map_index, value)


def _followed(op: Any, returned: list[str]) -> frozenset[str]:
    """The task ids a branch follows: a task group's id stands for its tasks right after the
    branch, as in Airflow."""
    out: set[str] = set()
    for task_id in returned:
        inside = [t for t in op.downstream_task_ids if t.startswith(f"{task_id}.")]
        out.update(inside if task_id not in op.downstream_task_ids and inside else [task_id])
    return frozenset(out)


def _put_each_key(scope: StepScope, node: Node, task_id: str, map_index: int, result: Any) -> None:
    """``multiple_outputs``: each key of the returned dict is an XCom of its own, as in Airflow."""
    if not isinstance(result, dict):
        raise TypeError(
            f"task '{task_id}' has multiple_outputs=True (or a dict return annotation) but returned "
            f"{type(result).__name__}, not a dict"
        )
    for key, value in result.items():
        if not isinstance(key, str):
            raise TypeError(
                f"task '{task_id}' has multiple_outputs=True: its keys must be strings, not {key!r}"
            )
        _put(scope, node, task_id, key, map_index, value)


def task_context(scope: StepScope, spec: StepSpec, node: Node) -> dict[str, Any]:
    from .template_variables import TemplateVariables
    from .templating import template_context

    info = scope.dag_run
    assert info is not None, "a task runs in a DAG run"
    ti = TaskInstanceHandle(scope, spec, node)
    context = template_context(
        logical_date=info.logical_date,
        data_interval_start=info.data_interval_start,
        data_interval_end=info.data_interval_end,
        run_id=scope.run_id,
        dag_id=info.dag_id,
        task_id=ti.task_id,
        params=info.params,
        conf=info.conf,
        ti=ti,
        try_number=spec.attempt + 1,
        map_index=spec.map_index,
    )
    context["log"] = scope.log
    context["var"] = TemplateVariables(scope.instance.store.variables)
    # A DAG's user_defined_macros are top-level template variables, as in Airflow.
    context.update(node.definition.dag.user_defined_macros)
    return context


def run_task_attempt(
    scope: StepScope, spec: StepSpec, node: Node, context: dict[str, Any]
) -> frozenset[str] | None:
    """Execute the operator with templated fields and resolved arguments; store its XCom.

    Returns the task ids a branch task chose (None for any other task).
    """
    from .._dags.context import current_task_context
    from .._dags.taskflow import DecoratedBashOperator
    from .taskflow_args import resolve_call
    from .templating import render_template

    op = node.definition
    filters = op.dag.user_defined_filters
    if op.template_fields:
        op = copy.copy(op)  # render on a copy: the DAG's own task keeps its templates
        for name in op.template_fields:
            value = getattr(op, name, None)
            if value is not None:
                rendered = render_template(
                    value,
                    context,
                    where=f"task '{op.task_id}' {name}",
                    filters=filters,
                    native=op.dag.render_template_as_native_obj,
                )
                setattr(op, name, rendered)
    resolve_call(scope, spec, op, context)
    if isinstance(op, DecoratedBashOperator):  # its command is known only once its function ran
        context["_render"] = functools.partial(
            render_template, context=context, where=f"task '{op.task_id}' bash command", filters=filters
        )
    token = current_task_context.set({k: v for k, v in context.items() if not k.startswith("_")})
    try:
        result = op.execute(context)
    finally:
        current_task_context.reset(token)
    if op.do_xcom_push:
        _put(scope, node, op.task_id, "return_value", spec.map_index, result)
        if getattr(op, "multiple_outputs", False):
            _put_each_key(scope, node, op.task_id, spec.map_index, result)
    chosen: frozenset[str] | None = None
    if getattr(op, "is_short_circuit", False):
        # A falsy result follows none of the downstream tasks (a truthy one: all of them).
        chosen = None if result else frozenset()
    elif getattr(op, "is_branch", False):
        chosen = _followed(op, [result] if isinstance(result, str) else list(result or []))
        unknown = sorted(t for t in chosen if t not in op.downstream_task_ids)
        if unknown:
            raise ValueError(
                f"branch task '{op.task_id}' returned {unknown}, which are not its direct downstream tasks "
                f"({sorted(op.downstream_task_ids)})"
            )
    for key in op.outlets:
        scope.events.add(
            scope.run_id,
            EventType.ASSET_MATERIALIZATION,
            node.id,
            spec.attempt,
            f"materialized {key} (outlet of task {op.task_id})",
            data={"asset_key": key.to_user_string(), "metadata": {"task": node.id}},
        )
    return chosen
