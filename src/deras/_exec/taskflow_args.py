"""Turning a TaskFlow call's XComArgs (and a mapped task's element) into real arguments."""

from __future__ import annotations

import itertools
from typing import Any

from .step_scope import StepScope
from .step_types import StepSpec


def resolve_call(scope: StepScope, spec: StepSpec, op: Any, context: dict[str, Any]) -> None:
    """Put the resolved positional and keyword arguments in the context for ``op.execute``."""
    from .._dags.taskflow import DecoratedOperator, resolve_xcom_args
    from .task_step import pull

    if not isinstance(op, DecoratedOperator):
        return
    dag_id = op.dag.dag_id

    def get(arg: Any) -> Any:
        return pull(scope, spec, dag_id, arg.operator.task_id, arg.key)

    context["_resolved_args"] = resolve_xcom_args(op.op_args, get)
    kwargs = resolve_xcom_args(op.op_kwargs, get)
    if op.expand_kwargs is not None:
        for name, value in expansion(scope, spec, op).items():
            kwargs[name] = value[spec.map_index]
    context["_resolved_kwargs"] = kwargs


def expansion(scope: StepScope, spec: StepSpec, op: Any) -> dict[str, list[Any]]:
    """The lists a mapped task maps over; one instance per element (several lists: their product).

    ``spec`` says which upstream tasks succeeded and how many instances mapped upstream had.
    """
    from .._dags.taskflow import resolve_xcom_args
    from .task_step import pull

    dag_id = op.dag.dag_id
    lists = {
        name: list(resolve_xcom_args(value, lambda a: pull(scope, spec, dag_id, a.operator.task_id, a.key)))
        for name, value in op.expand_kwargs.items()
    }
    if len(lists) <= 1:
        return lists
    names = list(lists)
    combos = list(itertools.product(*(lists[n] for n in names)))
    return {n: [c[i] for c in combos] for i, n in enumerate(names)}
