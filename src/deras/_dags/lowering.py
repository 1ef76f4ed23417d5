"""Lowering a DAG's tasks to the graph nodes assets use too."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from .._core import tags as deras_tags
from .._defs.retry import Backoff, RetryPolicy
from .._graph.node import Node, NodeKind, NodeOutput


def lower_dag(dag: Any) -> list[Node]:
    """One ``Node`` per task; upstream tasks become order dependencies.

    Data (TaskFlow return values) moves through the XCom store at run time, so every edge
    is an order edge here; the node keeps the operator as its definition.
    """
    nodes = []
    for task in dag.task_dict.values():
        nodes.append(
            Node(
                id=task.graph_node_id,
                kind=NodeKind.TASK,
                fn=None,
                definition=task,
                outputs=[NodeOutput(key.to_user_string(), key) for key in task.outlets],
                deps=[f"{dag.dag_id}.{up}" for up in sorted(task.upstream_task_ids)],
                retry_policy=_retry_policy(task),
                timeout=_seconds(task.execution_timeout),
                pool=task.pool,
                tags={deras_tags.DAG_ID: dag.dag_id},
                group=task.task_group.group_id if task.task_group is not None else None,
                trigger_rule=task.trigger_rule,
                stores_output=True,
                callbacks={
                    name: _one_callback(cb)
                    for name, cb in (
                        ("on_failure", task.on_failure_callback),
                        ("on_success", task.on_success_callback),
                        ("on_retry", task.on_retry_callback),
                        ("on_execute", task.on_execute_callback),
                        ("on_skipped", task.on_skipped_callback),
                    )
                    if cb
                },
            )
        )
    return nodes


def _one_callback(callback: Any) -> Any:
    """A callback, or Airflow's list of them: called in order with the context."""
    if not isinstance(callback, list | tuple):
        return callback
    callbacks = list(callback)

    def each(context: Any) -> None:
        for cb in callbacks:
            cb(context)

    return each


def _retry_policy(task: Any) -> RetryPolicy | None:
    if not task.retries:
        return None
    return RetryPolicy(
        max_retries=task.retries,
        delay=_seconds(task.retry_delay) or 0,
        backoff=Backoff.EXPONENTIAL if task.retry_exponential_backoff else None,
        max_delay=_seconds(task.max_retry_delay),
    )


def _seconds(value: timedelta | float | None) -> float | None:
    if value is None:
        return None
    return value.total_seconds() if isinstance(value, timedelta) else float(value)
