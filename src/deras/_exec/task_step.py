"""One attempt of a DAG task: its context, templated fields, XCom in and out, outlets, branching."""

from __future__ import annotations

import copy
from typing import Any

from .._core.events import EventType
from .._core.status import NodeStatus
from .._graph.node import Node
from .run_state import RunState


class TaskInstanceHandle:
    """``ti`` in a task's context: who it is, and its XComs.

    >>> # ti.xcom_push("rows", 3); ti.xcom_pull(task_ids="extract")
    """

    def __init__(self, state: RunState, node: Node, try_number: int, map_index: int) -> None:
        self._state = state
        self._node = node
        self.task_id: str = node.definition.task_id
        self.dag_id: str = node.definition.dag.dag_id
        self.run_id = state.run_id
        self.try_number = try_number
        self.map_index = map_index

    def xcom_push(self, key: str, value: Any) -> None:
        _put(self._state, self._node, self.task_id, key, self.map_index, value)

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
            return pull(self._state, self.dag_id, task_ids, key, map_indexes)
        return [pull(self._state, self.dag_id, t, key, map_indexes) for t in task_ids]

    def __repr__(self) -> str:
        return f"<TaskInstance {self.dag_id}.{self.task_id} run={self.run_id} try={self.try_number}>"


def pull(
    state: RunState, dag_id: str, task_id: str, key: str = "return_value", map_index: int | None = None
) -> Any:
    node_id = f"{dag_id}.{task_id}"
    count = state.map_counts.get(node_id)
    if count is not None and map_index is None:  # a mapped task: every instance's value, in order
        return [_get(state, dag_id, task_id, key, i) for i in range(count)]
    return _get(state, dag_id, task_id, key, -1 if map_index is None else map_index)


def _get(state: RunState, dag_id: str, task_id: str, key: str, map_index: int) -> Any:
    cache_key = (f"{dag_id}.{task_id}", key, map_index)
    if cache_key in state.xcom_cache:
        return state.xcom_cache[cache_key]
    try:
        return state.instance.xcom_store.get(dag_id, state.run_id, task_id, key, map_index)
    except KeyError:
        # An upstream that failed or was skipped left nothing: a task that runs anyway (all_done,
        # one_failed...) gets None for it, as Airflow's xcom_pull gives. A succeeded one must have it.
        name = f"{dag_id}.{task_id}" + (f"[{map_index}]" if map_index >= 0 else "")
        if state.outcomes.get(name, state.outcomes.get(f"{dag_id}.{task_id}")) == NodeStatus.SUCCESS:
            raise
        return None


def _put(state: RunState, node: Node, task_id: str, key: str, map_index: int, value: Any) -> None:
    dag_id = node.definition.dag.dag_id
    state.xcom_cache[(f"{dag_id}.{task_id}", key, map_index)] = value
    state.instance.xcom_store.put(
        dag_id,
        state.run_id,
        task_id,
        key,
        map_index,
        value,
        defer=lambda write: state.events.defer_write(state.run_id, node.id, f"xcom {task_id}.{key}", write),
    )


def task_context(state: RunState, node: Node, attempt: int, map_index: int) -> dict[str, Any]:
    from .templating import template_context

    info = state.dag_run
    ti = TaskInstanceHandle(state, node, attempt + 1, map_index)
    context = template_context(
        logical_date=info.logical_date,
        data_interval_start=info.data_interval_start,
        data_interval_end=info.data_interval_end,
        run_id=state.run_id,
        dag_id=info.dag_id,
        task_id=ti.task_id,
        params=info.params,
        conf=info.conf,
        ti=ti,
        try_number=attempt + 1,
        map_index=map_index,
    )
    context["log"] = state.log
    return context


def run_task_attempt(
    state: RunState, node: Node, attempt: int, map_index: int, context: dict[str, Any]
) -> Any:
    """Execute the operator with templated fields and resolved arguments; store its XCom."""
    from .taskflow_args import resolve_call
    from .templating import render_template

    op = node.definition
    if op.template_fields:
        op = copy.copy(op)  # render on a copy: the DAG's own task keeps its templates
        for name in op.template_fields:
            value = getattr(op, name, None)
            if value is not None:
                setattr(op, name, render_template(value, context, where=f"task '{op.task_id}' {name}"))
    resolve_call(state, op, context, map_index)
    result = op.execute(context)
    _put(state, node, op.task_id, "return_value", map_index, result)
    if getattr(op, "is_branch", False):
        chosen = [result] if isinstance(result, str) else list(result or [])
        unknown = [t for t in chosen if t not in op.downstream_task_ids]
        if unknown:
            raise ValueError(
                f"branch task '{op.task_id}' returned {unknown}, which are not its direct downstream tasks "
                f"({sorted(op.downstream_task_ids)})"
            )
        state.branch_follow[node.id] = set(chosen)
    for key in op.outlets:
        state.events.add(
            state.run_id,
            EventType.ASSET_MATERIALIZATION,
            node.id,
            attempt,
            f"materialized {key} (outlet of task {op.task_id})",
            data={"asset_key": key.to_user_string(), "metadata": {"task": node.id}},
        )
    return result
