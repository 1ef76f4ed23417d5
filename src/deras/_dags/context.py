"""Which DAG (and task group) operators created right now belong to; which task runs now."""

from __future__ import annotations

from contextvars import ContextVar
from typing import Any

Context = dict[str, Any]
"""The type of a task's context (``def run(**context: Context)``), as Airflow names it."""

current_dag: ContextVar[Any] = ContextVar("deras_current_dag", default=None)
current_group: ContextVar[Any] = ContextVar("deras_current_task_group", default=None)
# The context of the task running in this thread (None between tasks): get_current_context().
current_task_context: ContextVar[dict[str, Any] | None] = ContextVar("deras_task_context", default=None)


def get_current_context() -> dict[str, Any]:
    """The running task's context (``ti``, ``ds``, ``logical_date``, ``params``, ``dag_run``...).

    For code deep inside a task that was not handed the context; outside a running task it
    raises ``DerasError``.

    >>> # @dg.task
    >>> # def load():
    >>> #     ds = dg.get_current_context()["ds"]
    """
    from .._core.errors import DerasError

    context = current_task_context.get()
    if context is None:
        raise DerasError(
            "get_current_context() was called outside a running task: call it from inside a task's "
            "code while the task runs (not when the DAG is defined)"
        )
    return context
